"""EpisodeImages and the ingest run: an episode's image kept once per URL, never at the cost of
the episode, and within a bounded number of requests per run."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.artwork import EPISODE_FOLDER, episode_artwork, image_tried, stored_image
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Feed
from poddarkiv.archive.store import Catalogue, DataDir, open_catalogue
from poddarkiv.config import Settings
from poddarkiv.ingest.artwork import ARTWORK_MAX_BYTES, EpisodeImages
from poddarkiv.ingest.pipeline import IngestReport, ingest
from tests.httpserver import LoopbackServer, conditional, reply
from tests.images import HTML, PNG, SVG

SETTINGS = Settings(allow_private=True)


FEED = Feed(id="f1", url="https://example.invalid/feed.xml", image="http://feed.invalid/c.png")


def episode(n: int, image: str | None) -> Episode:
    return Episode(id=f"e{n}", feed_id="f1", guid=f"g{n}", title=f"Avsnitt {n}", image=image)


def test_a_shared_url_is_fetched_once(http_server: LoopbackServer, client: httpx.Client,
                                      data: DataDir) -> None:
    url = http_server.route("/shared.png", reply(PNG, content_type="image/png"))
    images = EpisodeImages(client, data, SETTINGS)
    assert [images.keep(episode(n, url), FEED) for n in range(3)] == [None] * 3
    assert EpisodeImages(client, data, SETTINGS).keep(episode(4, url), FEED) is None  # next run
    assert http_server.count("/shared.png") == 1
    assert stored_image(data, url) is not None


def test_the_feeds_own_image_is_not_fetched(http_server: LoopbackServer, client: httpx.Client,
                                            data: DataDir) -> None:
    url = http_server.route("/cover.png", reply(PNG, content_type="image/png"))
    feed = FEED.replace(image=url)
    images = EpisodeImages(client, data, SETTINGS)
    assert images.keep(episode(1, url), feed) is None
    assert images.catch_up(episode(2, url), feed) is None
    assert http_server.count("/cover.png") == 0 and stored_image(data, url) is None


@pytest.mark.parametrize(("body", "status", "media_type", "says"), [
    (HTML, 404, "text/html", "404"),
    (HTML, 200, "text/html", "not a JPEG, PNG or WebP"),
    (SVG, 200, "image/svg+xml", "not a JPEG, PNG or WebP"),
    (PNG + bytes(ARTWORK_MAX_BYTES), 200, "image/png", "cap"),
], ids=["404", "html", "svg", "oversize"])
def test_a_bad_image_is_a_note_naming_its_url(http_server: LoopbackServer, client: httpx.Client,
                                              data: DataDir, body: bytes, status: int,
                                              media_type: str, says: str) -> None:
    url = http_server.route("/bad", reply(body, status=status, content_type=media_type))
    note = EpisodeImages(client, data, SETTINGS).keep(episode(1, url), FEED)
    assert note is not None and note.code == "episode_image_not_kept"
    assert note.get("url") == url and says in str(note.get("reason"))
    assert stored_image(data, url) is None and image_tried(data, url)
    assert not any(p.suffix in {".png", ".svg", ".jpg"} for p in data.artwork.rglob("*"))


def test_a_refused_url_waits_for_the_episode_to_be_processed_again(
        http_server: LoopbackServer, client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/bad", reply(HTML, status=404, content_type="text/html"))
    assert EpisodeImages(client, data, SETTINGS).keep(episode(1, url), FEED)
    http_server.route("/bad", reply(PNG, content_type="image/png"))
    assert EpisodeImages(client, data, SETTINGS).catch_up(episode(1, url), FEED) is None
    assert http_server.count("/bad") == 1  # a done episode does not retry every run
    assert EpisodeImages(client, data, SETTINGS).keep(episode(1, url), FEED) is None
    assert stored_image(data, url) is not None


def test_requests_per_run_are_bounded_and_later_runs_catch_up(
        http_server: LoopbackServer, client: httpx.Client, data: DataDir) -> None:
    urls = [http_server.route(f"/{n}.png", reply(PNG, content_type="image/png"))
            for n in range(3)]
    first = EpisodeImages(client, data, SETTINGS, budget=2)
    assert [first.keep(episode(n, u), FEED) for n, u in enumerate(urls)] == [None] * 3
    assert [stored_image(data, u) is not None for u in urls] == [True, True, False]
    assert not image_tried(data, urls[2])  # left for a later run
    later = EpisodeImages(client, data, SETTINGS, budget=2)
    assert [later.catch_up(episode(n, u), FEED) for n, u in enumerate(urls)] == [None] * 3
    assert stored_image(data, urls[2]) is not None
    assert [http_server.count(f"/{n}.png") for n in range(3)] == [1, 1, 1]


def _feed_xml(feed_image: str, items: list[tuple[str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{guid}</title><guid>{guid}</guid><itunes:image href=\"{image}\"/>"
        "<description>Bara text i det här avsnittet.</description></item>"
        for guid, image in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
            f"<title>Bildpodden</title><language>sv</language>"
            f"<itunes:image href=\"{feed_image}\"/>{entries}</channel></rss>").encode()


def _run(catalogue: Catalogue, index: ArchiveIndex, client: httpx.Client,
         feed_url: str) -> IngestReport:
    return ingest(SETTINGS, (feed_url,), catalogue=catalogue, index=index, client=client,
                  transcriber_factory=pytest.fail, clock=lambda: datetime.now(UTC))


def test_ingest_keeps_episode_images_and_an_unchanged_feed_costs_none(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path) -> None:
    """Every episode is indexed; the broken image is a note on its episode alone; the shared
    and the feed's own image cost one request each; the next run makes no image request."""
    cover = http_server.route("/cover.png", reply(PNG, content_type="image/png"))
    shared = http_server.route("/shared.png", reply(PNG, content_type="image/png"))
    broken = http_server.route("/broken.png", reply(SVG, content_type="image/svg+xml"))
    feed_url = http_server.route("/feed.xml", conditional(_feed_xml(cover, [
        ("ett", shared), ("tva", shared), ("tre", cover), ("fyra", broken)])))
    catalogue = open_catalogue(tmp_path / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    try:
        report = _run(catalogue, index, client, feed_url)
        assert {e.status for e in report.episodes} == {"indexed"} and len(report.episodes) == 4
        noted = {e.title: e.notes for e in report.episodes}
        assert noted["ett"] == noted["tva"] == noted["tre"] == ()
        (note,) = noted["fyra"]
        assert note.code == "episode_image_not_kept" and note.get("url") == broken
        episodes = report.to_dict()["episodes"]
        assert isinstance(episodes, list)
        saved = {e["title"]: e["notes"] for e in episodes}
        assert saved["fyra"] == [{"code": "episode_image_not_kept", "url": broken,
                                  "reason": note.get("reason")}]  # the saved report too
        shown = {e.title: episode_artwork(catalogue.data, e) for e in catalogue.episodes()}
        assert shown["ett"] is not None and shown["ett"] == shown["tva"]
        assert shown["tre"] is not None and shown["tre"].source_url == cover  # the feed's copy
        assert shown["fyra"] is None
        counts = [http_server.count(p) for p in ("/cover.png", "/shared.png", "/broken.png")]
        assert counts == [1, 1, 1]

        again = _run(catalogue, index, client, feed_url)
        assert again.feeds[0].status == "unchanged" and again.episodes == ()
        assert [http_server.count(p) for p in ("/cover.png", "/shared.png",
                                               "/broken.png")] == counts
    finally:
        index.close()
        catalogue.close()


def test_ingest_removes_the_images_no_episode_names_any_more(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path) -> None:
    """An image URL that changed loses its copy unless another episode still names it; a feed
    removed takes its episodes' copies with it on the next run; the report counts them."""
    cover = http_server.route("/cover.png", reply(PNG, content_type="image/png"))
    shared, old, new = (http_server.route(f"/{name}.png", reply(PNG, content_type="image/png"))
                        for name in ("shared", "old", "new"))
    feed_url = http_server.route("/feed.xml", conditional(_feed_xml(cover, [
        ("ett", shared), ("tva", shared), ("tre", old)])))
    catalogue = open_catalogue(tmp_path / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    try:
        assert _run(catalogue, index, client, feed_url).images_removed == 0
        http_server.route("/feed.xml", conditional(_feed_xml(cover, [
            ("ett", shared), ("tva", new), ("tre", new)]), etag='"v2"'))
        report = _run(catalogue, index, client, feed_url)
        assert report.images_removed == 1 and report.to_dict()["images_removed"] == 1
        assert stored_image(catalogue.data, old) is None
        assert stored_image(catalogue.data, shared) is not None  # "ett" still names it
        assert stored_image(catalogue.data, new) is not None
        shown = {e.title: episode_artwork(catalogue.data, e) for e in catalogue.episodes()}
        assert all(shown.values())

        (feed,) = catalogue.feeds()
        catalogue.remove_feed(feed.id)
        assert _run_all(catalogue, index, client).images_removed == 2
        assert not list((catalogue.data.artwork / EPISODE_FOLDER).iterdir())
    finally:
        index.close()
        catalogue.close()


def _run_all(catalogue: Catalogue, index: ArchiveIndex, client: httpx.Client) -> IngestReport:
    return ingest(SETTINGS, catalogue=catalogue, index=index, client=client,
                  transcriber_factory=pytest.fail, clock=lambda: datetime.now(UTC))
