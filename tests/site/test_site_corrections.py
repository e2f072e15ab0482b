"""Corrections by people in the browser: the admin corrects a passage (CSRF, a note, limits),
the page marks it in words, the history shows who/when/why, search and downloads follow."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.corrections import (
    MAX_TEXT_CHARS,
    corrections,
    reapply_corrections,
    record_reapplied,
)
from poddarkiv.archive.models import Segment
from poddarkiv.archive.store import Catalogue
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.sample import SAMPLE_EPISODES
from tests.site.conftest import ADMIN_TOKEN
from tests.site.html_probe import Element, parse

EPISODE = SAMPLE_EPISODES[1].slug  # a Whisper transcript
#: A word no sample script has: finding it proves the episode was indexed again.
NEW_WORD = "rättelseordet"
FIXED = f"Tjänster av allmänt ekonomiskt intresse, {NEW_WORD}."


def _sign_in(client: TestClient) -> None:
    response = client.post("/admin/logga-in", data={"token": ADMIN_TOKEN},
                           follow_redirects=False)
    assert response.status_code == 303


def _passage(client: TestClient, pos: int = 1) -> dict[str, object]:
    segment: dict[str, object] = client.get(f"/avsnitt/{EPISODE}.json").json()["segments"][pos]
    return segment


def _form(client: TestClient, start: object) -> Element:
    response = client.get(f"/avsnitt/{EPISODE}/ratta", params={"t": start})
    assert response.status_code == 200, response.text
    return parse(response.text).find("form", cls="correction-form")


def _fields(form: Element, **changes: str) -> dict[str, str]:
    fields = {i.attrs["name"]: i.attrs.get("value", "") for i in form.find_all("input")}
    fields["text"] = form.find("textarea").text
    return {**fields, **changes}


def _correct(client: TestClient, pos: int = 1, **changes: str):  # type: ignore[no-untyped-def]
    form = _form(client, _passage(client, pos)["start"])
    return client.post(form.attrs["action"], data=_fields(form, **changes),
                       follow_redirects=False)


def test_only_a_signed_in_admin_gets_the_form_and_the_links(client: TestClient) -> None:
    start = _passage(client)["start"]
    refused = client.get(f"/avsnitt/{EPISODE}/ratta", params={"t": start})
    assert refused.status_code == 403
    assert parse(refused.text).find("input", id="token").attrs["type"] == "password"
    assert client.post(f"/avsnitt/{EPISODE}/ratta",
                       data={"t": str(start), "text": "x", "note": "y"}).status_code == 403
    assert not parse(client.get(f"/avsnitt/{EPISODE}").text).find_all("a", cls="correct-link")
    _sign_in(client)
    page = client.get(f"/avsnitt/{EPISODE}")
    links = parse(page.text).find_all("a", cls="correct-link")
    assert len(links) == len(client.get(f"/avsnitt/{EPISODE}.json").json()["segments"])
    assert links[1].attrs["href"] == f"/avsnitt/{EPISODE}/ratta?t={start}"
    assert page.headers["cache-control"].startswith("private")
    form = _form(client, start)
    assert form.find("textarea").text == _passage(client)["text"]
    assert "required" in form.find("input", id="note").attrs


def test_a_correction_needs_the_csrf_token_a_text_and_a_note(client: TestClient,
                                                             catalogue: Catalogue) -> None:
    _sign_in(client)
    assert _correct(client, csrf="forged", text=FIXED, note="hörfel").status_code == 403
    empty = _correct(client, text="   ", note="hörfel")
    assert empty.status_code == 400 and "Skriv den rättade texten" in empty.text
    no_note = _correct(client, text=FIXED, note="")
    assert no_note.status_code == 400
    assert FIXED in parse(no_note.text).find("textarea").text  # what was typed is kept
    too_long = _correct(client, text="x" * (MAX_TEXT_CHARS + 1), note="hörfel")
    assert too_long.status_code in (400, 413)
    assert corrections(catalogue, EPISODE) == []
    assert client.post(f"/avsnitt/{EPISODE}/ratta", data={"t": "999", "text": FIXED,
                       "note": "x"}, headers={"authorization": f"Bearer {ADMIN_TOKEN}"}
                       ).status_code == 404


def test_a_correction_shows_marked_in_history_json_search_and_downloads(
        client: TestClient) -> None:
    _sign_in(client)
    before = client.get(f"/avsnitt/{EPISODE}.json").json()
    saved = _correct(client, text=FIXED, note="hörfel: SGEI", editor="Anna")
    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/avsnitt/{EPISODE}/rattelser?sparad=")
    assert "Rättelsen är sparad" in client.get(saved.headers["location"]).text

    after = client.get(f"/avsnitt/{EPISODE}.json").json()
    # Same passages at the same moments: permalinks and ?t= links keep working.
    assert [s["start"] for s in after["segments"]] == [s["start"] for s in before["segments"]]
    assert [s["corrected"] for s in after["segments"]][:3] == [False, True, False]
    assert after["segments"][1]["text"] == FIXED
    assert after["transcript"]["revision"] != before["transcript"]["revision"]
    [made] = after["corrections"]
    assert (made["editor"], made["note"], made["text"]) == ("Anna", "hörfel: SGEI", FIXED)
    assert made["original"] == before["segments"][1]["text"]

    start = after["segments"][1]["start"]
    page = parse(client.get(f"/avsnitt/{EPISODE}", params={"t": start}).text)
    item = page.find("li", id=f"t-{start}")
    assert "corrected" in item.classes and "current" in item.classes
    mark = item.find("a", cls="corrected-mark")
    assert mark.text == "rättad"  # words, not colour alone
    assert mark.attrs["href"] == f"/avsnitt/{EPISODE}/rattelser#rattelse-{made['id']}"
    assert page.find("a", href=f"/avsnitt/{EPISODE}/rattelser")

    history = parse(client.get(f"/avsnitt/{EPISODE}/rattelser").text)
    entry = history.find("ol", cls="corrections")
    assert "Anna" in entry.text and "hörfel: SGEI" in entry.text
    assert entry.find("del").text == made["original"] and entry.find("ins").text == FIXED
    assert client.get(f"/avsnitt/{EPISODE}/rattelser.json").json()["corrections"] == [made]

    hits = client.get("/sok.json", params={"q": NEW_WORD}).json()["hits"]
    assert [h["episode_id"] for h in hits] == [EPISODE]
    assert hits[0]["passages"][0]["start"] == start
    assert NEW_WORD in client.get(f"/avsnitt/{EPISODE}/transkript.vtt").text
    txt = client.get(f"/avsnitt/{EPISODE}/transkript.txt").text
    assert NEW_WORD in txt
    # The file says people corrected it, and where the history is.
    assert f"1 rättelse av en person: http://testserver/avsnitt/{EPISODE}/rattelser" in txt
    rss = client.get("/poddar/konkurrenten/rss.xml").text
    assert f"/avsnitt/{EPISODE}/transkript.vtt" in rss  # the re-published feed links the file


def test_the_pages_speak_english_too(client: TestClient) -> None:
    _sign_in(client)
    form = client.get(f"/avsnitt/{EPISODE}/ratta",
                      params={"t": _passage(client)["start"], "lang": "en"}).text
    assert "Correct the passage at" in form and "What changed, and why" in form
    assert _correct(client, text=FIXED, note="misheard").status_code == 303
    page = parse(client.get(f"/avsnitt/{EPISODE}", params={"lang": "en"}).text)
    assert page.find("a", cls="corrected-mark").text == "corrected"
    assert page.find_all("a", cls="correct-link")[0].text == "Correct"
    assert "1 correction by a person." in page.find("p", cls="corrections-note").text
    history = client.get(f"/avsnitt/{EPISODE}/rattelser", params={"lang": "en"}).text
    assert "Before" in history and "After" in history and "by redaktör" in history


def test_a_running_ingest_keeps_the_correction_waiting_and_loses_nothing(
        client: TestClient, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("poddarkiv.site.corrections_views.LOCK_WAIT_S", 0.0)
    _sign_in(client)
    with ingest_lock(catalogue.data.ingest_lock):
        busy = _correct(client, text=FIXED, note="hörfel")
    assert busy.status_code == 409
    assert "En hämtning eller omtranskribering pågår" in busy.text
    again = parse(busy.text).find("form", cls="correction-form")
    assert again.find("textarea").text == FIXED
    assert again.find("input", id="note").attrs["value"] == "hörfel"
    assert corrections(catalogue, EPISODE) == []
    assert client.post(again.attrs["action"], data=_fields(again),
                       follow_redirects=False).status_code == 303
    assert _passage(client)["text"] == FIXED


def test_a_form_from_an_older_revision_is_sent_back(client: TestClient) -> None:
    _sign_in(client)
    form = _form(client, _passage(client)["start"])
    assert _correct(client, pos=2, text="Något annat.", note="först").status_code == 303
    stale = client.post(form.attrs["action"], data=_fields(form, text=FIXED, note="sen"),
                        follow_redirects=False)
    assert stale.status_code == 409 and "har ändrats" in stale.text
    assert parse(stale.text).find("textarea").text == FIXED


def test_the_admin_page_lists_corrections_that_need_a_look(client: TestClient,
                                                           catalogue: Catalogue) -> None:
    _sign_in(client)
    assert _correct(client, text=FIXED, note="hörfel").status_code == 303
    current = catalogue.transcript(EPISODE)
    assert current is not None
    corrected = current.segments[1]
    # A new model cuts the passage differently: one segment crosses the corrected span's end.
    fresh, applied = reapply_corrections(catalogue, current.replace(segments=(
        *current.segments[:1],
        Segment(corrected.start, corrected.end + 2.0, "Tjänster av allmänt intresse, så"),
        *[s for s in current.segments[2:] if s.start >= corrected.end + 2.0])))
    record_reapplied(catalogue, applied, catalogue.save_transcript(fresh).id)

    admin = client.get("/admin")
    [item] = parse(admin.text).find("ul", cls="corrections-to-check").find_all("li")
    assert "Tjänster av allmänt intresse, så" in item.text
    data = client.get("/admin.json").json()["corrections_to_check"]
    assert data[0]["conflict"] == "boundary" and data[0]["text"] == FIXED
    csrf = parse(admin.text).find("input", type="hidden", name="csrf").attrs["value"]
    assert client.post(data[0]["resolve_url"], data={"csrf": "forged"}).status_code == 403
    resolved = client.post(data[0]["resolve_url"], data={"csrf": csrf}, follow_redirects=False)
    assert resolved.status_code == 303
    assert client.get("/admin.json").json()["corrections_to_check"] == []


def test_corrections_are_off_without_an_admin_token(tmp_path: Path,
                                                   catalogue: Catalogue) -> None:
    from poddarkiv.config import Settings
    from poddarkiv.site.app import create_app

    app = create_app(Settings(data_dir=catalogue.data.root), catalogue=catalogue, index=None)
    with TestClient(app) as client:
        assert client.get(f"/avsnitt/{EPISODE}/ratta", params={"t": "0"}).status_code == 404
        assert client.post(f"/avsnitt/{EPISODE}/ratta", data={"t": "0"}).status_code == 404
        assert client.get(f"/avsnitt/{EPISODE}/rattelser.json").json()["corrections"] == []


def test_the_bearer_token_corrects_without_a_session(client: TestClient,
                                                     catalogue: Catalogue) -> None:
    start = _passage(client)["start"]
    saved = client.post(f"/avsnitt/{EPISODE}/ratta", data={"t": str(start), "text": FIXED,
                        "note": "via API"}, headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
                        follow_redirects=False)
    assert saved.status_code == 303
    [made] = corrections(catalogue, EPISODE)
    assert (made.editor, made.note, made.text) == ("redaktör", "via API", FIXED)


def test_a_failed_index_update_is_said_and_the_correction_kept(
        client: TestClient, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.errors import IndexError_

    def broken(*args: object, **kwargs: object) -> None:
        raise IndexError_("the search index is busy with another writer")

    monkeypatch.setattr("poddarkiv.site.corrections_views.reindex_episode", broken)
    _sign_in(client)
    saved = _correct(client, text=FIXED, note="hörfel")
    assert saved.status_code == 303 and "index=0" in saved.headers["location"]
    assert "poddarkiv reindex" in client.get(saved.headers["location"]).text
    assert _passage(client)["text"] == FIXED


def test_openapi_describes_the_history_twin(client: TestClient) -> None:
    assert "/avsnitt/{episode_id}/rattelser.json" in client.get("/openapi.json").json()["paths"]
