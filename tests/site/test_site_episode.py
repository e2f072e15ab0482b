"""The episode page: player at ?t=, linkable segments, citation, ETag, audio ranges, files."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.knowledge import analyse_episode
from poddarkiv.archive.models import EpisodeNote, Segment, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.sample import SAMPLE_EPISODES
from poddarkiv.site import urls
from poddarkiv.site.episode_views import parse_time
from tests.site.html_probe import parse

FIRST = SAMPLE_EPISODES[0]  # publisher transcript
SECOND = SAMPLE_EPISODES[1]  # Whisper transcript


def test_episode_json_has_transcript_segments_with_time_links(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{FIRST.slug}.json").json()
    assert data["episode"]["title"] == FIRST.title
    segments = data["segments"]
    assert len(segments) > 3
    assert segments[0]["anchor"] == "t-0"
    start = f'{segments[1]["start"]:.3f}'.rstrip("0").rstrip(".")
    assert segments[1]["url"] == f"/avsnitt/{FIRST.slug}?t={start}#t-{start}"
    assert data["transcript"]["source"] == "publisher"
    assert set(data["transcript"]["downloads"]) == {"txt", "vtt", "srt", "json"}


def test_t_starts_the_player_there_and_marks_the_segment(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "12"}).json()
    current = data["segments"][data["current"]]
    assert current["start"] <= 12 < data["segments"][data["current"] + 1]["start"]
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", params={"t": "12"}).text)
    assert html.find("audio", id="player").attrs["src"].endswith("/ljud#t=12.0")
    marked = html.find("li", cls="current")
    assert marked.attrs["aria-current"] == "true"
    assert marked.attrs["data-start"] == str(current["start"])


def test_every_segment_is_an_anchor_and_a_link(client: TestClient) -> None:
    html = parse(client.get(f"/avsnitt/{SECOND.slug}").text)
    items = html.find("ol", id="transcript").find_all("li")
    assert len(items) > 3
    for li in items:
        start = li.attrs["data-start"].rstrip("0").rstrip(".") if "." in li.attrs[
            "data-start"] else li.attrs["data-start"]
        assert li.attrs["id"] == f"t-{start}"
        assert li.find("a", cls="time").attrs["href"].endswith(f"?t={start}#t-{start}")


def test_bad_times_are_clamped_never_errors(client: TestClient) -> None:
    for raw in ("-5", "abc", "nan", "1e308", "9" * 500, "1:02:03", "12:34"):
        page = client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": raw})
        assert page.status_code == 200, raw
        t = page.json()["t"]
        assert t is None or 0 <= t <= 31  # the episode lasts 31 s
    assert client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "0:12"}).json()["t"] == 12
    assert parse_time("1:02") == 62 and parse_time("1m2s") == 62 and parse_time("1e9") is None
    assert parse_time("9" * 500, limit=31) == 31


def test_a_time_past_the_end_is_clamped_to_the_episode(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "99"}).json()
    assert data["t"] == 31 and data["citation"]["time"] == "0:31"
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", params={"t": "1e9"}).text)
    assert "24:00:00" not in html.find("main").text


def test_citation_names_podcast_episode_date_time_url_and_source(client: TestClient) -> None:
    cite = client.get(f"/avsnitt/{SECOND.slug}.json", params={"t": "75"}).json()["citation"]
    assert cite["episode"] == SECOND.title
    assert cite["published"] == SECOND.published.date().isoformat()
    assert cite["time"] == "0:31" and cite["seconds"] == 31
    assert cite["url"] == f"http://testserver/avsnitt/{SECOND.slug}?t=31"  # clamped to its end
    assert "faster-whisper" in cite["source"] and "base" in cite["source"]
    assert cite["podcast"] in cite["text"] and cite["url"] in cite["text"]
    english = client.get(f"/avsnitt/{FIRST.slug}.json", params={"lang": "en"}).json()
    assert english["citation"]["source"].startswith("Publisher's transcript")


def test_episode_page_answers_304_to_its_etag(client: TestClient) -> None:
    first = client.get(f"/avsnitt/{FIRST.slug}")
    etag = first.headers["etag"]
    again = client.get(f"/avsnitt/{FIRST.slug}", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    other_language = client.get(f"/avsnitt/{FIRST.slug}",
                                headers={"if-none-match": etag, "accept-language": "en"})
    assert other_language.status_code == 200


def test_audio_supports_range_requests(client: TestClient) -> None:
    whole = client.get(f"/avsnitt/{FIRST.slug}/ljud")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"] == "audio/mpeg"
    part = client.get(f"/avsnitt/{FIRST.slug}/ljud", headers={"range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(whole.content)}"
    assert part.content == whole.content[100:200]


def test_an_episode_without_audio_has_no_player_and_no_audio_url(client: TestClient) -> None:
    assert client.get("/avsnitt/fientlig/ljud").status_code == 404
    html = parse(client.get("/avsnitt/fientlig").text)
    assert not html.find_all("audio")


def test_transcript_downloads_in_four_formats(client: TestClient) -> None:
    base = f"/avsnitt/{SECOND.slug}/transkript"
    vtt = client.get(f"{base}.vtt")
    assert vtt.headers["content-type"].startswith("text/vtt")
    assert vtt.text.startswith("WEBVTT") and "-->" in vtt.text
    assert "-->" in client.get(f"{base}.srt").text
    assert client.get(f"{base}.json").json()["segments"]
    assert "kommun" in client.get(f"{base}.txt").text.lower()
    assert client.get(f"{base}.exe").status_code == 404
    assert client.get("/avsnitt/fientlig/transkript.vtt").status_code == 404


def test_chapters_are_podcasting_2_json(client: TestClient) -> None:
    body = client.get(f"/avsnitt/{SECOND.slug}/kapitel.json")
    assert body.headers["content-type"].startswith("application/json+chapters")
    chapters = body.json()
    assert chapters["version"] == "1.2.0"
    assert chapters["chapters"][0]["startTime"] == 0


def test_time_links_survive_re_transcription(client: TestClient, catalogue: Catalogue) -> None:
    before = client.get(f"/avsnitt/{SECOND.slug}.json", params={"t": "13"}).json()
    old = before["segments"][before["current"]]["text"]
    # A new transcript with other boundaries: one segment every 3 s.
    segments = tuple(Segment(start=3.0 * i, end=3.0 * i + 2.9, text=f"ny del {i}")
                     for i in range(10))
    catalogue.save_transcript(Transcript(episode_id=SECOND.slug, source="whisper",
                                         language="sv", segments=segments,
                                         engine="openai-whisper", model="base",
                                         created=datetime(2026, 1, 1, tzinfo=UTC)))
    after = client.get(f"/avsnitt/{SECOND.slug}.json", params={"t": "13"}).json()
    current = after["segments"][after["current"]]
    assert current["text"] == "ny del 4" != old
    assert current["start"] <= 13 < current["end"] + 0.2
    assert "openai-whisper" in after["citation"]["source"]


def test_a_passage_link_opens_that_passage_not_the_one_before(client: TestClient) -> None:
    """Issue 15 #2: ``?t=13`` marked the passage before one starting at 13.797 s."""
    segments = client.get(f"/avsnitt/{SECOND.slug}.json").json()["segments"]
    target = next(i for i, s in enumerate(segments) if s["start"] != int(s["start"]))
    url = segments[target]["url"]
    data = client.get(url.split("#")[0].replace(f"/avsnitt/{SECOND.slug}",
                                                f"/avsnitt/{SECOND.slug}.json")).json()
    assert data["current"] == target and data["t"] == segments[target]["start"]
    html = parse(client.get(url.split("#")[0]).text)
    marked = html.find("li", cls="current")
    assert marked.attrs["id"] == url.split("#")[1]


