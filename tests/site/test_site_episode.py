"""The episode page: player at ?t=, linkable segments, citation, ETag, audio ranges, files."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.testclient import TestClient

from poddarkiv.archive.models import Segment, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.sample import SAMPLE_EPISODES
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
    assert parse_time("1:02") == 62 and parse_time("1e9") == 24 * 3600


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
