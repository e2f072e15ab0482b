"""A saved search as a feed: ``/sok.rss`` and ``/sok.atom`` list new matching passages."""

from __future__ import annotations

import io

import feedparser
from starlette.testclient import TestClient

from tests.site.html_probe import parse


def _parse(body: bytes) -> feedparser.FeedParserDict:
    return feedparser.parse(io.BytesIO(body))


def test_rss_lists_matching_passages_newest_first_each_at_its_moment(client: TestClient) -> None:
    response = client.get("/sok.rss", params={"q": "upphandling"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/rss+xml")
    feed = _parse(response.content)
    assert not feed.bozo and "upphandling" in feed.feed.title
    assert feed.entries
    dates = [e.published_parsed for e in feed.entries]
    assert dates == sorted(dates, reverse=True)
    spoken = [e for e in feed.entries if "?t=" in e.link]
    assert spoken
    for entry in spoken:
        path = entry.link.removeprefix("http://testserver")
        data = client.get(path.replace("?", ".json?", 1)).json()
        marked = data["segments"][data["current"]]
        assert marked["start"] == data["t"]  # the link lands on the passage itself


def test_atom_has_the_same_entries(client: TestClient) -> None:
    rss = _parse(client.get("/sok.rss", params={"q": "upphandling"}).content)
    atom = client.get("/sok.atom", params={"q": "upphandling"})
    assert atom.headers["content-type"].startswith("application/atom+xml")
    parsed = _parse(atom.content)
    assert not parsed.bozo and parsed.version == "atom10"
    assert [e.link for e in parsed.entries] == [e.link for e in rss.entries]


def test_the_feed_keeps_filters_and_needs_a_query(client: TestClient) -> None:
    assert client.get("/sok.rss").status_code == 400
    none = _parse(client.get("/sok.rss", params={"q": "upphandling",
                                                 "podcast": "okand"}).content)
    assert none.entries == []


def test_the_feed_answers_304_to_its_etag(client: TestClient) -> None:
    first = client.get("/sok.rss", params={"q": "upphandling"})
    again = client.get("/sok.rss", params={"q": "upphandling"},
                       headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 304


def test_results_page_offers_to_follow_the_search(client: TestClient) -> None:
    data = client.get("/sok.json", params={"q": "upphandling", "page": "1"}).json()
    assert data["feeds"]["rss"] == "/sok.rss?q=upphandling"
    assert data["feeds"]["atom"] == "/sok.atom?q=upphandling"
    html = parse(client.get("/sok", params={"q": "upphandling"}).text)
    watch = html.find("p", cls="watch").find("a")
    assert watch.text == "Bevaka sökningen" and watch.attrs["href"] == "/sok.rss?q=upphandling"
    assert html.find("link", rel="alternate", type="application/rss+xml")
    assert client.get("/sok.json").json()["feeds"] is None
