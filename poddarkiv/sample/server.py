"""A loopback HTTP server for the sample podcast: the demo's feed host and the tests' real one.

::

    with serve_sample() as server:
        response = httpx.get(server.feed_url)

It serves three kinds of resource from ``root`` (the bundled sample by default):

- ``/feed.xml``, with every ``{base}`` replaced by the server's own base URL, so enclosure and
  transcript URLs point back at it;
- ``/audio/<name>`` and ``/transcripts/<name>``: files of those folders, as they are.

Every answer carries ``Content-Type``, ``Content-Length``, ``ETag`` (a hash of the body) and
``Last-Modified`` (the file's modification time). Conditional requests get ``304 Not Modified``
(RFC 9110 §13.1.2 ``If-None-Match``, which wins over §13.1.3 ``If-Modified-Since``). A single
``Range: bytes=…`` gets ``206 Partial Content`` (§14.2), or ``416`` when it starts past the end;
several ranges, or a malformed one, get the whole body (a server MAY ignore Range). Anything
else is ``404``, including paths that try to leave the folders (``..``, encoded or not).
``GET`` and ``HEAD`` are allowed; other methods get ``405``.

The server runs in a daemon thread on an ephemeral port and logs nothing unless ``quiet=False``.
"""

from __future__ import annotations

import hashlib
import re
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

from poddarkiv.sample import sample_dir

__all__ = ["SampleServer", "ServedRequest", "serve_sample"]

BASE_PLACEHOLDER = "{base}"
FEED_PATH = "/feed.xml"
FILE_FOLDERS = ("audio", "transcripts")
IDLE_CONNECTION_TIMEOUT_S = 10  # a kept-alive connection left idle this long is closed
POLL_INTERVAL_S = 0.05  # how often serve_forever looks for shutdown

# One path segment: starts with a letter or digit, so never "." or ".." or a hidden file.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BYTE_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
ByteRange = tuple[int, int] | Literal["unsatisfiable"] | None
_CONTENT_TYPES = {
    ".mp3": "audio/mpeg",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".vtt": "text/vtt; charset=utf-8",
    ".srt": "application/x-subrip",
    ".json": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/rss+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class ServedRequest:
    """One request the server answered: what was asked, and the status it got."""

    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The request's value for header ``name`` (case-insensitive), or ``None``."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


class _RequestLog:
    """The requests answered so far, appended to from the handler threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[ServedRequest] = []

    def add(self, entry: ServedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> tuple[ServedRequest, ...]:
        with self._lock:
            return tuple(self._entries)


@dataclass(frozen=True)
class SampleServer:
    """A running sample server: where it listens and what it has answered."""

    base_url: str
    feed_url: str
    host: str
    port: int
    root: Path
    _log: _RequestLog = field(repr=False, compare=False)

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server (``"/audio/x.mp3"`` or ``"audio/x.mp3"``)."""
        return f"{self.base_url}/{path.lstrip('/')}"

    def requests(self) -> tuple[ServedRequest, ...]:
        """Every request answered so far, oldest first."""
        return self._log.snapshot()


@dataclass(frozen=True, slots=True)
class _Resource:
    body: bytes
    content_type: str
    etag: str
    last_modified: int  # seconds since the epoch (HTTP dates have one-second resolution)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], *, root: Path, quiet: bool,
                 log: _RequestLog) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.root = root
        self.quiet = quiet
        self.log = log
        self.base_url = ""

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up mid-answer (a player seeking, a test closing early) is normal.
        if self.quiet and isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


def _resolve(root: Path, path: str) -> Path | None:
    """The file ``path`` names under ``root``, or ``None`` if it names nothing we serve."""
    if path == FEED_PATH:
        candidate = root / "feed.xml"
    else:
        parts = path.split("/")
        if len(parts) != 3 or parts[0] or parts[1] not in FILE_FOLDERS:
            return None
        if not _FILE_NAME.fullmatch(parts[2]):
            return None
        candidate = root / parts[1] / parts[2]
    # Belt and braces against symlinks: what we open must still lie in its folder.
    if not candidate.is_file() or candidate.resolve().parent != candidate.parent.resolve():
        return None
    return candidate


def _load(file: Path, *, base_url: str) -> _Resource:
    stat = file.stat()
    body = file.read_bytes()
    if file.name == "feed.xml":
        body = body.replace(BASE_PLACEHOLDER.encode(), base_url.encode())
        content_type = _CONTENT_TYPES[".xml"]
    else:
        content_type = _CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    return _Resource(body=body, content_type=content_type, etag=etag,
                     last_modified=int(stat.st_mtime))


def _etag_matches(header: str, etag: str) -> bool:
    """RFC 9110 §13.1.2: weak comparison against a list of entity tags, or ``*``."""
    if header.strip() == "*":
        return True
    tags = (tag.strip().removeprefix("W/") for tag in header.split(","))
    return etag in tags


