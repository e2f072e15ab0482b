"""fetch(): bounded, guarded, conditional HTTP, tried against a real loopback server."""

from __future__ import annotations

import errno
import gzip
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from poddarkiv.config import Settings
from poddarkiv.errors import FetchError, NotModified
from poddarkiv.ingest import fetch as fetch_module
from poddarkiv.ingest.client import USER_AGENT
from poddarkiv.ingest.fetch import (
    FetchPolicy,
    fetch,
    make_client,
    parse_retry_after,
    policy_for,
    stream_to_file,
)
from poddarkiv.ingest.guard import check_host, is_public_address
from poddarkiv.ingest.inflate import Inflater
from tests.httpserver import (
    Exchange,
    LoopbackServer,
    broken_after,
    conditional,
    gzip_bomb,
    hang,
    ranged,
    redirect,
    reply,
    retry_after,
    slow_body,
)
from tests.ingest.fulldisk import FREE_BYTES, full_disk_open

FEED = b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title></channel></rss>"
LOOPBACK = FetchPolicy(allow_private=True, connect_timeout_s=2.0, read_timeout_s=2.0,
                       deadline_s=10.0)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(LOOPBACK) as c:
        yield c


# -- the happy path and conditional GET ------------------------------------------------------


def test_fetch_returns_body_validators_and_hash(http_server: LoopbackServer,
                                                client: httpx.Client) -> None:
    url = http_server.route("/feed", conditional(FEED, etag='"v1"',
                                                 last_modified="Mon, 01 Jan 2024 00:00:00 GMT"))
    result = fetch(client, url, policy=LOOPBACK)
    assert result.body == FEED
    assert result.status == 200
    assert result.etag == '"v1"'
    assert result.last_modified == "Mon, 01 Jan 2024 00:00:00 GMT"
    assert result.content_type == "application/rss+xml"
    assert result.final_url == url and result.permanent_url is None
    assert len(result.sha256) == 64
    assert http_server.last("/feed").headers["user-agent"] == USER_AGENT


def test_304_raises_not_modified_after_sending_validators(http_server: LoopbackServer,
                                                          client: httpx.Client) -> None:
    url = http_server.route("/feed", conditional(FEED, etag='"v1"'))
    with pytest.raises(NotModified) as info:
        fetch(client, url, policy=LOOPBACK, etag='"v1"', last_modified="yesterday")
    assert info.value.status == 304
    sent = http_server.last("/feed").headers
    assert sent["if-none-match"] == '"v1"' and sent["if-modified-since"] == "yesterday"


def test_same_body_hash_raises_not_modified(http_server: LoopbackServer,
                                            client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(FEED))
    first = fetch(client, url, policy=LOOPBACK)
    with pytest.raises(NotModified):
        fetch(client, url, policy=LOOPBACK, previous_sha256=first.sha256)


def test_gzip_body_is_decompressed(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(gzip.compress(FEED),
                                           headers={"Content-Encoding": "gzip"}))
    assert fetch(client, url, policy=LOOPBACK).body == FEED


# -- statuses ---------------------------------------------------------------------------------


def test_429_carries_retry_after_seconds(http_server: LoopbackServer,
                                         client: httpx.Client) -> None:
    url = http_server.route("/feed", retry_after("120"))
    with pytest.raises(FetchError) as info:
        fetch(client, url, policy=LOOPBACK)
    assert info.value.status == 429
    assert info.value.retry_after_s == 120.0


def test_503_retry_after_http_date(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/feed", retry_after("Mon, 01 Jan 2024 00:10:00 GMT", status=503))
    with pytest.raises(FetchError) as info:
        fetch(client, url, policy=LOOPBACK, clock=lambda: datetime(2024, 1, 1, tzinfo=UTC))
    assert info.value.status == 503
    assert info.value.retry_after_s == 600.0


def test_not_found_is_a_fetch_error_with_status(http_server: LoopbackServer,
                                                client: httpx.Client) -> None:
    with pytest.raises(FetchError) as info:
        fetch(client, http_server.url("/nothing-here"), policy=LOOPBACK)
    assert info.value.status == 404


@pytest.mark.parametrize(("value", "expected"), [
    ("0", 0.0), ("3600", 3600.0), ("999999999", 7 * 24 * 3600.0),
    ("Mon, 01 Jan 2024 01:00:00 GMT", 3600.0), ("Sun, 31 Dec 2023 00:00:00 GMT", 0.0),
    ("soon", None), ("", None), (None, None), ("-5", None),
])
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=datetime(2024, 1, 1, tzinfo=UTC)) == expected