def test_citation_quotes_the_words_and_says_when_it_was_read(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.site import episode_views

    monkeypatch.setattr(episode_views, "today", lambda: date(2026, 3, 4))
    data = client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "12"}).json()
    cite = data["citation"]
    said = data["segments"][data["current"]]["text"]
    assert cite["quote"] == said and f"”{said}”" in cite["text"]
    assert cite["accessed"] == "2026-03-04" and "Hämtad 4 mars 2026." in cite["text"]
    # The publisher's transcript is named as such; its raw file URL is not a source to cite.
    assert cite["source"] == "Utgivarens transkription" and "iop.vtt" not in cite["text"]
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", params={"t": "12"}).text)
    assert html.find("dd", id="cite-quote").text == said


def test_search_inside_the_episode_works_without_javascript(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{SECOND.slug}.json", params={"i": "kommun"}).json()
    find = data["find"]
    assert find["q"] == "kommun" and find["total"] >= 1
    first = find["passages"][0]
    assert "kommun" in first["text"].lower() and "<mark>" in first["text_html"]
    assert f"?i=kommun&t={urls.seconds(first['start'])}#t-" in first["url"]
    html = parse(client.get(f"/avsnitt/{SECOND.slug}", params={"i": "kommun"}).text)
    form = html.find("form", id="sok-i-avsnittet")
    assert form.attrs["method"] == "get" and form.find("input", name="i").attrs["value"] == "kommun"
    assert html.find("ol", cls="find-passages").find_all("mark")
    none = client.get(f"/avsnitt/{SECOND.slug}.json", params={"i": "zzzxq"}).json()["find"]
    assert none["total"] == 0
    assert client.get(f"/avsnitt/{SECOND.slug}.json").json()["find"] is None


def test_description_and_chapters_come_before_the_transcript(client: TestClient) -> None:
    text = client.get(f"/avsnitt/{SECOND.slug}").text
    assert text.index('id="notes-h"') < text.index('id="transcript-h"')
    assert text.index('id="player-h"') < text.index('id="notes-h"')


def test_player_controls_are_there_for_the_script_to_show(client: TestClient) -> None:
    html = parse(client.get(f"/avsnitt/{SECOND.slug}").text)
    controls = html.find("div", id="player-controls")
    assert "hidden" in controls.attrs  # shown by player.js; without it they would do nothing
    assert [b.attrs["data-skip"] for b in controls.find_all("button")] == ["-15", "15"]
    assert html.find("select", id="speed")
    assert html.find("button", id="follow-resume").text == "Tillbaka till uppspelningen"


def test_downloads_are_named_by_title_and_say_where_they_came_from(client: TestClient) -> None:
    vtt = client.get(f"/avsnitt/{SECOND.slug}/transkript.vtt")
    disposition = vtt.headers["content-disposition"]
    assert disposition.startswith("attachment; filename=\"konkurrenten")
    assert "filename*=UTF-8''" in disposition and SECOND.slug not in disposition
    assert vtt.text.startswith("WEBVTT\n\nNOTE\n")
    assert f"http://testserver/avsnitt/{SECOND.slug}" in vtt.text
    assert "faster-whisper" in vtt.text.split("\n\n")[1]
    assert SECOND.title in client.get(f"/avsnitt/{SECOND.slug}/transkript.txt").text


def test_a_shared_moment_has_a_preview(client: TestClient) -> None:
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", params={"t": "12"}).text)
    og = {m.attrs["property"]: m.attrs["content"] for m in html.find_all("meta")
          if "property" in m.attrs}
    assert og["og:type"] == "article" and og["og:title"] == FIRST.title
    assert og["og:url"] == f"http://testserver/avsnitt/{FIRST.slug}?t=12"
    assert og["og:description"].startswith("0:12: ”")
    assert html.find("link", rel="canonical").attrs["href"] == og["og:url"]


def test_saved_audio_is_named_by_podcast_and_title(client: TestClient) -> None:
    audio = client.get(f"/avsnitt/{SECOND.slug}/ljud", headers={"range": "bytes=0-9"})
    disposition = audio.headers["content-disposition"]
    assert disposition.startswith('inline; filename="konkurrenten') and ".mp3" in disposition


def test_search_inside_an_episode_matches_words_as_the_archive_search_does() -> None:
    from poddarkiv.archive.models import Segment
    from poddarkiv.site.episode_search import find_in_episode

    segments = (Segment(0.0, 4.0, "De nya reglerna gäller <nu>."),
                Segment(4.0, 8.0, "Det är fråga om statsstöd."),
                Segment(8.0, 12.0, "Ingenting här."))
    found = find_in_episode("ep", segments, "regel")
    assert found is not None and [p["segment"] for p in found["passages"]] == [0]
    assert found["passages"][0]["text_html"] == \
        "De nya <mark>reglerna</mark> gäller &lt;nu&gt;."
    stod = find_in_episode("ep", segments, "stöd")
    assert stod is not None and [p["segment"] for p in stod["passages"]] == [1]
    both = find_in_episode("ep", segments, "regel stöd")
    assert both is not None and both["total"] == 0  # every word, in one passage


def test_the_episode_s_knowledge_follows_a_new_analysis_at_once(
        client: TestClient, catalogue: Catalogue) -> None:
    def key_terms() -> list[str]:
        data = client.get(f"/avsnitt/{SECOND.slug}.json").json()
        return [k["term"] for k in data["knowledge"]["key_terms"]]

    before = key_terms()
    assert key_terms() == before  # kept: the catalogue has not changed
    episode = catalogue.episode(SECOND.slug)
    assert episode is not None
    transcript = Transcript(SECOND.slug, "whisper", "sv", tuple(
        Segment(5.0 * i, 5.0 * i + 5.0, "Sjöräddningssällskapet räddar sjöräddningssällskapet.")
        for i in range(4)), created=datetime(2026, 2, 1, tzinfo=UTC))
    catalogue.save_transcript(transcript)
    analyse_episode(catalogue, episode, transcript)
    after = key_terms()
    assert after != before and any("sjöräddning" in term for term in after)


def test_speakers_named_by_the_publisher_are_shown_and_cited(
        client: TestClient, catalogue: Catalogue) -> None:
    segments = (Segment(0.0, 4.0, "Välkomna till avsnittet.", speaker="Karin Ek"),
                Segment(4.0, 8.0, "Idag om partnerskap.", speaker="Karin Ek"),
                Segment(8.0, 12.0, "Tack för att jag fick komma.", speaker="Johan Berg"),
                Segment(12.0, 16.0, "Utan namn."))
    catalogue.save_transcript(Transcript(FIRST.slug, "publisher", "sv", segments,
                                         created=datetime(2026, 2, 1, tzinfo=UTC)))
    html = parse(client.get(f"/avsnitt/{FIRST.slug}").text)
    items = html.find("ol", id="transcript").find_all("li")
    shown = [[b.text for b in li.find_all("b", cls="speaker")] for li in items]
    assert shown == [["Karin Ek:"], [], ["Johan Berg:"], []]  # where the voice changes
    data = client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "9"}).json()
    assert data["segments"][2]["speaker"] == "Johan Berg"
    cite = data["citation"]
    assert cite["speaker"] == "Johan Berg"
    assert cite["text"].startswith("Johan Berg: ”Tack för att jag fick komma.”")
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", params={"t": "9"}).text)
    assert "Johan Berg" in html.find("section", cls="citation").text
    assert client.get(f"/avsnitt/{FIRST.slug}.json", params={"t": "13"}).json()[
        "citation"]["speaker"] is None