def _not_modified(headers: dict[str, str], resource: _Resource) -> bool:
    """Whether a GET or HEAD with these headers should get 304 (RFC 9110 §13.2.2 order)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return _etag_matches(if_none_match, resource.etag)
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since).timestamp()
    except (TypeError, ValueError):
        return False  # §13.1.3: an invalid date is ignored
    return resource.last_modified <= since


def _byte_range(headers: dict[str, str], resource: _Resource) -> ByteRange:
    """The first and last byte asked for, ``None`` for the whole body, or unsatisfiable."""
    header = headers.get("range")
    if header is None:
        return None
    if_range = headers.get("if-range")
    if if_range is not None and if_range.strip() != resource.etag:
        return None  # §13.1.5: the representation changed, send all of it
    match = _BYTE_RANGE.fullmatch(header.replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None  # several ranges or bad syntax: ignored, as §14.2 allows
    size = len(resource.body)
    first_text, last_text = match.groups()
    if first_text == "":  # suffix range: the last N bytes
        suffix = int(last_text)
        return (max(0, size - suffix), size - 1) if suffix and size else "unsatisfiable"
    first = int(first_text)
    if last_text and int(last_text) < first:
        return None  # §14.1.1: an invalid range-spec
    if first >= size:
        return "unsatisfiable"
    return first, size - 1 if last_text == "" else min(int(last_text), size - 1)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "poddarkiv-sample"
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT_S

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _refuse_method(self) -> None:
        self.close_connection = True  # we do not read a request body
        self._reply_plain(HTTPStatus.METHOD_NOT_ALLOWED, extra={"Allow": "GET, HEAD"})

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse_method

    def _serve(self, *, send_body: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        file = _resolve(self.server.root, path)
        if file is None:
            self._reply_plain(HTTPStatus.NOT_FOUND, send_body=send_body)
            return
        resource = _load(file, base_url=self.server.base_url)
        headers = {key.lower(): value for key, value in self.headers.items()}
        validators = {"ETag": resource.etag,
                      "Last-Modified": formatdate(resource.last_modified, usegmt=True)}
        if _not_modified(headers, resource):
            self._reply(HTTPStatus.NOT_MODIFIED, validators)
            return
        size = len(resource.body)
        # RFC 9110 §14.2: Range is defined for GET only; HEAD describes the whole body.
        wanted = _byte_range(headers, resource) if send_body else None
        if wanted == "unsatisfiable":
            self._reply_plain(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, send_body=send_body,
                              extra={"Content-Range": f"bytes */{size}"})
            return
        status, body = HTTPStatus.OK, resource.body
        fields = {"Content-Type": resource.content_type, "Accept-Ranges": "bytes", **validators}
        if isinstance(wanted, tuple):
            first, last = wanted
            status, body = HTTPStatus.PARTIAL_CONTENT, resource.body[first:last + 1]
            fields["Content-Range"] = f"bytes {first}-{last}/{size}"
        fields["Content-Length"] = str(len(body))
        self._reply(status, fields, body if send_body else b"")

    def _reply_plain(self, status: HTTPStatus, *, send_body: bool = True,
                     extra: dict[str, str] | None = None) -> None:
        body = f"{status.value} {status.phrase}\n".encode()
        fields = {"Content-Type": "text/plain; charset=utf-8",
                  "Content-Length": str(len(body)), **(extra or {})}
        self._reply(status, fields, body if send_body else b"")

    def _reply(self, status: HTTPStatus, fields: dict[str, str], body: bytes = b"") -> None:
        # Logged before the answer goes out, so a client that has its answer finds it logged.
        self.server.log.add(ServedRequest(method=self.command, path=self.path,
                                          status=int(status),
                                          headers=tuple(self.headers.items())))
        self.send_response(status)
        for name, value in fields.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        if not self.server.quiet:
            sys.stderr.write(f"{self.address_string()} - {format % args}\n")


@contextmanager
def serve_sample(*, host: str = "127.0.0.1", port: int = 0, root: Path | None = None,
                 quiet: bool = True) -> Iterator[SampleServer]:
    """Serve the sample (or ``root``, laid out the same way) until the block ends.

    ``port=0`` picks a free port; the chosen one is in the yielded :class:`SampleServer`.
    """
    folder = (root if root is not None else sample_dir()).resolve()
    log = _RequestLog()
    server = _Server((host, port), root=folder, quiet=quiet, log=log)
    bound_port = int(server.server_address[1])
    url_host = f"[{host}]" if ":" in host else host
    server.base_url = f"http://{url_host}:{bound_port}"
    thread = threading.Thread(target=server.serve_forever, args=(POLL_INTERVAL_S,),
                              name=f"sample-server-{bound_port}", daemon=True)
    thread.start()
    try:
        yield SampleServer(base_url=server.base_url, feed_url=server.base_url + FEED_PATH,
                           host=host, port=bound_port, root=folder, _log=log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