# -- time bounds ------------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", hang())
    policy = LOOPBACK.replace(read_timeout_s=0.5)
    started = time.monotonic()
    with make_client(policy) as c, pytest.raises(FetchError, match="timed out"):
        fetch(c, url, policy=policy)
    assert time.monotonic() - started < 3.0


def test_a_trickling_body_stops_at_the_deadline(http_server: LoopbackServer,
                                                client: httpx.Client) -> None:
    url = http_server.route("/feed", slow_body(every_s=0.1))  # never slow enough to time out
    policy = LOOPBACK.replace(deadline_s=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline"):
        fetch(client, url, policy=policy)
    assert time.monotonic() - started < 2.5


# -- size bounds ------------------------------------------------------------------------------


def test_declared_oversize_body_is_refused_before_reading(http_server: LoopbackServer,
                                                          client: httpx.Client) -> None:
    url = http_server.route("/feed", reply(b"x" * 5000))
    with pytest.raises(FetchError, match="cap"):
        fetch(client, url, policy=LOOPBACK.replace(max_bytes=1000))


def test_undeclared_oversize_body_stops_at_the_cap(http_server: LoopbackServer,
                                                   client: httpx.Client) -> None:
    def endless(ex: Exchange) -> None:  # HTTP/1.0 without Content-Length: read until close
        ex.head(200, {"Content-Type": "application/rss+xml"})
        for _ in range(1000):
            ex.write(b"x" * 65536)

    url = http_server.route("/feed", endless)
    with pytest.raises(FetchError, match="cap"):
        fetch(client, url, policy=LOOPBACK.replace(max_bytes=1024 * 1024))


def test_gzip_bomb_stops_at_the_cap_after_decompression(http_server: LoopbackServer,
                                                        client: httpx.Client) -> None:
    url = http_server.route("/feed", gzip_bomb(decompressed_bytes=200 * 1024 * 1024))
    started = time.monotonic()
    with pytest.raises(FetchError, match="after decompression"):
        fetch(client, url, policy=LOOPBACK.replace(max_bytes=2 * 1024 * 1024))
    assert time.monotonic() - started < 5.0


def test_inflater_bounds_each_step_and_handles_every_encoding() -> None:
    data = b"podd" * 100_000
    bomb = Inflater("gzip")
    assert max(len(p) for p in bomb.feed(gzip.compress(data))) <= 64 * 1024
    two_members = gzip.compress(b"ett ") + gzip.compress(b"tva")
    assert b"".join(Inflater("gzip").feed(two_members)) == b"ett tva"
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw_deflate = raw.compress(data) + raw.flush()
    assert b"".join(Inflater("deflate").feed(raw_deflate)) == data
    assert b"".join(Inflater("deflate").feed(zlib.compress(data))) == data
    with pytest.raises(FetchError, match="unsupported"):
        Inflater("br")
    with pytest.raises(FetchError, match="corrupt"):
        list(Inflater("gzip").feed(b"not gzip at all"))


# -- redirects --------------------------------------------------------------------------------


def test_permanent_redirects_report_the_new_url(http_server: LoopbackServer,
                                                client: httpx.Client) -> None:
    http_server.route("/a", redirect("/b", status=301))
    http_server.route("/b", redirect(http_server.url("/c"), status=308))
    http_server.route("/c", reply(FEED))
    result = fetch(client, http_server.url("/a"), policy=LOOPBACK)
    assert result.final_url == http_server.url("/c")
    assert result.permanent_url == http_server.url("/c")


@pytest.mark.parametrize("temporary", [302, 303, 307])
def test_any_temporary_hop_means_no_move(http_server: LoopbackServer, client: httpx.Client,
                                         temporary: int) -> None:
    http_server.route("/a", redirect("/b", status=301))
    http_server.route("/b", redirect("/c", status=temporary))
    http_server.route("/c", reply(FEED))
    result = fetch(client, http_server.url("/a"), policy=LOOPBACK)
    assert result.final_url == http_server.url("/c")
    assert result.permanent_url is None


def test_moved_and_unchanged_still_reports_the_move(http_server: LoopbackServer,
                                                    client: httpx.Client) -> None:
    http_server.route("/old", redirect("/new", status=301))
    http_server.route("/new", conditional(FEED, etag='"v1"'))
    result = fetch(client, http_server.url("/old"), policy=LOOPBACK, etag='"v1"')
    assert result.status == 304 and result.body == b""
    assert result.permanent_url == http_server.url("/new")


def test_redirect_loop_is_refused(http_server: LoopbackServer, client: httpx.Client) -> None:
    http_server.route("/a", redirect("/b"))
    http_server.route("/b", redirect("/a"))
    with pytest.raises(FetchError, match="loop"):
        fetch(client, http_server.url("/a"), policy=LOOPBACK)
    assert http_server.count("/a") == 1 and http_server.count("/b") == 1


def test_more_than_five_redirects_are_refused(http_server: LoopbackServer,
                                              client: httpx.Client) -> None:
    for n in range(7):
        http_server.route(f"/r{n}", redirect(f"/r{n + 1}", status=302))
    http_server.route("/r7", reply(FEED))
    with pytest.raises(FetchError, match="more than 5 redirects"):
        fetch(client, http_server.url("/r0"), policy=LOOPBACK)
    assert http_server.count("/r6") == 0


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.org/feed",
                                    "gopher://example.org/", "javascript:alert(1)"])
