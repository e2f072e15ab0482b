"""Podcast and episode images from the site itself: /poddar/{id}/bild, /avsnitt/{id}/bild, and
<img> only when a copy is kept."""

from __future__ import annotations

import re

import pytest
from httpx import Response
from starlette.testclient import TestClient

from poddarkiv.archive.artwork import save_artwork, save_image
from poddarkiv.archive.store import Catalogue
from poddarkiv.site import urls
from poddarkiv.site.security import CSP
from tests.images import JPEG, PNG
from tests.site.site_archive import FEED_ID, HOSTILE_ID

IMG = re.compile(r'<img class="cover" src="([^"]+)" alt="" width="56" height="56" '
                 r'loading="lazy" decoding="async">')


@pytest.fixture(autouse=True)
def publisher_image(catalogue: Catalogue) -> str:
    """The sample podcast names an image at its publisher's."""
    feed = catalogue.feed(FEED_ID)
    assert feed is not None
    catalogue.save_feed(feed.replace(image="https://example.org/omslag.png"))
    return "https://example.org/omslag.png"


@pytest.fixture
def kept(catalogue: Catalogue) -> bytes:
    """The sample podcast's image, kept by the archive."""
    save_artwork(catalogue.data, FEED_ID, PNG, source_url="https://example.org/omslag.png",
                 sha256="ab" * 32)
    return PNG


def served(client: TestClient, url: str, content: bytes, media_type: str) -> Response:
    """``url`` answers with ``content`` as the archive serves a kept image: its type, no
    sniffing, cached, the site's CSP, and 304 to its own ETag."""
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.content == content
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in response.headers["cache-control"]
    assert response.headers["content-security-policy"] == CSP
    again = client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content
    return response


def test_the_route_serves_the_copy(client: TestClient, kept: bytes) -> None:
    served(client, urls.artwork(FEED_ID), kept, "image/png")


@pytest.mark.parametrize("feed_id", [FEED_ID, "okand", "..", "a.b"])
def test_no_copy_is_a_404(client: TestClient, feed_id: str) -> None:
    assert client.get(urls.artwork(feed_id)).status_code == 404


def test_a_copy_without_its_file_is_a_404(client: TestClient, catalogue: Catalogue,
                                          kept: bytes) -> None:
    (catalogue.data.artwork / f"{FEED_ID}.png").unlink()
    assert client.get(urls.artwork(FEED_ID)).status_code == 404
    assert not IMG.search(client.get(urls.podcast(FEED_ID)).text)


def _pages(client: TestClient) -> dict[str, str]:
    return {"podcast": client.get(urls.podcast(FEED_ID)).text,
            "search": client.get(urls.search({"q": "fint"})).text,
            "home": client.get(urls.home()).text}


def test_pages_show_no_image_without_a_copy(client: TestClient) -> None:
    for name, html in _pages(client).items():
        assert "<img" not in html, name
    podcast = client.get(urls.podcast(FEED_ID, json=True)).json()["podcast"]
    assert podcast["artwork_url"] is None
    assert podcast["image"] == "https://example.org/omslag.png"  # the publisher's, linked


def test_pages_show_the_copy_when_kept(client: TestClient, kept: bytes) -> None:
    for name, html in _pages(client).items():
        found = IMG.findall(html)
        assert found and set(found) == {urls.artwork(FEED_ID)}, name
    assert 'class="cover-link"' in _pages(client)["podcast"]  # the publisher's link stays
    podcast = client.get(urls.podcast(FEED_ID, json=True)).json()["podcast"]
    assert podcast["artwork_url"] == urls.artwork(FEED_ID)
    (hit, *_) = client.get(urls.search({"q": "fint"}, json=True)).json()["hits"]
    assert hit["feed_artwork_url"] == urls.artwork(FEED_ID)
    (latest, *_) = client.get(urls.home(json=True)).json()["episodes"]
    assert latest["feed_artwork_url"] == urls.artwork(FEED_ID)


EPISODE_IMAGE = "https://example.org/avsnitt-bild.png"
EPISODE_IMG = re.compile(r'<img class="cover episode-cover" src="([^"]+)" alt="" width="96" '
                         r'height="96" loading="lazy" decoding="async">')


@pytest.fixture
def an_episode(catalogue: Catalogue) -> str:
    """An episode of the sample podcast that names an image of its own."""
    episode = next(e for e in catalogue.episodes() if e.enclosure is not None)
    catalogue.save_episode(episode.replace(image=EPISODE_IMAGE))
    return episode.id


@pytest.fixture
def kept_episode_image(catalogue: Catalogue, an_episode: str) -> bytes:
    """The episode's image, kept by the archive under its URL."""
    save_image(catalogue.data, EPISODE_IMAGE, JPEG, sha256="cd" * 32)
    return JPEG


def test_the_episode_route_serves_its_copy(client: TestClient, an_episode: str,
                                           kept_episode_image: bytes) -> None:
    response = served(client, urls.episode_artwork(an_episode), kept_episode_image, "image/jpeg")
    assert response.headers["etag"] == f'"{"cd" * 16}"'


@pytest.mark.parametrize("episode_id", ["okand", "..", HOSTILE_ID])
def test_no_episode_copy_is_a_404(client: TestClient, an_episode: str,
                                  kept_episode_image: bytes, episode_id: str) -> None:
    assert client.get(urls.episode_artwork(episode_id)).status_code == 404


