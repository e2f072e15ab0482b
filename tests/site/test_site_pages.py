"""The site's pages: each answers HTML and a .json twin holding what the page shows."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.sample import SAMPLE_EPISODES
from poddarkiv.site.app import create_app
from tests.site.html_probe import parse
from tests.site.site_archive import FEED_ID, HOSTILE_ID

FIRST = SAMPLE_EPISODES[0].slug  # has the publisher's transcript


@pytest.mark.parametrize("path", [
    "/", "/sok?q=partnerskap", f"/avsnitt/{FIRST}", "/poddar", f"/poddar/{FEED_ID}", "/hjalp",
    "/om",
])
def test_every_page_has_a_json_twin_linked_from_its_head(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    twin_href = parse(page.text).find("link", rel="alternate", type="application/json")
    twin = client.get(twin_href.attrs["href"])
    assert twin.status_code == 200
    assert twin.headers["content-type"] == "application/json"


def test_home_lists_the_latest_episodes_newest_first(client: TestClient) -> None:
    data = client.get("/index.json").json()
    titles = [e["title"] for e in data["episodes"]]
    assert titles[:4] == [e.title for e in reversed(SAMPLE_EPISODES)]
    assert data["episode_count"] == 5 and data["podcast_count"] == 1
    html = parse(client.get("/").text)
    assert next(a.text for a in html.find("ul", cls="episode-list").find_all("a")) == titles[0]


def test_search_finds_timestamped_passages_that_link_to_their_moment(client: TestClient) -> None:
    data = client.get("/sok.json", params={"q": "upphandling"}).json()
    assert data["total_episodes"] >= 1
    hit = next(h for h in data["hits"] if h["episode_id"] == FIRST)
    passage = hit["passages"][0]
    seconds = int(passage["start"])
    assert passage["url"] == f"/avsnitt/{FIRST}?t={seconds}#t-{seconds}"
    assert "<mark>" in passage["snippet_html"].lower() or "<b" in passage["snippet_html"]


def test_search_page_shows_hits_with_time_links_and_highlight(client: TestClient) -> None:
    html = parse(client.get("/sok", params={"q": "partnerskap"}).text)
    hits = html.find_all("li", cls="hit")
    assert len(hits) >= 3
    time_link = hits[0].find("a", cls="time")
    assert "?t=" in time_link.attrs["href"] and ":" in time_link.text
    assert hits[0].find("span", cls="snippet").find_all("mark")
    assert html.find("input", id="q").attrs["value"] == "partnerskap"


def test_search_filters_and_sort_are_echoed_and_clamped(client: TestClient) -> None:
    data = client.get("/sok.json", params={
        "q": "kommun", "sort": "newest", "page": "999999", "per_page": "-4",
        "from": "2025-01-01", "podcast": FEED_ID}).json()
    assert data["query"]["sort"] == "newest"
    assert data["query"]["date_from"] == "2025-01-01"
    assert all(h["published"] >= "2025-01-01" for h in data["hits"])
    assert data["query"]["per_page"] >= 1


def test_misspelt_search_suggests_a_word_from_the_archive(client: TestClient) -> None:
    data = client.get("/sok.json", params={"q": "upphandlnig"}).json()
    assert data["suggestion"] == "upphandling"
    assert data["suggestion_url"] == "/sok?q=upphandling"
    html = parse(client.get("/sok", params={"q": "upphandlnig"}).text)
    assert html.find("a", href="/sok?q=upphandling").text == "upphandling"


def test_empty_search_shows_the_form_without_searching(client: TestClient) -> None:
    data = client.get("/sok.json").json()
    assert data["hits"] == [] and data["error"] is None
    assert [p["id"] for p in data["podcasts"]] == [FEED_ID]


def test_podcast_pages_list_feeds_and_episodes(client: TestClient) -> None:
    podcasts = client.get("/poddar.json").json()["podcasts"]
    assert podcasts[0]["episode_count"] == 5
    assert podcasts[0]["rss"] == f"/poddar/{FEED_ID}/rss.xml"
    one = client.get(f"/poddar/{FEED_ID}.json").json()
    assert one["podcast"]["id"] == FEED_ID and len(one["episodes"]) == 5
    assert client.get("/poddar/okand.json").status_code == 404


def test_unknown_pages_are_friendly_404s_in_html_and_json(client: TestClient) -> None:
    page = client.get("/finns/inte")
    assert page.status_code == 404
    assert parse(page.text).find("h1").text == "Sidan finns inte"
    assert client.get("/avsnitt/okant.json").json() == {"error": 404, "detail": "Not Found"}


def test_show_notes_are_shown_as_the_text_they_are_stored_as(client: TestClient) -> None:
    """Ingest turns a feed's HTML into text once; the page shows that text, never parses it
    again as HTML (an escaped ``&lt;b&gt;`` in a feed must not come out bold)."""
    page = client.get(f"/avsnitt/{HOSTILE_ID}")
    assert page.status_code == 200
    assert "<script" not in page.text.split("<body>")[1].split('<script src="/static')[0]
    assert 'href="javascript:' not in page.text and "<img" not in page.text
    notes = parse(page.text).find("div", cls="shownotes")
    assert notes.find_all("a") == [] and notes.find_all("b") == []
    assert "&lt;script&gt;" in page.text  # markup-looking text is escaped text
    assert "&lt;med&gt;" in page.text  # the title is escaped, not markup
    assert client.get(f"/avsnitt/{HOSTILE_ID}.json").json()["episode"]["link"] is None


def test_openapi_describes_every_json_twin(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for twin in ("/index.json", "/sok.json", "/avsnitt/{episode_id}.json", "/poddar.json",
                 "/poddar/{feed_id}.json", "/hjalp.json", "/om.json"):
        assert twin in paths
    assert "/teman.json" in paths  # the themes pages join in


def test_the_app_opens_the_data_directory_itself(catalogue: Catalogue) -> None:
    app = create_app(Settings(data_dir=catalogue.data.root))
    with TestClient(app) as client:
        assert len(client.get("/index.json").json()["episodes"]) == 5
        assert client.get("/sok.json", params={"q": "iop"}).json()["total_episodes"] == 0