FALLBACK = EpisodeNote.of(
    "publisher_transcript_unusable", urls="http://example.invalid/t.vtt",
    reason="HTTP 404 Not Found")
GUARD = EpisodeNote.of("guard_credit", start=65.0, end=67.5, text="Textning.nu")


def _with_notes(catalogue: Catalogue, *notes: EpisodeNote) -> None:
    catalogue.save_transcript(Transcript(FIRST.slug, "whisper", "sv",
                                         (Segment(0.0, 4.0, "Välkomna."),), notes=notes,
                                         created=datetime(2026, 2, 2, tzinfo=UTC)))


def _note_items(client: TestClient, lang: str = "sv") -> list[tuple[str, str | None]]:
    """Each item of the transcript's notes: its text and its lang attribute."""
    html = parse(client.get(f"/avsnitt/{FIRST.slug}", headers={"accept-language": lang}).text)
    box = html.find("div", cls="transcript-notes")
    return [(" ".join(li.text.split()), li.attrs.get("lang")) for li in box.find_all("li")]


def test_what_to_know_about_a_transcript_is_said_in_the_readers_language(
        client: TestClient, catalogue: Catalogue) -> None:
    _with_notes(catalogue, FALLBACK, GUARD)
    assert _note_items(client) == [
        ("Utgivarens transkription kunde inte användas (http://example.invalid/t.vtt), så "
         "Whisper transkriberade avsnittet. Orsak: HTTP 404 Not Found", None),
        ("Mellan 1:05 och 1:07 togs en textningsrad bort som Whisper hittat på: ”Textning.nu”.",
         None)]
    html = parse(client.get(f"/avsnitt/{FIRST.slug}").text)
    reason = html.find("div", cls="transcript-notes").find("span")
    assert reason.text == "HTTP 404 Not Found" and reason.attrs.get("lang") == "en"
    english = _note_items(client, "en")
    assert english[0][0].startswith("The publisher's transcript could not be used")
    assert english[1][0].startswith("Between 1:05 and 1:07, a subtitle credit Whisper made up")
    data = client.get(f"/avsnitt/{FIRST.slug}.json").json()
    assert data["transcript"]["notes"] == [  # codes in the twin, as stored
        {"code": "publisher_transcript_unusable", "urls": "http://example.invalid/t.vtt",
         "reason": "HTTP 404 Not Found"},
        {"code": "guard_credit", "start": 65.0, "end": 67.5, "text": "Textning.nu"}]
    assert [n["message"] for n in data["transcript_notes"]] == [
        "Utgivarens transkription kunde inte användas (http://example.invalid/t.vtt), så "
        "Whisper transkriberade avsnittet.",
        "Mellan 1:05 och 1:07 togs en textningsrad bort som Whisper hittat på: ”Textning.nu”."]


