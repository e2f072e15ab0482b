"""HTTP for feeds, transcripts and audio: bounded, guarded, conditional.

poddarkiv never lets feedparser fetch anything. Every request goes through :func:`fetch` (bodies
held in memory: feeds, transcripts) or :func:`stream_to_file` (audio), which:

* send our User-Agent and, for feeds, ``If-None-Match``/``If-Modified-Since`` (RFC 9110 §13.1);
* follow at most :attr:`FetchPolicy.max_redirects` redirects themselves, checking each hop's
  scheme and refusing loops, and report a permanent move only when *every* hop was 301 or 308
  (RFC 9110 §15.4: 302, 303 and 307 are temporary and never rewrite a stored URL),
  see :mod:`poddarkiv.ingest.exchange`;
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.errors import FetchError, NotModified
from poddarkiv.ingest.client import FEED_ACCEPT, FetchPolicy, make_client, policy_for
from poddarkiv.ingest.exchange import (
    Deadline,
    Opened,
    content_length,
    open_exchange,
    parse_retry_after,
    raise_for_status,
    read_body,
)

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

_AUDIO_ACCEPT = "audio/*, video/*;q=0.8, */*;q=0.5"


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


def fetch(client: httpx.Client, url: str, *, policy: FetchPolicy, etag: str | None = None,
          last_modified: str | None = None, previous_sha256: str | None = None,
          accept: str = FEED_ACCEPT, clock: Clock = utcnow) -> FetchResult:
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
    deadline = Deadline(policy.deadline_s)
    with open_exchange(client, url, policy=policy, headers=headers, deadline=deadline) as opened:
        status = opened.response.status_code
        if status == 304:
            if opened.permanent_url is None:
                raise NotModified("not modified (HTTP 304)", url=url, status=304)
            body = b""
        else:
            raise_for_status(opened, clock=clock)
            body = b"".join(read_body(opened, max_bytes=policy.max_bytes, deadline=deadline))
    digest = hashlib.sha256(body).hexdigest()
    if status != 304 and digest == previous_sha256 and opened.permanent_url is None:
        raise NotModified("not modified (same body as last time)", url=url, status=status)
    return FetchResult(
        url=url, final_url=opened.final_url, permanent_url=opened.permanent_url, status=status,
        headers=opened.headers, body=body, etag=opened.headers.get("etag") or etag,
        last_modified=opened.headers.get("last-modified") or last_modified, sha256=digest,
    )


def _resume_start(opened: Opened, offset: int) -> int:
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


@contextmanager
def _file_errors(path: Path, url: str) -> Iterator[None]:
    """Turn an :class:`OSError` on ``path`` into :class:`FetchError`, chained to it."""
    try:
        yield
    except OSError as exc:
        raise FetchError(f"cannot write {path}: {exc.strerror or exc}", url=url) from exc


def stream_to_file(client: httpx.Client, url: str, path: Path, *, policy: FetchPolicy,
                   offset: int = 0, if_range: str | None = None,
                   on_headers: Callable[[dict[str, str]], None] | None = None,
                   clock: Clock = utcnow) -> StreamResult:
    """GET ``url`` into the file ``path``, resuming at byte ``offset`` when the server can.

    With ``offset`` > 0 a ``Range`` request is sent (with ``If-Range`` when a validator is
    given, so a file that changed on the server is sent whole instead of spliced). A 206 that
    starts at ``offset`` is appended; a 200 replaces the file from the start. The file is
    flushed and fsynced. Raises :class:`FetchError` over the cap, on a body shorter than its
    ``Content-Length`` (the partial file stays, ready to resume), on a 416, and when the file
    cannot be written (its :class:`OSError`, ``ENOSPC`` for a full disk, is the ``__cause__``).
    ``on_headers`` sees the final response's headers before the body is read (a caller keeps
    the validator there, so an interrupted download can be resumed safely).
    """
    headers = {"Accept": _AUDIO_ACCEPT, "Accept-Encoding": "identity",
               "User-Agent": policy.user_agent}
    if offset > 0:
        headers["Range"] = f"bytes={offset}-"
        if if_range:
            headers["If-Range"] = if_range
    deadline = Deadline(policy.deadline_s)
    with open_exchange(client, url, policy=policy, headers=headers, deadline=deadline) as opened:
        raise_for_status(opened, clock=clock)
        start = _resume_start(opened, offset)
        expected = content_length(opened)
        if on_headers is not None:
            on_headers(opened.headers)
        written = 0
        # read_body turns every network failure into FetchError, so an OSError here is the
        # file's own (a full disk, say).
        with _file_errors(path, url), open(path, "r+b" if start else "wb") as fh:
            fh.seek(start)
            fh.truncate()
            for piece in read_body(opened, max_bytes=policy.max_bytes - start, deadline=deadline):
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
