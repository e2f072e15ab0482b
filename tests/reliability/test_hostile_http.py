"""Hostile HTTP servers: every fetch ends quickly with a clear error, and memory stays bounded.

The cases are data (``tests/data/hostile/http.toml``). The loopback server plays a *public*
host: the test treats ``127.0.0.1`` as a public address (and only that one), so poddarkiv's
real guard runs with private addresses refused, exactly as in production, and a redirect to
``10.0.0.1``, ``169.254.169.254`` or a name that resolves to a private address must be refused
by it. A tripwire makes sure no connection ever leaves loopback whatever the code under test
decides.

The gzip bomb figure is measured in a child process, so its peak RSS is the fetch's alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import tomllib
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from poddarkiv.archive.models import Enclosure, Episode
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import AudioError, FetchError
from poddarkiv.ingest import guard
from poddarkiv.ingest.client import FetchPolicy, make_client
from poddarkiv.ingest.fetch import fetch
from tests import httpserver
from tests.httpserver import Exchange, Handler, LoopbackServer

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile" / "http.toml"
CASES: list[dict[str, Any]] = tomllib.loads(CORPUS.read_text("utf-8"))["case"]
#: The name the loopback server is reached by, as if it were a podcast host on the internet.
PUBLIC_NAME = "podcast.example"
#: Names the hostile server redirects to, and what they resolve to (never connected to).
RESOLVES = {PUBLIC_NAME: ["127.0.0.1"], "intranet.example": ["10.0.0.7"]}
CAP_BYTES = 1024 * 1024
POLICY = FetchPolicy(connect_timeout_s=2.0, read_timeout_s=1.0, deadline_s=3.0,
                     max_bytes=CAP_BYTES, allow_private=False,
                     resolver=lambda host, port: RESOLVES.get(host, []))
#: Peak memory of a process fetching a feed that inflates to this many bytes.
BOMB_BYTES = 300 * 1024 * 1024
BOMB_PEAK_GROWTH_CAP_MB = 100


@pytest.fixture(autouse=True)
def loopback_plays_the_internet(monkeypatch: pytest.MonkeyPatch) -> None:
    """127.0.0.1 counts as public; every other address keeps its real verdict."""
    real = guard.is_public_address
    monkeypatch.setattr(guard, "is_public_address",
                        lambda address: address == "127.0.0.1" or real(address))


@pytest.fixture(autouse=True)
def tripwire(monkeypatch: pytest.MonkeyPatch) -> None:
    """No connection leaves loopback, whatever the code under test decides."""
    real = httpcore.SyncBackend.connect_tcp

    def connect(self: Any, host: str, port: int, *args: Any, **kwargs: Any) -> Any:
        assert host == "127.0.0.1", f"a test tried to connect to {host}"
        return real(self, host, port, *args, **kwargs)

    monkeypatch.setattr(httpcore.SyncBackend, "connect_tcp", connect)


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with make_client(POLICY) as c:
        yield c


def _deflate_bomb(*, decompressed_bytes: int) -> Handler:
    packer = zlib.compressobj(9)
    chunk = bytes(1024 * 1024)
    body = b"".join(packer.compress(chunk) for _ in range(decompressed_bytes // len(chunk)))
    body += packer.flush()

    def handle(ex: Exchange) -> None:
        ex.send(200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "deflate"})
    return handle


def _stream(*, body_bytes: int) -> Handler:
    """A body with no Content-Length, sent until the client hangs up."""
    def handle(ex: Exchange) -> None:
        ex.head(200, {"Content-Type": "application/rss+xml"})
        for _ in range(body_bytes // 65536):
            ex.write(b"x" * 65536)
    return handle


def _redirect_chain(server: LoopbackServer, *, hops: int) -> Handler:
    for hop in range(hops):
        server.route(f"/hop{hop}", httpserver.redirect(f"/hop{hop + 1}", status=302))
    server.route(f"/hop{hops}", httpserver.reply(b"<rss/>"))
    return httpserver.redirect("/hop0", status=302)


def _handler(case: dict[str, Any], server: LoopbackServer) -> Handler:
    args = dict(case.get("args", {}))
    kind = case["serve"]
    if kind == "reply":
        body = case["body"].encode("latin-1") if "body" in case else b"x" * case["body_bytes"]
        return httpserver.reply(body, headers=case.get("headers"), **args)
    if kind == "redirect":
        return httpserver.redirect(case["location"], status=302)
    if kind == "redirect_chain":
        return _redirect_chain(server, **args)
    if kind == "broken_after":
        return httpserver.broken_after(b"\xff\xfb" * 50_000, **args)
    if kind == "stream":
        return _stream(body_bytes=case["body_bytes"])
    if kind == "deflate_bomb":
        return _deflate_bomb(**args)
    handler: Handler = getattr(httpserver, kind)(**args)
    return handler


def _download(client: httpx.Client, url: str, root: Path) -> None:
    from poddarkiv.ingest.download import download_audio, find_audio

    data = DataDir(root).ensure()
    episode = Episode(id="ep1", feed_id="f", guid="1", title="Avsnitt",
                      enclosure=Enclosure(url, "audio/mpeg", None))
    try:
        download_audio(client, episode, data=data, settings=Settings(data_dir=root),
                       policy=POLICY)
    finally:
        assert find_audio(data, episode) is None  # nothing ever lands under a final name


def test_the_corpus_covers_what_the_issue_lists() -> None:
    names = {c["name"] for c in CASES}
    assert {"hang", "slow-body", "oversize-declared", "gzip-bomb", "redirect-loop",
            "redirect-to-metadata-service", "redirect-to-private-network"} <= names


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_hostile_server(case: dict[str, Any], http_server: LoopbackServer,
                        client: httpx.Client, tmp_path: Path) -> None:
    http_server.route("/case", _handler(case, http_server))
    url = f"http://{PUBLIC_NAME}:{http_server.port}/case"
    started = time.monotonic()
    with pytest.raises((FetchError, AudioError), match=case["expect"]):
        if case.get("download"):
            _download(client, url, tmp_path / "data")
        else:
            fetch(client, url, policy=POLICY)
    assert time.monotonic() - started < case["within_s"]


def test_the_loopback_server_is_reachable_as_a_public_host(
        http_server: LoopbackServer, client: httpx.Client) -> None:
    """The control for the cases above: the same setup fetches a good feed."""
    http_server.route("/case", httpserver.reply(b"<rss/>"))
    assert fetch(client, f"http://{PUBLIC_NAME}:{http_server.port}/case",
                 policy=POLICY).body == b"<rss/>"


_BOMB_CHILD = """
import json, sys
from pathlib import Path
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError
from poddarkiv.ingest.client import make_client, policy_for
from poddarkiv.ingest.fetch import fetch