def test_redirect_to_another_scheme_is_refused(http_server: LoopbackServer,
                                               client: httpx.Client, target: str) -> None:
    http_server.route("/a", redirect(target))
    # httpx itself rejects some of these Location values before we see them; either way the
    # redirect is a FetchError and is not followed.
    with pytest.raises(FetchError, match=r"scheme|URL"):
        fetch(client, http_server.url("/a"), policy=LOOPBACK)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "/etc/passwd", "ftp://example.org/x",
                                 "data:text/xml,<rss/>"])
def test_only_http_and_https_are_fetched(client: httpx.Client, url: str) -> None:
    with pytest.raises(FetchError):
        fetch(client, url, policy=LOOPBACK)


# -- addresses --------------------------------------------------------------------------------


def test_loopback_is_refused_unless_allowed(http_server: LoopbackServer) -> None:
    url = http_server.route("/feed", reply(FEED))
    strict = LOOPBACK.replace(allow_private=False)
    with make_client(strict) as c, pytest.raises(FetchError, match="not a public address"):
        fetch(c, url, policy=strict)
    assert http_server.count("/feed") == 0


def test_the_guard_checks_the_resolved_address_at_connect_time(
        http_server: LoopbackServer) -> None:
    # A public-looking name that resolves to loopback (DNS rebinding, or a hostile feed).
    resolver = lambda host, port: ["127.0.0.1"]  # noqa: E731
    url = f"http://podcast.example:{http_server.port}/feed"
    http_server.route("/feed", reply(FEED))
    strict = LOOPBACK.replace(allow_private=False, resolver=resolver)
    with make_client(strict) as c, pytest.raises(FetchError, match=r"127\.0\.0\.1"):
        fetch(c, url, policy=strict)
    assert http_server.count("/feed") == 0
    allowed = strict.replace(allow_private=True)
    with make_client(allowed) as c:
        assert fetch(c, url, policy=allowed).body == FEED
    assert http_server.last("/feed").headers["host"] == f"podcast.example:{http_server.port}"


