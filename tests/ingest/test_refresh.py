"""refresh_feed(): one request and no writes when nothing changed; moves, backoff, episodes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from poddarkiv.archive.models import Feed
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.ingest.fetch import FetchPolicy, make_client
from poddarkiv.ingest.identity import feed_id_for
from poddarkiv.ingest.refresh import BACKOFF_BASE_S, MAX_BACKOFF_S, backoff_s, refresh_feed
from tests.httpserver import (
    LoopbackServer,
    conditional,
    gzip_bomb,
    hang,
    redirect,
    reply,
    retry_after,
)

SETTINGS = Settings(allow_private=True)
POLICY = FetchPolicy(allow_private=True, read_timeout_s=1.0, deadline_s=5.0,
                     max_bytes=1024 * 1024)
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def item(n: int, title: str | None = None) -> str:
    return (f"<item><title>{title or f'Avsnitt {n}'}</title><guid>ep-{n}</guid>"
            f'<enclosure url="https://cdn.example/{n}.mp3?token=t{n}" type="audio/mpeg"/></item>')


def feed_xml(*items: str, title: str = "Konkurrenten", head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            f'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
            f"<title>{title}</title><language>sv</language>{head}{''.join(items)}"
            "</channel></rss>").encode()


class CountingCatalogue(Catalogue):
    """A real catalogue that counts its write transactions (every save goes through one)."""

    writes = 0

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        self.writes += 1
        with super().transaction() as conn:
            yield conn


@pytest.fixture
def catalogue(tmp_path: Path) -> Iterator[CountingCatalogue]:
    with CountingCatalogue(DataDir(tmp_path / "data")) as c:
        yield c


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(POLICY) as c:
        yield c


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def refresh(catalogue: Catalogue, client: httpx.Client, target: str | Feed,
            clock: Clock | None = None, **kw: Any) -> Any:
    return refresh_feed(catalogue, client, target, settings=SETTINGS, policy=POLICY,
                        clock=clock or Clock(), **kw)


# -- new, unchanged, updated ------------------------------------------------------------------


def test_a_new_feed_is_stored_with_its_episodes(http_server: LoopbackServer,
                                                catalogue: CountingCatalogue,
                                                client: httpx.Client) -> None:
    url = http_server.route("/feed", conditional(feed_xml(item(1), item(2)), etag='"v1"'))
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "new" and outcome.title == "Konkurrenten"
    assert len(outcome.new_episode_ids) == 2 and outcome.error is None
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.id == feed_id_for(url)
    assert (feed.title, feed.language, feed.etag, feed.error_count) == (
        "Konkurrenten", "sv", '"v1"', 0)
    assert feed.body_sha256 and feed.last_fetched == NOW
    assert {e.title for e in catalogue.episodes(feed_id=feed.id)} == {"Avsnitt 1", "Avsnitt 2"}


def test_an_episode_that_cannot_be_stored_fails_alone_and_the_feed_is_read_again(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/feed", conditional(
        feed_xml(item(1), item(2, "Trasig"), item(3)), etag='"v1"'))
    real_save = catalogue.save_episode

    def save_or_crash(episode: Any) -> None:
        if episode.title == "Trasig":  # not one of our errors: a bug, or a broken row
            raise ValueError("nobody expected this")
        real_save(episode)

    monkeypatch.setattr(catalogue, "save_episode", save_or_crash)
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "new" and len(outcome.new_episode_ids) == 2
    [unstored] = outcome.skipped
    assert (unstored.title, unstored.guid) == ("Trasig", "ep-2")
    assert unstored.reason == "could not be stored: unexpected ValueError: nobody expected this"
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.skipped == outcome.skipped
    assert (feed.etag, feed.body_sha256) == (None, None)  # so the next run reads it in full

    monkeypatch.setattr(catalogue, "save_episode", real_save)
    again = refresh(catalogue, client, url)
    assert again.status == "updated" and again.skipped == ()
    assert catalogue.count_episodes(feed_id=feed.id) == 3


def test_a_new_item_at_the_top_of_a_shared_guid_never_inherits_anothers_audio(
        http_server: LoopbackServer, catalogue: CountingCatalogue,
        client: httpx.Client) -> None:
    """Issue 14: twenty debates under one guid; the next one is published at the top."""
    def debate(n: int) -> str:
        return (f"<item><title>Debatt {n}</title><guid>samma</guid><enclosure "
                f'url="https://cdn.example/debatt-{n}.mp3" type="audio/mpeg"/></item>')

    url = http_server.route("/feed", reply(feed_xml(debate(2), debate(1))))
    first = refresh(catalogue, client, url)
    for episode in catalogue.episodes(feed_id=first.feed_id):  # as if downloaded
        catalogue.save_episode(episode.replace(audio_path=f"audio/{episode.title}.mp3"))
    http_server.route("/feed", reply(feed_xml(debate(3), debate(2), debate(1))))
    second = refresh(catalogue, client, url)
    assert len(second.new_episode_ids) == 1 and second.updated_episode_ids == ()
    audio = {e.title: e.audio_path for e in catalogue.episodes(feed_id=first.feed_id)}
    assert audio == {"Debatt 3": None, "Debatt 2": "audio/Debatt 2.mp3",
                     "Debatt 1": "audio/Debatt 1.mp3"}


def test_an_unchanged_feed_costs_one_request_and_writes_nothing(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client) -> None:
    url = http_server.route("/feed", conditional(feed_xml(item(1)), etag='"v1"'))
    refresh(catalogue, client, url)
    before, requests = catalogue.writes, http_server.count("/feed")
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "unchanged"
    assert http_server.count("/feed") == requests + 1
    assert http_server.last("/feed").headers["if-none-match"] == '"v1"'
    assert catalogue.writes == before


def test_without_validators_the_body_hash_decides(http_server: LoopbackServer,
                                                  catalogue: CountingCatalogue,
                                                  client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))  # no ETag, no Last-Modified
    refresh(catalogue, client, url)
    before = catalogue.writes
    assert refresh(catalogue, client, url).status == "unchanged"
    assert catalogue.writes == before


def test_new_and_changed_episodes_are_stored_and_downloads_kept(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    first = refresh(catalogue, client, url)
    episode_id = first.new_episode_ids[0]
    stored = catalogue.episode(episode_id)
    assert stored is not None
    catalogue.save_episode(stored.replace(audio_path=f"audio/{episode_id}.mp3",
                                          audio_sha256="ab" * 32))
    # The publisher renames episode 1, rotates its CDN token and adds episode 2.
    renamed = item(1, "Avsnitt 1 (ny titel)").replace("token=t1", "token=zz")
    http_server.route("/feed", reply(feed_xml(renamed, item(2))))
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "updated"
    assert outcome.updated_episode_ids == (episode_id,) and len(outcome.new_episode_ids) == 1
    episode = catalogue.episode(episode_id)
    assert episode is not None and episode.title == "Avsnitt 1 (ny titel)"
    assert episode.audio_path == f"audio/{episode_id}.mp3" and episode.audio_sha256 == "ab" * 32
    assert catalogue.count_episodes() == 2


def test_a_stored_feed_can_be_refreshed_by_record(http_server: LoopbackServer,
                                                  catalogue: CountingCatalogue,
                                                  client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    feed = Feed(id=feed_id_for(url), url=url)
    catalogue.save_feed(feed)
    outcome = refresh(catalogue, client, feed)
    assert outcome.status == "updated" and len(outcome.new_episode_ids) == 1


# -- moves ------------------------------------------------------------------------------------


def test_a_permanent_redirect_moves_the_feed(http_server: LoopbackServer,
                                             catalogue: CountingCatalogue,
                                             client: httpx.Client) -> None:
    old = http_server.route("/old", reply(feed_xml(item(1))))
    first = refresh(catalogue, client, old)
    new = http_server.route("/new", reply(feed_xml(item(1), item(2))))
    http_server.route("/old", redirect("/new", status=301))
    outcome = refresh(catalogue, client, old)
    assert outcome.moved_to == new and outcome.feed_id == first.feed_id
    feed = catalogue.feed(first.feed_id)
    assert feed is not None and feed.url == new
    refresh(catalogue, client, feed)
    assert http_server.count("/old") == 2 and http_server.count("/new") == 2


def test_a_temporary_redirect_does_not_move_the_feed(http_server: LoopbackServer,
                                                     catalogue: CountingCatalogue,
                                                     client: httpx.Client) -> None:
    url = http_server.route("/feed", redirect("/elsewhere", status=302))
    http_server.route("/elsewhere", reply(feed_xml(item(1))))
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "new" and outcome.moved_to is None
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.url == url


def test_moved_but_unchanged_still_moves(http_server: LoopbackServer,
                                         catalogue: CountingCatalogue,
                                         client: httpx.Client) -> None:
    body = feed_xml(item(1))
    old = http_server.route("/old", conditional(body, etag='"v1"'))
    refresh(catalogue, client, old)
    new = http_server.route("/new", conditional(body, etag='"v1"'))
    http_server.route("/old", redirect("/new", status=308))
    outcome = refresh(catalogue, client, old)
    assert outcome.status == "unchanged" and outcome.moved_to == new
    assert catalogue.feed(outcome.feed_id).url == new  # type: ignore[union-attr]


def test_itunes_new_feed_url_moves_the_feed(http_server: LoopbackServer,
                                            catalogue: CountingCatalogue,
                                            client: httpx.Client) -> None:
    new = http_server.route("/new", reply(feed_xml(item(1), item(2))))
    head = f"<itunes:new-feed-url>{new}</itunes:new-feed-url>"
    old = http_server.route("/old", conditional(feed_xml(item(1), head=head), etag='"v1"'))
    outcome = refresh(catalogue, client, old)
    assert outcome.moved_to == new
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.url == new and feed.etag is None
    assert feed.previous_urls == (old,)


@pytest.mark.parametrize("answer", [
    reply(b"Not here", status=404, content_type="text/plain"),
    reply(b"<html><body>Parked domain</body></html>", content_type="text/html"),
], ids=["dead", "not-a-feed"])
def test_a_new_feed_url_that_is_not_a_feed_is_not_followed(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client,
        answer: Any) -> None:
    new = http_server.route("/new", answer)
    head = f"<itunes:new-feed-url>{new}</itunes:new-feed-url>"
    old = http_server.route("/old", reply(feed_xml(item(1), head=head)))
    outcome = refresh(catalogue, client, old)
    assert outcome.status == "new" and outcome.moved_to is None
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.url == old and feed.previous_urls == ()
    assert any(p.startswith(f"not moved to {new}: it does not answer with a feed")
               for p in feed.problems), feed.problems


def test_a_new_feed_url_must_pass_the_address_guard(catalogue: CountingCatalogue,
                                                    client: httpx.Client) -> None:
    from poddarkiv.ingest.refresh import _Mover

    public = FetchPolicy(allow_private=False, read_timeout_s=1.0, deadline_s=5.0)
    mover = _Mover(catalogue, client, public, Clock())
    feed = Feed(id="f", url="https://feeds.example/old.xml")
    for private in ("http://10.0.0.1/feed.xml", "http://169.254.169.254/latest/",
                    "http://localhost/feed"):
        reason = mover.verify(feed, private)
        assert reason is not None and "not a public address" in reason, reason


def test_two_feeds_naming_each_other_are_a_loop_and_neither_moves(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client) -> None:
    a, b = http_server.url("/a"), http_server.url("/b")
    http_server.route("/a", reply(feed_xml(item(1), head=f"<itunes:new-feed-url>{b}"
                                                             "</itunes:new-feed-url>")))
    http_server.route("/b", reply(feed_xml(item(2), head=f"<itunes:new-feed-url>{a}"
                                                             "</itunes:new-feed-url>")))
    for _ in range(2):
        outcome = refresh(catalogue, client, a)
        assert outcome.moved_to is None
        assert any("a move loop" in p for p in outcome.problems), outcome.problems
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.url == a and catalogue.count_episodes() == 1


def test_a_move_back_to_a_previous_address_is_a_loop(
        http_server: LoopbackServer, catalogue: CountingCatalogue, client: httpx.Client) -> None:
    a = http_server.url("/a")
    b = http_server.route("/b", reply(feed_xml(item(1))))
    http_server.route("/a", reply(feed_xml(item(1), head=f"<itunes:new-feed-url>{b}"
                                                             "</itunes:new-feed-url>")))
    assert refresh(catalogue, client, a).moved_to == b
    http_server.route("/b", reply(feed_xml(item(1), item(2), head=f"<itunes:new-feed-url>{a}"
                                                                      "</itunes:new-feed-url>")))
    outcome = refresh(catalogue, client, b)
    assert outcome.moved_to is None and outcome.status == "updated"
    assert "the feed lived there before" in " ".join(outcome.problems)
    feed = catalogue.feed(outcome.feed_id)
    assert feed is not None and feed.url == b and feed.previous_urls == (a,)


def test_a_move_onto_another_feeds_url_is_refused(http_server: LoopbackServer,
                                                  catalogue: CountingCatalogue,
                                                  client: httpx.Client) -> None:
    taken = http_server.route("/taken", reply(feed_xml(item(9), title="Annan")))
    refresh(catalogue, client, taken)
    head = f"<itunes:new-feed-url>{taken}</itunes:new-feed-url>"
    url = http_server.route("/feed", reply(feed_xml(item(1), head=head)))
    outcome = refresh(catalogue, client, url)
    assert outcome.moved_to is None and "another feed has that URL" in " ".join(
        outcome.problems)


# -- failures and backoff ---------------------------------------------------------------------


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_s(n) for n in (0, 1, 2, 3)] == [0.0, BACKOFF_BASE_S, 2 * BACKOFF_BASE_S,
                                                    4 * BACKOFF_BASE_S]
    assert backoff_s(50) == MAX_BACKOFF_S


def test_failures_are_counted_backed_off_and_reset(http_server: LoopbackServer,
                                                   catalogue: CountingCatalogue,
                                                   client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    clock = Clock()
    feed_id = refresh(catalogue, client, url, clock).feed_id
    http_server.route("/feed", reply(b"oops", status=500, content_type="text/plain"))
    for errors in (1, 2):
        outcome = refresh(catalogue, client, url, clock)
        assert outcome.status == "failed" and "500" in str(outcome.error)
        feed = catalogue.feed(feed_id)
        assert feed is not None and feed.error_count == errors
        assert feed.next_fetch_after == clock.now + timedelta(seconds=backoff_s(errors))
        clock.now = feed.next_fetch_after
    requests = http_server.count("/feed")
    clock.now -= timedelta(seconds=1)  # just before the wait is over
    skipped = refresh(catalogue, client, url, clock)
    assert skipped.status == "skipped" and "backing off" in str(skipped.error)
    assert http_server.count("/feed") == requests
    http_server.route("/feed", reply(feed_xml(item(1))))
    clock.now += timedelta(days=1)
    assert refresh(catalogue, client, url, clock).status == "unchanged"
    feed = catalogue.feed(feed_id)
    assert feed is not None and (feed.error_count, feed.last_error, feed.next_fetch_after) == (
        0, None, None)


def test_force_fetches_a_feed_that_is_backing_off(http_server: LoopbackServer,
                                                  catalogue: CountingCatalogue,
                                                  client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    refresh(catalogue, client, url)
    http_server.route("/feed", reply(b"", status=503, content_type="text/plain"))
    refresh(catalogue, client, url)
    http_server.route("/feed", reply(feed_xml(item(1), item(2))))
    assert refresh(catalogue, client, url, force=True).status == "updated"


def test_retry_after_is_honoured(http_server: LoopbackServer, catalogue: CountingCatalogue,
                                 client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    refresh(catalogue, client, url)
    http_server.route("/feed", retry_after("7200"))
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "failed" and outcome.retry_at == NOW + timedelta(hours=2)


@pytest.mark.parametrize(("name", "handler"), [
    ("html", reply(b"<!DOCTYPE html><html><body><h1>Hej</h1></body></html>",
                   content_type="text/html")),
    ("local path", reply(b"/etc/passwd", content_type="text/plain")),
    ("hang", hang()),
    ("gzip bomb", gzip_bomb(decompressed_bytes=50 * 1024 * 1024)),
    ("404", reply(b"", status=404)),
])
def test_a_feed_that_goes_bad_fails_and_is_counted(http_server: LoopbackServer,
                                                   catalogue: CountingCatalogue,
                                                   client: httpx.Client, name: str,
                                                   handler: Any) -> None:
    url = http_server.route("/feed", reply(feed_xml(item(1))))
    feed_id = refresh(catalogue, client, url).feed_id
    http_server.route("/feed", handler)
    outcome = refresh(catalogue, client, url)
    assert outcome.status == "failed", name
    assert "root:" not in str(outcome.error)
    assert catalogue.feed(feed_id).error_count == 1  # type: ignore[union-attr]
    assert catalogue.count_episodes() == 1


def test_a_new_url_that_fails_is_not_added(http_server: LoopbackServer,
                                           catalogue: CountingCatalogue,
                                           client: httpx.Client) -> None:
    outcome = refresh(catalogue, client, http_server.url("/nothing"))
    assert outcome.status == "failed"
    assert catalogue.feeds() == [] and catalogue.writes == 0


# -- the bundled sample, served the way the demo serves it --------------------------------------


def test_the_sample_feed_refreshes_then_costs_one_request(catalogue: CountingCatalogue,
                                                          client: httpx.Client) -> None:
    from poddarkiv.ingest.download import download_audio
    from poddarkiv.ingest.publisher import fetch_publisher_transcript
    from poddarkiv.sample.server import serve_sample

    with serve_sample() as sample:
        first = refresh(catalogue, client, sample.feed_url)
        assert first.status == "new" and len(first.new_episode_ids) == 4
        before, requests = catalogue.writes, len(sample.requests())
        second = refresh(catalogue, client, sample.feed_url)
        assert second.status == "unchanged" and catalogue.writes == before
        assert len(sample.requests()) == requests + 1 and sample.requests()[-1].status == 304
        with_vtt = [e for e in catalogue.episodes() if e.transcripts]
        assert len(with_vtt) >= 1
        transcript = fetch_publisher_transcript(client, with_vtt[0], settings=SETTINGS,
                                                policy=POLICY)
        assert transcript is not None and "partnerskap" in transcript.text
        episode = download_audio(client, with_vtt[0], data=catalogue.data, settings=SETTINGS)
        assert episode.audio_path == f"audio/{episode.id}.mp3"