policy = policy_for(Settings(allow_private=True))  # production caps, loopback allowed
def status(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key))
    return int(line.split()[1])

before = status("VmRSS:")
Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
error = None
with make_client(policy) as client:
    try:
        fetch(client, sys.argv[1], policy=policy)
    except FetchError as exc:
        error = str(exc)
after = status("VmHWM:")
print(json.dumps({"before_kb": before, "peak_kb": after, "error": error}))
"""


def _gzip_bomb_body(decompressed_bytes: int) -> bytes:
    """A gzip member inflating to ``decompressed_bytes`` zeros, built without holding them."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = bytes(1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(decompressed_bytes // len(chunk))
                    ) + packer.flush()


def test_a_large_gzip_bomb_keeps_memory_bounded(http_server: LoopbackServer,
                                                figures: dict[str, object]) -> None:
    body = _gzip_bomb_body(BOMB_BYTES)
    http_server.route("/bomb", lambda ex: ex.send(
        200, body, {"Content-Type": "application/rss+xml", "Content-Encoding": "gzip"}))
    out = subprocess.run([sys.executable, "-c", _BOMB_CHILD, http_server.url("/bomb")],
                         capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    growth_mb = (result["peak_kb"] - result["before_kb"]) / 1024
    figures[f"gzip bomb: {len(body) // 1024} kB inflating to {BOMB_BYTES >> 20} MB, "
            "peak RSS (MB)"] = round(result["peak_kb"] / 1024, 1)
    figures["gzip bomb: RSS growth during the fetch (MB)"] = round(growth_mb, 1)
    assert result["error"] and "after decompression" in result["error"]
    assert growth_mb < BOMB_PEAK_GROWTH_CAP_MB