def test_an_httpx_whose_transport_has_no_pool_to_guard_fails_loudly(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def init_without_pool(self: httpx.HTTPTransport, **kwargs: object) -> None:
        pass  # an httpx that builds its connection pool somewhere else

    monkeypatch.setattr(httpx.HTTPTransport, "__init__", init_without_pool)
    with pytest.raises(RuntimeError, match="address guard cannot be installed"):
        make_client(LOOPBACK)


def test_a_redirect_to_a_private_address_is_refused(http_server: LoopbackServer) -> None:
    http_server.route("/feed", redirect("http://169.254.169.254/latest/meta-data/"))
    resolver = lambda host, port: ["127.0.0.1"]  # noqa: E731
    policy = LOOPBACK.replace(resolver=resolver)
    with make_client(policy) as c, pytest.raises(FetchError, match="not a public address"):
        fetch(c, http_server.url("/feed"), policy=policy.replace(allow_private=False))


@pytest.mark.parametrize(("address", "public"), [
    ("93.184.216.34", True), ("2606:2800:220:1:248:1893:25c8:1946", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.1", False), ("172.16.5.5", False),
    ("169.254.169.254", False), ("100.100.100.200", False), ("0.0.0.0", False),
    ("::1", False), ("fe80::1", False), ("fd00:ec2::254", False), ("::ffff:127.0.0.1", False),
    ("2002:7f00:1::", False), ("224.0.0.1", False), ("not an address", False),
])
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


def test_a_name_with_any_private_address_is_refused() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.5"]

    with pytest.raises(FetchError, match=r"10\.0\.0\.5"):
        check_host("cdn.example", 443, allow_private=False, resolver=mixed)
    assert check_host("cdn.example", 443, allow_private=True, resolver=mixed) == [
        "93.184.216.34", "10.0.0.5"]


def test_unresolvable_names_are_fetch_errors() -> None:
    def nxdomain(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(FetchError, match="cannot resolve"):
        check_host("nowhere.invalid", 80, allow_private=False, resolver=nxdomain)


def test_policy_for_settings() -> None:
    settings = Settings(allow_private=True, feed_max_bytes=1000, audio_max_bytes=9000)
    assert policy_for(settings).max_bytes == 1000
    assert policy_for(settings).allow_private
    assert policy_for(settings, kind="audio").max_bytes == 9000
    assert policy_for(settings, kind="audio").deadline_s > policy_for(settings).deadline_s


# -- streaming to a file (audio) ----------------------------------------------------------------


AUDIO = bytes(range(256)) * 400


def test_stream_to_file_writes_the_whole_body(http_server: LoopbackServer,
                                              client: httpx.Client, tmp_path: Path) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO))
    result = stream_to_file(client, url, tmp_path / "x.partial", policy=LOOPBACK)
    assert (tmp_path / "x.partial").read_bytes() == AUDIO
    assert result.size_bytes == len(AUDIO) and not result.resumed
    assert result.content_type == "audio/mpeg"
    assert http_server.last("/a.mp3").headers["accept-encoding"] == "identity"


def test_stream_to_file_resumes_with_range(http_server: LoopbackServer,
                                           client: httpx.Client, tmp_path: Path) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO, etag='"a1"'))
    part = tmp_path / "x.partial"
    part.write_bytes(AUDIO[:1000])
    result = stream_to_file(client, url, part, policy=LOOPBACK, offset=1000, if_range='"a1"')
    assert result.resumed and result.status == 206 and result.bytes_written == len(AUDIO) - 1000
    assert part.read_bytes() == AUDIO
    sent = http_server.last("/a.mp3").headers
    assert sent["range"] == "bytes=1000-" and sent["if-range"] == '"a1"'


def test_stream_to_file_starts_over_when_the_file_changed(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO, etag='"a2"'))
    part = tmp_path / "x.partial"
    part.write_bytes(b"stale bytes from another version")
    result = stream_to_file(client, url, part, policy=LOOPBACK, offset=32, if_range='"a1"')
    assert result.status == 200 and not result.resumed
    assert part.read_bytes() == AUDIO


def test_stream_to_file_reports_a_truncated_body_and_keeps_it(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path) -> None:
    url = http_server.route("/a.mp3", broken_after(AUDIO, sent_bytes=5000))
    part = tmp_path / "x.partial"
    with pytest.raises(FetchError):
        stream_to_file(client, url, part, policy=LOOPBACK)
    assert part.read_bytes() == AUDIO[:5000]


def test_stream_to_file_enforces_the_cap(http_server: LoopbackServer, client: httpx.Client,
                                         tmp_path: Path) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO))
    with pytest.raises(FetchError, match="cap"):
        stream_to_file(client, url, tmp_path / "x.partial",
                       policy=LOOPBACK.replace(max_bytes=len(AUDIO) - 1))


def test_stream_to_file_reports_a_full_disk_as_a_fetch_error(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO))
    part = tmp_path / "x.partial"
    monkeypatch.setattr(fetch_module, "open", full_disk_open(), raising=False)
    with pytest.raises(FetchError) as caught:
        stream_to_file(client, url, part, policy=LOOPBACK)
    assert str(caught.value) == f"cannot write {part}: No space left on device"
    assert caught.value.url == url and caught.value.status is None
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.__cause__.errno == errno.ENOSPC
    assert part.read_bytes() == AUDIO[:FREE_BYTES]  # the caller decides what to do with it


def test_stream_to_file_reports_a_full_disk_when_resuming(
        http_server: LoopbackServer, client: httpx.Client, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = http_server.route("/a.mp3", ranged(AUDIO, etag='"a1"'))
    part = tmp_path / "x.partial"
    part.write_bytes(AUDIO[:1000])
    monkeypatch.setattr(fetch_module, "open", full_disk_open(), raising=False)
    with pytest.raises(FetchError, match="No space left on device"):
        stream_to_file(client, url, part, policy=LOOPBACK, offset=1000, if_range='"a1"')
    assert part.read_bytes() == AUDIO[:1000 + FREE_BYTES]
