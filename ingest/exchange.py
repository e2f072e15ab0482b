"""One GET exchange, bounded: redirects followed hop by hop, status checked, body read in steps.

:mod:`poddarkiv.ingest.fetch` builds on this. Redirects are followed here rather than by httpx so
that every hop's scheme is checked, loops are caught, at most ``max_redirects`` are taken, and a
move counts as permanent only when every hop was 301 or 308 (RFC 9110 §15.4). A deadline bounds
the whole exchange, and the body is decompressed in small steps (:mod:`poddarkiv.ingest.inflate`)
and counted after decompression, so a size cap holds against gzip bombs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from poddarkiv.archive.times import Clock
from poddarkiv.errors import FetchError
from poddarkiv.ingest.client import MAX_RETRY_AFTER_S, FetchPolicy
from poddarkiv.ingest.guard import check_url
from poddarkiv.ingest.inflate import Inflater

__all__ = [
    "Deadline",
    "Opened",
    "content_length",
    "http_errors",
    "open_exchange",
    "parse_retry_after",
    "raise_for_status",
    "read_body",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})



class Deadline:
    """A point in time after which the exchange gives up (monotonic clock)."""

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + seconds
        self._seconds = seconds

    def remaining(self, url: str) -> float:
        """Seconds left; raises :class:`FetchError` when there are none."""
        left = self._end - time.monotonic()
        if left <= 0:
            raise FetchError(f"gave up after the {self._seconds:g} s deadline", url=url)
        return left


@dataclass(frozen=True, slots=True)
class Opened:
    """The final response of an exchange, headers read, body not yet."""

    response: httpx.Response
    final_url: str
    permanent_url: str | None
    headers: dict[str, str]


@contextmanager
def http_errors(url: str) -> Iterator[None]:
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
          deadline: Deadline) -> httpx.Response:
    check_url(url, schemes=policy.schemes, allow_private=policy.allow_private)
    left = deadline.remaining(url)
    timeout = httpx.Timeout(min(policy.read_timeout_s, left),
                            connect=min(policy.connect_timeout_s, left))
    with http_errors(url):
        request = client.build_request("GET", url, headers=headers, timeout=timeout)
        return client.send(request, stream=True)


@contextmanager
def open_exchange(client: httpx.Client, url: str, *, policy: FetchPolicy,
                  headers: dict[str, str], deadline: Deadline) -> Iterator[Opened]:
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
        yield Opened(response, current, moved, _headers(response))
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


def raise_for_status(opened: Opened, *, clock: Clock) -> None:
    """Raise :class:`FetchError` unless the status is 2xx (with Retry-After for 429/503)."""
    status = opened.response.status_code
    if 200 <= status < 300:
        return
    retry = None
    if status in (429, 503):
        retry = parse_retry_after(opened.headers.get("retry-after"), now=clock())
    reason = opened.response.reason_phrase or ""
    raise FetchError(f"HTTP {status} {reason}".strip(), url=opened.final_url, status=status,
                     retry_after_s=retry)


def content_length(opened: Opened) -> int | None:
    """The declared body length, when the body is not compressed and the header is sane."""
    if opened.headers.get("content-encoding", "identity").strip().lower() != "identity":
        return None
    raw = opened.headers.get("content-length", "").strip()
    return int(raw) if raw.isdigit() else None


def read_body(opened: Opened, *, max_bytes: int, deadline: Deadline) -> Iterator[bytes]:
    """The decoded body in pieces; raises once more than ``max_bytes`` have come out."""
    url = opened.final_url
    declared = content_length(opened)
    if declared is not None and declared > max_bytes:
        raise FetchError(f"body of {declared} bytes is over the {max_bytes}-byte cap", url=url)
    inflater = Inflater(opened.headers.get("content-encoding", ""), url=url)
    total = 0
    with http_errors(url):
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


