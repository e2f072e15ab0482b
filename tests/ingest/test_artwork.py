"""keep_artwork(): a feed's image kept once per URL, and every bad image refused with a note."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.artwork import stored_artwork
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Feed
from poddarkiv.archive.store import DataDir, open_catalogue
from poddarkiv.config import Settings
from poddarkiv.ingest.artwork import ARTWORK_MAX_BYTES, NOTE_PREFIX, keep_artwork, with_note
from poddarkiv.ingest.pipeline import ingest
from tests.httpserver import LoopbackServer, conditional, reply
from tests.images import HTML, JPEG, PNG, SVG, WEBP

SETTINGS = Settings(allow_private=True)


def feed_with(image: str | None) -> Feed:
    return Feed(id="f1", url="https://example.invalid/feed.xml", image=image)


@pytest.mark.parametrize(("body", "media_type"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp")])
def test_an_image_is_kept_by_its_first_bytes(http_server: LoopbackServer, client: httpx.Client,
                                             data: DataDir, body: bytes, media_type: str) -> None:
    url = http_server.route("/cover", reply(body, content_type=media_type))
    assert keep_artwork(client, feed_with(url), data=data, settings=SETTINGS) is None
    stored = stored_artwork(data, "f1")
    assert stored is not None and stored.media_type == media_type and stored.source_url == url
    assert (data.artwork / stored.file_name).read_bytes() == body
    assert not list(data.artwork.glob("*.tmp"))


def test_an_unchanged_url_is_not_fetched_again(http_server: LoopbackServer,
                                               client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/cover", reply(PNG, content_type="image/png"))
    for _ in range(3):
        assert keep_artwork(client, feed_with(url), data=data, settings=SETTINGS) is None
    assert http_server.count("/cover") == 1


def test_a_new_url_replaces_the_copy(http_server: LoopbackServer, client: httpx.Client,
                                     data: DataDir) -> None:
    first = http_server.route("/a", reply(PNG, content_type="image/png"))
    second = http_server.route("/b", reply(JPEG, content_type="image/jpeg"))
    keep_artwork(client, feed_with(first), data=data, settings=SETTINGS)
    keep_artwork(client, feed_with(second), data=data, settings=SETTINGS)
    stored = stored_artwork(data, "f1")
    assert stored is not None and stored.source_url == second and stored.file_name == "f1.jpg"
    assert not (data.artwork / "f1.png").exists()


def test_a_feed_without_an_image_loses_its_copy(http_server: LoopbackServer,
                                                client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/cover", reply(PNG, content_type="image/png"))
    keep_artwork(client, feed_with(url), data=data, settings=SETTINGS)
    assert keep_artwork(client, feed_with(None), data=data, settings=SETTINGS) is None
    assert stored_artwork(data, "f1") is None and not list(data.artwork.iterdir())


@pytest.mark.parametrize(("body", "status", "media_type", "says"), [
    (HTML, 404, "text/html", "404"),
    (PNG + bytes(ARTWORK_MAX_BYTES), 200, "image/png", "cap"),
    (HTML, 200, "text/html", "not a JPEG, PNG or WebP"),
    (SVG, 200, "image/svg+xml", "not a JPEG, PNG or WebP"),
    (PNG, 200, "text/html", "sent as text/html"),
], ids=["404", "oversize", "html", "svg", "png-called-html"])
def test_a_bad_image_is_refused_with_a_note(http_server: LoopbackServer, client: httpx.Client,
                                            data: DataDir, body: bytes, status: int,
                                            media_type: str, says: str) -> None:
    url = http_server.route("/cover", reply(body, status=status, content_type=media_type))
    note = keep_artwork(client, feed_with(url), data=data, settings=SETTINGS)
    assert note is not None and note.startswith(NOTE_PREFIX) and says in note
    assert stored_artwork(data, "f1") is None
    assert not data.artwork.exists() or not any(data.artwork.iterdir())


def test_a_refused_image_is_tried_again_next_time(http_server: LoopbackServer,
                                                  client: httpx.Client, data: DataDir) -> None:
    url = http_server.route("/cover", reply(HTML, status=404, content_type="text/html"))
    assert keep_artwork(client, feed_with(url), data=data, settings=SETTINGS)
    http_server.route("/cover", reply(PNG, content_type="image/png"))
    assert keep_artwork(client, feed_with(url), data=data, settings=SETTINGS) is None
    assert stored_artwork(data, "f1") is not None


def test_a_note_replaces_the_last_one() -> None:
    problems = ("bad date", f"{NOTE_PREFIX}old")
    assert with_note(problems, f"{NOTE_PREFIX}new") == ("bad date", f"{NOTE_PREFIX}new")
    assert with_note(problems, None) == ("bad date",)


def _feed_xml(image_url: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Bildpodden</title><language>sv</language>"
            f"<image><url>{image_url}</url><title>Bildpodden</title><link>https://e.invalid/</link>"
            "</image><item><title>Ett</title><guid>ett</guid>"
            "<description>Bara text i det här avsnittet.</description></item>"
            "</channel></rss>").encode()


def test_ingest_keeps_the_feed_when_its_image_fails(http_server: LoopbackServer,
                                                    client: httpx.Client, tmp_path: Path) -> None:
    """The feed and its episode are stored; the image's failure is a note in the feed's
    problems and the report; once the image works, the note goes and the copy is kept."""
    image = http_server.url("/cover.png")
    http_server.route("/cover.png", reply(HTML, status=404, content_type="text/html"))
    feed_url = http_server.route("/feed.xml", conditional(_feed_xml(image)))
    catalogue = open_catalogue(tmp_path / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    try:
        def run() -> tuple[str, tuple[str, ...]]:
            report = ingest(SETTINGS, (feed_url,), catalogue=catalogue, index=index,
                            client=client, transcriber_factory=pytest.fail,
                            clock=lambda: datetime.now(UTC))
            (outcome,) = report.feeds
            return outcome.status, outcome.problems

        status, problems = run()
        (feed,) = catalogue.feeds()
        assert status == "new" and len(catalogue.episodes()) == 1
        notes = [p for p in feed.problems if p.startswith(NOTE_PREFIX)]
        assert len(notes) == 1 and "404" in notes[0]
        assert [p for p in problems if p.startswith(NOTE_PREFIX)] == notes  # the report says it
        assert stored_artwork(catalogue.data, feed.id) is None

        http_server.route("/cover.png", reply(PNG, content_type="image/png"))
        status, problems = run()  # the feed is unchanged (304): only the image is fetched
        (feed,) = catalogue.feeds()
        assert status == "unchanged"
        assert not any(p.startswith(NOTE_PREFIX) for p in (*problems, *feed.problems))
        assert stored_artwork(catalogue.data, feed.id) is not None
        run()
        assert http_server.count("/cover.png") == 2
    finally:
        index.close()
        catalogue.close()
