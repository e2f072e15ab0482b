"""What the feeds and the cluster record, shown: the podcast's page, text-only episodes, chapters,
and the admin page's report and transcription jobs."""

from __future__ import annotations

from starlette.testclient import TestClient

from poddarkiv.archive.knowledge import save_publisher_chapters
from poddarkiv.archive.models import Chapter
from poddarkiv.archive.store import Catalogue
from poddarkiv.sample import SAMPLE_EPISODES
from tests.site.conftest import ADMIN_TOKEN
from tests.site.html_probe import parse
from tests.site.site_archive import FAILED_AT, FEED_ID, HOSTILE_ID, record_history

FIRST = SAMPLE_EPISODES[0].slug
SECOND = SAMPLE_EPISODES[1].slug
BEARER = {"authorization": f"Bearer {ADMIN_TOKEN}"}


def test_podcast_json_has_the_feed_record_and_waiting_episodes(client: TestClient,
                                                              catalogue: Catalogue) -> None:
    record_history(catalogue)
    data = client.get(f"/poddar/{FEED_ID}.json").json()
    podcast = data["podcast"]
    assert podcast["image"] == "https://example.org/omslag.jpg"
    assert podcast["item_count"] == 7 and podcast["text_only_count"] == 1
    assert podcast["previous_urls"] == ["https://old.example.org/feed.xml"]  # unsafe: dropped
    assert podcast["skipped_count"] == 3 and podcast["skipped"][0]["reason"].startswith("no audio")
    assert podcast["problems"] == ["ignored enclosure length 'lots'"]
    assert data["failure_count"] == 2
    soonest, waits = data["failures"]
    assert (soonest["episode_id"], soonest["count"], soonest["retry_at"]) == (
        FIRST, 3, FAILED_AT.isoformat())
    assert waits["retry_at"] is None and waits["error"] == "not audio"


def test_podcast_page_shows_the_feed_record(client: TestClient, catalogue: Catalogue) -> None:
    record_history(catalogue)
    page = parse(client.get(f"/poddar/{FEED_ID}").text)
    assert page.find("a", cls="cover-link").attrs["href"] == "https://example.org/omslag.jpg"
    assert not page.find_all("img")  # no request to the feed's host (security.CSP)
    assert "old.example.org" in page.find("ol", cls="previous-urls").text
    assert "Trailer" in page.find("ul", cls="skipped").text
    problems = page.find("details", cls="feed-problems")
    assert "Problem med flödet" in problems.find("summary").text
    failures = page.find("ul", cls="failures")
    assert failures.find("time").attrs["datetime"] == FAILED_AT.isoformat()
    assert "12 mars 2026 kl. 14:05 UTC" in failures.text and "HTTP 404" in failures.text
    assert "Endast text" in page.find("ul", cls="episode-list").text
    english = parse(client.get(f"/poddar/{FEED_ID}", params={"lang": "en"}).text)
    assert "Feed problems" in english.find("details", cls="feed-problems").text


def test_a_podcast_without_a_record_shows_only_its_text_only_count(client: TestClient) -> None:
    section = parse(client.get(f"/poddar/{FEED_ID}").text).find("section", cls="feed-record")
    assert "1 avsnitt finns endast som text" in section.text  # the hostile sample episode
    assert not section.find_all("details") and not section.find_all("ul", cls="failures")


