"""A real HTTP server on loopback for tests, with a handler per path.

Tests register what each path does, from the canned behaviours below (a feed with an ETag, a
redirect, a hang, a slow body, a gzip bomb, a 429, a download that breaks halfway…) or their
own function, and the server records every request so a test can assert how many were made::

    def test_moved_feed(http_server):
        http_server.route("/old", redirect("/new", status=301))
        http_server.route("/new", reply(FEED, content_type="application/rss+xml"))
        ...
        assert http_server.count("/old") == 1

The server runs in a thread of the test process, speaks HTTP/1.0 (one request per connection)
and stops when the test ends; handlers that wait (``hang``) give up as soon as it stops.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

__all__ = [
    "Exchange",
    "LoopbackServer",
    "Request",
    "broken_after",
    "conditional",
    "gzip_bomb",
    "hang",
    "http_server",
    "in_turn",
    "ranged",
    "redirect",
    "reply",
    "retry_after",
    "slow_body",
]

#: The longest any handler waits; a test never needs more.
MAX_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class Request:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


@dataclass(slots=True)
class Exchange:
    """What a handler gets: the request, a way to answer, and the server's stop signal."""

    request: Request
    raw: BaseHTTPRequestHandler
    stopping: threading.Event

    def head(self, status: int, headers: dict[str, str] | None = None) -> None:
        """Send the status line and headers."""
        self.raw.send_response(status)
        for name, value in (headers or {}).items():
            self.raw.send_header(name, value)
        self.raw.end_headers()

    def write(self, data: bytes) -> None:
        """Send part of the body now."""
        self.raw.wfile.write(data)
        self.raw.wfile.flush()

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        """Send a whole response with its Content-Length."""
        self.head(status, {"Content-Length": str(len(body)), **(headers or {})})
        self.write(body)


Handler = Callable[[Exchange], None]


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        request = Request("GET", parts.path, parts.query,
                          {k.lower(): v for k, v in self.headers.items()})
        self.server.owner.requests.append(request)
        handler = self.server.owner.routes.get(parts.path)
        exchange = Exchange(request, self, self.server.owner.stopping)
        try:
            if handler is None:
                exchange.send(404, b"not found", {"Content-Type": "text/plain"})
            else:
                handler(exchange)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, which is what many tests want it to do

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


@dataclass(slots=True)
class LoopbackServer:
    """The running server: register handlers with :meth:`route`, build URLs with :meth:`url`."""

    routes: dict[str, Handler] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    _server: _Server | None = None

    def start(self) -> LoopbackServer:
        self._server = _Server(("127.0.0.1", 0), _RequestHandler)
        self._server.owner = self
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        """Serve ``path`` with ``handler``; return its URL."""
        self.routes[path] = handler
        return self.url(path)

    def count(self, path: str) -> int:
        """How many requests ``path`` has received."""
        return sum(1 for r in self.requests if r.path == path)

    def last(self, path: str) -> Request:
        """The latest request for ``path``."""
        return [r for r in self.requests if r.path == path][-1]


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A loopback HTTP server for this test; register paths with ``http_server.route``."""
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


# -- canned behaviours ---------------------------------------------------------------------


def reply(body: bytes, *, status: int = 200, content_type: str = "application/rss+xml",
          headers: dict[str, str] | None = None) -> Handler:
    """Always answer ``status`` with ``body``."""
    def handle(ex: Exchange) -> None:
        ex.send(status, body, {"Content-Type": content_type, **(headers or {})})
    return handle


def conditional(body: bytes, *, etag: str | None = '"v1"', last_modified: str | None = None,
                content_type: str = "application/rss+xml") -> Handler:
    """Answer 304 when the request's validators match, else 200 with ``body``."""
    def handle(ex: Exchange) -> None:
        h = ex.request.headers
        if (etag and h.get("if-none-match") == etag) or (
                last_modified and h.get("if-modified-since") == last_modified):
            ex.head(304)
            return
        validators = {"ETag": etag, "Last-Modified": last_modified}
        ex.send(200, body, {"Content-Type": content_type,
                            **{k: v for k, v in validators.items() if v}})
    return handle


def redirect(location: str, *, status: int = 301) -> Handler:
    """Redirect to ``location`` (relative or absolute)."""
    def handle(ex: Exchange) -> None:
        ex.send(status, b"", {"Location": location})
    return handle


def retry_after(value: str, *, status: int = 429) -> Handler:
    """Refuse with ``status`` and a ``Retry-After`` header."""
    def handle(ex: Exchange) -> None:
        ex.send(status, b"slow down", {"Retry-After": value, "Content-Type": "text/plain"})
    return handle


def hang() -> Handler:
    """Accept the request and never answer (until the server stops)."""
    def handle(ex: Exchange) -> None:
        ex.stopping.wait(MAX_WAIT_S)
    return handle


def slow_body(*, chunk: bytes = b"<", every_s: float = 0.2, total_chunks: int = 1000,
              content_type: str = "application/rss+xml") -> Handler:
    """Send headers at once, then one ``chunk`` every ``every_s`` seconds."""
    def handle(ex: Exchange) -> None:
        ex.head(200, {"Content-Type": content_type,
                      "Content-Length": str(len(chunk) * total_chunks)})
        for _ in range(total_chunks):
            if ex.stopping.wait(every_s):
                return
            ex.write(chunk)
    return handle


def gzip_bomb(*, decompressed_bytes: int, content_type: str = "application/rss+xml") -> Handler:
    """A small gzip body (``Content-Encoding: gzip``) that inflates to ``decompressed_bytes``."""
    compressed = gzip.compress(b"\0" * decompressed_bytes, compresslevel=9)

    def handle(ex: Exchange) -> None:
        ex.send(200, compressed, {"Content-Type": content_type, "Content-Encoding": "gzip"})
    return handle


def _range_start(header: str | None, size: int) -> int | None:
    if not header or not header.startswith("bytes=") or not header.endswith("-"):
        return None
    first = header[len("bytes="):-1]
    return int(first) if first.isdigit() and int(first) < size else None


def ranged(body: bytes, *, content_type: str = "audio/mpeg", etag: str = '"a1"',
           support_range: bool = True) -> Handler:
    """Serve a file with byte-range support (RFC 9110 §14), honouring ``If-Range``."""
    def handle(ex: Exchange) -> None:
        h = ex.request.headers
        start = _range_start(h.get("range"), len(body)) if support_range else None
        if start is not None and h.get("if-range", etag) != etag:
            start = None  # the file changed: send it whole
        headers = {"Content-Type": content_type, "ETag": etag, "Accept-Ranges": "bytes"}
        if start is None:
            ex.send(200, body, headers)
            return
        headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        ex.send(206, body[start:], headers)
    return handle


def broken_after(body: bytes, *, sent_bytes: int, content_type: str = "audio/mpeg",
                 etag: str = '"a1"') -> Handler:
    """Promise all of ``body`` (Content-Length), send ``sent_bytes`` of it, hang up."""
    def handle(ex: Exchange) -> None:
        ex.head(200, {"Content-Type": content_type, "ETag": etag,
                      "Content-Length": str(len(body)), "Accept-Ranges": "bytes"})
        ex.write(body[:sent_bytes])
        time.sleep(0.05)
    return handle


def in_turn(*handlers: Handler) -> Handler:
    """The first request gets the first handler, the next the second…; the last one repeats."""
    calls = iter(handlers)
    current: list[Handler] = []

    def handle(ex: Exchange) -> None:
        nxt = next(calls, None)
        if nxt is not None:
            current[:] = [nxt]
        current[0](ex)
    return handle
