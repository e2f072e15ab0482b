"""HTTP for feeds, transcripts and audio: bounded, guarded, conditional.

poddarkiv never lets feedparser fetch anything. Every request goes through :func:`fetch` (bodies
held in memory: feeds, transcripts) or :func:`stream_to_file` (audio), which:

* send our User-Agent and, for feeds, ``If-None-Match``/``If-Modified-Since`` (RFC 9110 §13.1);
* follow at most :attr:`FetchPolicy.max_redirects` redirects themselves, checking each hop's
  scheme and refusing loops, and report a permanent move only when *every* hop was 301 or 308
  (RFC 9110 §15.4: 302, 303 and 307 are temporary and never rewrite a stored URL);
* connect only to public addresses unless told otherwise (:mod:`poddarkiv.ingest.guard`);
* bound the whole exchange by a connect timeout, a read timeout and a total deadline, so a
  server that trickles one byte a second cannot hold an ingest forever;
* decompress gzip/deflate themselves in small steps and count the size cap *after*
  decompression, so a gzip bomb stops at the cap instead of filling memory;
* treat a 304, or a body hashing the same as last time, as :class:`NotModified`;
* parse ``Retry-After`` on 429 and 503 into :attr:`FetchError.retry_after_s`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin

import httpx

from poddarkiv.errors import FetchError, NotModified
from poddarkiv.ingest.client import (
    FEED_ACCEPT,
    MAX_RETRY_AFTER_S,
    FetchPolicy,
    make_client,
    policy_for,
)
from poddarkiv.ingest.guard import check_url
from poddarkiv.ingest.inflate import Inflater

__all__ = [
    "FetchPolicy",
    "FetchResult",
    "StreamResult",
    "fetch",
    "make_client",
    "parse_retry_after",
    "policy_for",
    "stream_to_file",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_AUDIO_ACCEPT = "audio/*, video/*;q=0.8, */*;q=0.5"

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _media_type(headers: dict[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A fetched body and what the server said about it.

    ``permanent_url`` is the final URL when every redirect hop was permanent (301/308), else
    ``None``. ``status`` is 304 (with an empty body) only in one case: the resource is unchanged
    but has moved permanently, so the caller can still record the move.
    """

    url: str
    final_url: str
    permanent_url: str | None
    status: int
    headers: dict[str, str]
    body: bytes
    etag: str | None
    last_modified: str | None
    sha256: str

    @property
    def content_type(self) -> str:
        """The media type, lowercase, without parameters (``""`` when none was sent)."""
        return _media_type(self.headers)


@dataclass(frozen=True, slots=True)
class StreamResult:
    """What :func:`stream_to_file` wrote."""

    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    bytes_written: int
    size_bytes: int
    resumed: bool
    etag: str | None
    last_modified: str | None

    @property
    def content_type(self) -> str:
        """The media type, lowercase, without parameters (``""`` when none was sent)."""
        return _media_type(self.headers)


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._seconds = seconds

    def remaining(self, url: str) -> float:
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchError(f"gave up after the {self._seconds:g} s deadline", url=url)
        return left


@dataclass(frozen=True, slots=True)
class _Opened:
    response: httpx.Response
    final_url: str
    permanent_url: str | None
    headers: dict[str, str]