def test_text_only_episode_has_a_badge_and_no_player(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{HOSTILE_ID}.json", params={"t": "12"}).json()
    assert data["episode"]["text_only"] is True
    assert data["t"] is None and data["citation"]["time"] is None
    assert "?t=" not in data["citation"]["url"]
    html = client.get(f"/avsnitt/{HOSTILE_ID}", params={"t": "12"}).text
    page = parse(html)
    assert page.find("strong", cls="badge").text == "Endast text"
    assert not page.find_all("audio") and not page.find_all("section", cls="player")
    assert not [a for a in page.find("main").find_all("a") if "?t=" in a.attrs.get("href", "")]
    english = parse(client.get(f"/avsnitt/{HOSTILE_ID}", params={"lang": "en"}).text)
    assert english.find("strong", cls="badge").text == "Text only"


def test_an_episode_with_audio_is_not_text_only(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{FIRST}.json").json()
    assert data["episode"]["text_only"] is False and data["episode"]["image"] is None
    assert parse(client.get(f"/avsnitt/{FIRST}").text).find("audio", id="player")


def test_episode_image_is_linked_not_loaded(client: TestClient, catalogue: Catalogue) -> None:
    episode = catalogue.episode(FIRST)
    assert episode is not None
    catalogue.save_episode(episode.replace(image="https://example.org/bild.png"))
    assert client.get(f"/avsnitt/{FIRST}.json").json()["episode"]["image"] == (
        "https://example.org/bild.png")
    page = parse(client.get(f"/avsnitt/{FIRST}").text)
    assert page.find("a", cls="cover-link").attrs["href"] == "https://example.org/bild.png"
    assert not page.find("main").find_all("img")


def test_publisher_chapters_render_and_seek_only_with_audio(client: TestClient,
                                                            catalogue: Catalogue) -> None:
    chapters = (Chapter(0.0, "Inledning"), Chapter(12.5, "Upphandling"))
    save_publisher_chapters(catalogue, FIRST, chapters)
    save_publisher_chapters(catalogue, HOSTILE_ID, chapters)
    listed = client.get(f"/avsnitt/{FIRST}.json").json()["knowledge"]["chapters"]
    assert [(c["title"], c["url"]) for c in listed] == [
        ("Inledning", f"/avsnitt/{FIRST}?t=0#t-0"),
        ("Upphandling", f"/avsnitt/{FIRST}?t=12.5#t-12.5")]
    page = parse(client.get(f"/avsnitt/{FIRST}").text)
    assert "Upphandling" in page.find("ol", cls="chapters").text
    assert page.find("ol", cls="chapters").find("a", cls="time")
    text_only = parse(client.get(f"/avsnitt/{HOSTILE_ID}").text).find("ol", cls="chapters")
    assert "Upphandling" in text_only.text and not text_only.find_all("a")


def test_admin_shows_the_report_per_feed_and_the_waiting_episodes(
        client: TestClient, catalogue: Catalogue) -> None:
    record_history(catalogue)
    data = client.get("/admin.json", headers=BEARER).json()
    assert data["waiting"] == 4
    row = data["report_feeds"][0]
    assert row["title"].startswith("Konkurrenten")
    assert (row["items"], row["skipped_count"], len(row["problems"])) == (7, 3, 1)
    page = parse(client.get("/admin", headers=BEARER).text)
    table = page.find("table", cls="report-feeds")
    assert "ignored enclosure length" in table.text and "Trailer" in table.text
    assert "4 avsnitt väntar" in page.find("main").text


def test_admin_shows_transcription_jobs_per_worker_and_failures(
        client: TestClient, catalogue: Catalogue) -> None:
    assert client.get("/admin.json", headers=BEARER).json()["jobs"] is None  # never used
    record_history(catalogue)
    jobs = client.get("/admin.json", headers=BEARER).json()["jobs"]
    assert jobs["total"] == {"queued": 1, "running": 0, "done": 1, "failed": 1}
    assert [w["worker"] for w in jobs["workers"]] == ["", "gpu0@box"]
    assert [j["error"] for j in jobs["recent_failures"]] == ["CUDA out of memory"]
    page = parse(client.get("/admin", headers=BEARER).text)
    assert "Transkriberingsjobb" in page.find("h2", id="jobs-h").text
    assert "gpu0@box" in page.find("table", cls="jobs-table").text
    assert "CUDA out of memory" in page.find("ul", cls="job-failures").text