def test_notes_stored_as_sentences_before_notes_had_codes_are_said_like_new_ones(
        client: TestClient, catalogue: Catalogue) -> None:
    """An old sentence ingest wrote is read back as its code (archive.legacy_notes) and said
    in the reader's language; one it does not recognise is shown as written, marked English."""
    old = ("the publisher's transcript could not be used, so Whisper transcribed it "
           "(http://example.invalid/t.vtt): HTTP 404 Not Found")
    odd = "a note no release of poddarkiv wrote"
    _with_notes(catalogue)
    info = catalogue.transcript_info(FIRST.slug)
    assert info is not None
    path = catalogue.data.root / info.path
    stored = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**stored, "notes": [old, odd]}), "utf-8")  # an older release
    assert _note_items(client) == [
        ("Utgivarens transkription kunde inte användas (http://example.invalid/t.vtt), så "
         "Whisper transkriberade avsnittet. Orsak: HTTP 404 Not Found", None), (odd, "en")]
    assert _note_items(client, "en")[1] == (odd, "en")
    data = client.get(f"/avsnitt/{FIRST.slug}.json").json()
    assert data["transcript"]["notes"] == [
        {"code": "publisher_transcript_unusable", "urls": "http://example.invalid/t.vtt",
         "reason": "HTTP 404 Not Found"}, {"code": "text", "text": odd}]
    assert "About this transcript" in parse(client.get(
        f"/avsnitt/{FIRST.slug}", headers={"accept-language": "en"}).text).find(
        "div", cls="transcript-notes").text