def test_an_episode_naming_the_podcasts_image_is_served_the_podcasts_copy(
        client: TestClient, catalogue: Catalogue, an_episode: str, kept: bytes,
        publisher_image: str) -> None:
    _names_image(catalogue, an_episode, publisher_image)
    response = client.get(urls.episode_artwork(an_episode))
    assert response.status_code == 200 and response.content == kept


def _names_image(catalogue: Catalogue, episode_id: str, url: str) -> None:
    """The episode now names ``url`` as its image (as a feed update would)."""
    episode = catalogue.episode(episode_id)
    assert episode is not None
    catalogue.save_episode(episode.replace(image=url))


def _episode_page(client: TestClient, episode_id: str) -> tuple[list[str], dict[str, object]]:
    html = client.get(urls.episode(episode_id)).text
    assert 'class="cover-link"' in html  # the publisher's link stays
    data = client.get(urls.episode(episode_id, json=True)).json()["episode"]
    return EPISODE_IMG.findall(html), data


def test_the_episode_page_shows_no_image_without_a_copy(client: TestClient,
                                                         an_episode: str) -> None:
    found, data = _episode_page(client, an_episode)
    assert found == [] and data["artwork_url"] is None and data["feed_artwork_url"] is None


def test_the_episode_page_falls_back_to_the_podcasts_copy(client: TestClient, an_episode: str,
                                                          kept: bytes) -> None:
    found, data = _episode_page(client, an_episode)
    assert found == [urls.artwork(FEED_ID)] and data["artwork_url"] is None


def test_the_episode_page_shows_its_own_copy(client: TestClient, an_episode: str, kept: bytes,
                                             kept_episode_image: bytes) -> None:
    found, data = _episode_page(client, an_episode)
    assert found == [urls.episode_artwork(an_episode)]
    assert data["artwork_url"] == urls.episode_artwork(an_episode)


def test_a_copy_kept_later_changes_the_episode_pages_etag(
        client: TestClient, catalogue: Catalogue, an_episode: str) -> None:
    before = client.get(urls.episode(an_episode)).headers["etag"]
    save_image(catalogue.data, EPISODE_IMAGE, JPEG, sha256="cd" * 32)
    assert client.get(urls.episode(an_episode)).headers["etag"] != before


def _listed(client: TestClient, episode_id: str) -> dict[str, dict[str, object]]:
    """The episode as each page that lists it says it: search card, home, the podcast's
    page, its own page."""
    hits = client.get(urls.search({"q": "fint"}, json=True)).json()["hits"]
    latest = client.get(urls.home(json=True)).json()["episodes"]
    listed = client.get(urls.podcast(FEED_ID, json=True)).json()["episodes"]
    return {"search": next(h for h in hits if h["episode_id"] == episode_id),
            "home": next(e for e in latest if e["id"] == episode_id),
            "podcast": next(e for e in listed if e["id"] == episode_id),
            "episode": client.get(urls.episode(episode_id, json=True)).json()["episode"]}


@pytest.fixture
def a_hit(client: TestClient, catalogue: Catalogue) -> str:
    """An episode the search for "fint" finds, naming an image of its own."""
    (hit, *_) = client.get(urls.search({"q": "fint"}, json=True)).json()["hits"]
    episode = catalogue.episode(hit["episode_id"])
    assert episode is not None
    catalogue.save_episode(episode.replace(image=EPISODE_IMAGE))
    return episode.id


def test_search_cards_and_lists_show_the_episodes_own_image(
        client: TestClient, catalogue: Catalogue, kept: bytes, a_hit: str) -> None:
    save_image(catalogue.data, EPISODE_IMAGE, JPEG, sha256="cd" * 32)
    for page, listed in _listed(client, a_hit).items():
        assert listed["artwork_url"] == urls.episode_artwork(a_hit), page
        if page != "podcast":  # its page shows the podcast's image once, at the top
            assert listed["feed_artwork_url"] == urls.artwork(FEED_ID), page
    pages = _pages(client)
    assert IMG.findall(pages["search"]) == [urls.episode_artwork(a_hit)]
    home = IMG.findall(pages["home"])
    assert urls.episode_artwork(a_hit) in home and urls.artwork(FEED_ID) in home  # the others
    assert IMG.findall(pages["podcast"]) == [urls.artwork(FEED_ID), urls.episode_artwork(a_hit)]


def test_cards_fall_back_to_the_podcasts_image(client: TestClient, kept: bytes,
                                               a_hit: str) -> None:
    for page, listed in _listed(client, a_hit).items():
        assert listed["artwork_url"] is None, page  # its own image is not kept (yet)
        if page != "podcast":
            assert listed["feed_artwork_url"] == urls.artwork(FEED_ID), page
    found = IMG.findall(_pages(client)["search"])
    assert found and set(found) == {urls.artwork(FEED_ID)}


def test_an_episode_naming_the_podcasts_image_is_shown_at_the_podcasts_url(
        client: TestClient, catalogue: Catalogue, kept: bytes, a_hit: str,
        publisher_image: str) -> None:
    """One URL for one image: the browser fetches the podcast's copy once for all of them."""
    _names_image(catalogue, a_hit, publisher_image)
    for page, listed in _listed(client, a_hit).items():
        assert listed["artwork_url"] == urls.artwork(FEED_ID), page
    assert EPISODE_IMG.findall(client.get(urls.episode(a_hit)).text) == [urls.artwork(FEED_ID)]
    for name, html in _pages(client).items():  # the site's own paths, never the publisher's
        assert all(src.startswith("/") for src in IMG.findall(html)), name