@contextmanager
def _http_errors(url: str) -> Iterator[None]:
    """Turn httpx's exceptions into :class:`FetchError` (ours pass through untouched)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise FetchError(f"timed out ({type(exc).__name__})", url=url) from exc
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        raise FetchError(f"request failed: {exc or type(exc).__name__}", url=url) from exc


def _headers(response: httpx.Response) -> dict[str, str]:
    """Response headers as a plain dict with lowercase names; repeated ones joined by commas."""
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _send(client: httpx.Client, url: str, *, policy: FetchPolicy, headers: dict[str, str],
          deadline: _Deadline) -> httpx.Response:
    check_url(url, schemes=policy.schemes, allow_private=policy.allow_private)
    left = deadline.remaining(url)
    timeout = httpx.Timeout(min(policy.read_timeout_s, left),
                            connect=min(policy.connect_timeout_s, left))
    with _http_errors(url):
        request = client.build_request("GET", url, headers=headers, timeout=timeout)
        return client.send(request, stream=True)


@contextmanager
def _open(client: httpx.Client, url: str, *, policy: FetchPolicy, headers: dict[str, str],
          deadline: _Deadline) -> Iterator[_Opened]:
    """GET ``url``, following redirects hop by hop; yield the final, still unread, response."""
    current, seen, permanent, hops = url, {url}, True, 0
    while True:
        response = _send(client, current, policy=policy, headers=headers, deadline=deadline)
        location = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            break
        response.close()
        hops += 1
        if hops > policy.max_redirects:
            raise FetchError(f"more than {policy.max_redirects} redirects", url=url)
        target = urljoin(current, location.strip())
        if target in seen:
            raise FetchError(f"redirect loop at {target}", url=url)
        seen.add(target)
        permanent = permanent and response.status_code in _PERMANENT
        current = target
    try:
        moved = current if hops and permanent else None
        yield _Opened(response, current, moved, _headers(response))
    finally:
        response.close()


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (RFC 9110 §10.2.3), capped at a week."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(min(int(value), MAX_RETRY_AFTER_S))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return float(max(0.0, min((when - now).total_seconds(), MAX_RETRY_AFTER_S)))


def _raise_for_status(opened: _Opened, *, clock: Clock) -> None:
    status = opened.response.status_code
    if 200 <= status < 300:
        return
    retry = None
    if status in (429, 503):
        retry = parse_retry_after(opened.headers.get("retry-after"), now=clock())
    reason = opened.response.reason_phrase or ""
    raise FetchError(f"HTTP {status} {reason}".strip(), url=opened.final_url, status=status,
                     retry_after_s=retry)


def _content_length(opened: _Opened) -> int | None:
    """The declared body length, when the body is not compressed and the header is sane."""
    if opened.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    raw = opened.headers.get("content-length", "").strip()
    return int(raw) if raw.isdigit() else None


def _body(opened: _Opened, *, max_bytes: int, deadline: _Deadline) -> Iterator[bytes]:
    """The decoded body in pieces; raises once more than ``max_bytes`` have come out."""
    url = opened.final_url
    declared = _content_length(opened)
    if declared is not None and declared > max_bytes:
        raise FetchError(f"body of {declared} bytes is over the {max_bytes}-byte cap", url=url)
    inflater = Inflater(opened.headers.get("content-encoding", ""), url=url)
    total = 0
    with _http_errors(url):
        for raw in opened.response.iter_raw():  # each network read, however small
            deadline.remaining(url)
            for piece in inflater.feed(raw):
                total += len(piece)
                if total > max_bytes:
                    raise FetchError(f"body is over the {max_bytes}-byte cap "
                                     "(counted after decompression)", url=url)
                yield piece
    tail = inflater.flush()
    if total + len(tail) > max_bytes:
        raise FetchError(f"body is over the {max_bytes}-byte cap", url=url)
    if tail:
        yield tail


def fetch(client: httpx.Client, url: str, *, policy: FetchPolicy, etag: str | None = None,
          last_modified: str | None = None, previous_sha256: str | None = None,
          accept: str = FEED_ACCEPT, clock: Clock = _utcnow) -> FetchResult:
    """GET ``url`` into memory under ``policy``; conditional when validators are given.

    Raises :class:`NotModified` on a 304 or when the body's SHA-256 equals ``previous_sha256``
    (unless the feed moved permanently on the way, see :class:`FetchResult`), and
    :class:`FetchError` for everything else that goes wrong.
    """
    headers = {"Accept": accept, "Accept-Encoding": "gzip, deflate",
               "User-Agent": policy.user_agent}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = _Deadline(policy.deadline_s)
    with _open(client, url, policy=policy, headers=headers, deadline=deadline) as opened:
        status = opened.response.status_code
        if status == 304:
            if opened.permanent_url is None:
                raise NotModified("not modified (HTTP 304)", url=url, status=304)
            body = b""
        else:
            _raise_for_status(opened, clock=clock)
            body = b"".join(_body(opened, max_bytes=policy.max_bytes, deadline=deadline))
    digest = hashlib.sha256(body).hexdigest()
    if status != 304 and digest == previous_sha256 and opened.permanent_url is None:
        raise NotModified("not modified (same body as last time)", url=url, status=status)
    return FetchResult(
        url=url, final_url=opened.final_url, permanent_url=opened.permanent_url, status=status,
        headers=opened.headers, body=body, etag=opened.headers.get("etag") or etag,
        last_modified=opened.headers.get("last-modified") or last_modified, sha256=digest,
    )


def _resume_start(opened: _Opened, offset: int) -> int:
    """Where the response body starts in the file: ``offset`` for a 206, 0 for a 200."""
    if opened.response.status_code != 206:
        return 0
    content_range = opened.headers.get("content-range", "")
    unit, _, spec = content_range.partition(" ")
    first = spec.partition("-")[0].strip()
    if unit.strip().lower() != "bytes" or not first.isdigit() or int(first) != offset:
        raise FetchError(f"server resumed at {content_range!r}, not at byte {offset}",
                         url=opened.final_url, status=206)
    return offset


def stream_to_file(client: httpx.Client, url: str, path: Path, *, policy: FetchPolicy,
                   offset: int = 0, if_range: str | None = None,
                   on_headers: Callable[[dict[str, str]], None] | None = None,
                   clock: Clock = _utcnow) -> StreamResult:
    """GET ``url`` into the file ``path``, resuming at byte ``offset`` when the server can.

    With ``offset`` > 0 a ``Range`` request is sent (with ``If-Range`` when a validator is
    given, so a file that changed on the server is sent whole instead of spliced). A 206 that
    starts at ``offset`` is appended; a 200 replaces the file from the start. The file is
    flushed and fsynced. Raises :class:`FetchError` over the cap, on a body shorter than its
    ``Content-Length`` (the partial file stays, ready to resume) and on a 416.
    ``on_headers`` sees the final response's headers before the body is read (a caller keeps
    the validator there, so an interrupted download can be resumed safely).
    """
    headers = {"Accept": _AUDIO_ACCEPT, "Accept-Encoding": "identity",
               "User-Agent": policy.user_agent}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
        if if_range:
            headers["If-Range"] = if_range
    deadline = _Deadline(policy.deadline_s)
    with _open(client, url, policy=policy, headers=headers, deadline=deadline) as opened:
        _raise_for_status(opened, clock=clock)
        start = _resume_start(opened, offset)
        expected = _content_length(opened)
        if on_headers is not None:
            on_headers(opened.headers)
        written = 0
        with open(path, "r+b" if start else "wb") as fh:
            fh.seek(start)
            fh.truncate()
            for piece in _body(opened, max_bytes=policy.max_bytes - start, deadline=deadline):
                fh.write(piece)
                written += len(piece)
            fh.flush()
            os.fsync(fh.fileno())
    if expected is not None and written != expected:
        raise FetchError(f"body ended after {written} of {expected} bytes", url=url)
    return StreamResult(
        url=url, final_url=opened.final_url, status=opened.response.status_code,
        headers=opened.headers, bytes_written=written, size_bytes=start + written,
        resumed=start > 0, etag=opened.headers.get("etag"),
        last_modified=opened.headers.get("last-modified"),
    )
