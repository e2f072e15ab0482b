"""Refresh one feed into the catalogue: cheap when nothing changed, patient when it fails.

* A conditional GET with the stored ETag, Last-Modified and body hash: an unchanged feed costs
  one request, no parsing, and writes nothing to the catalogue.
* A permanent move (every redirect hop 301/308, or ``itunes:new-feed-url`` /
  ``podcast:newFeedUrl``) rewrites the stored URL; temporary redirects never do. The feed keeps
  its id, so its episodes keep theirs.
* A failure (HTTP error, timeout, cap, refused address, a body that is not a feed) is counted
  on the feed, and the next fetch waits: :data:`BACKOFF_BASE_S` doubled per consecutive error
  up to :data:`MAX_BACKOFF_S`, or longer when the server sent ``Retry-After``. Until then the
  feed is ``skipped``.
* Episodes are matched by id (see :mod:`poddarkiv.ingest.identity`): new ones are inserted,
  changed ones updated, and what poddarkiv learned itself (``audio_path``, ``audio_sha256``)
  is kept. Episodes gone from the feed stay in the archive.

Episodes are written before the feed's new hash, so a crash half-way means the next refresh
parses the feed again instead of believing it was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import httpx

from poddarkiv.archive.models import Feed
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import FeedError, FetchError, NotModified
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed
from poddarkiv.ingest.fetch import FetchResult, fetch
from poddarkiv.ingest.identity import feed_id_for, normalise_feed_url

__all__ = [
    "BACKOFF_BASE_S",
    "MAX_BACKOFF_S",
    "FeedOutcome",
    "FeedStatus",
    "backoff_s",
    "refresh_feed",
]

#: The wait after a feed's first failure; it doubles with each consecutive failure.
BACKOFF_BASE_S = 15 * 60.0
#: The longest wait we choose ourselves (a server's Retry-After may ask for up to a week).
MAX_BACKOFF_S = 24 * 3600.0
_MAX_ERROR_CHARS = 500

FeedStatus = Literal["new", "updated", "unchanged", "failed", "skipped"]
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What refreshing one feed did."""

    feed_id: str
    url: str
    status: FeedStatus
    new_episode_ids: tuple[str, ...] = ()
    updated_episode_ids: tuple[str, ...] = ()
    error: str | None = None
    moved_to: str | None = None
    title: str = ""
    problems: tuple[str, ...] = ()
    retry_at: datetime | None = None


def backoff_s(error_count: int) -> float:
    """Seconds to wait after ``error_count`` consecutive failures."""
    if error_count <= 0:
        return 0.0
    return float(min(BACKOFF_BASE_S * 2 ** min(error_count - 1, 30), MAX_BACKOFF_S))


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _resolve(catalogue: Catalogue, target: str | Feed) -> tuple[Feed, bool]:
    """The stored feed for ``target`` (and True), or a new unsaved one (and False)."""
    if isinstance(target, Feed):
        stored = catalogue.feed(target.id)
        return (stored, True) if stored is not None else (target, False)
    url = target.strip()
    stored = (catalogue.feed_by_url(url) or catalogue.feed_by_url(normalise_feed_url(url))
              or catalogue.feed(feed_id_for(url)))
    if stored is not None:
        return stored, True
    return Feed(id=feed_id_for(url), url=url), False


def _failed(catalogue: Catalogue, feed: Feed, known: bool, exc: FetchError | FeedError,
            now: datetime) -> FeedOutcome:
    errors = feed.error_count + 1
    delay = backoff_s(errors)
    if isinstance(exc, FetchError) and exc.retry_after_s is not None:
        delay = max(delay, exc.retry_after_s)
    retry_at = now + timedelta(seconds=delay)
    message = str(exc)[:_MAX_ERROR_CHARS] or type(exc).__name__
    if known:  # a URL that never worked is not added to the catalogue
        catalogue.save_feed(feed.replace(error_count=errors, last_error=message,
                                         next_fetch_after=retry_at))
    return FeedOutcome(feed.id, feed.url, "failed", error=message, title=feed.title,
                       retry_at=retry_at)


def _unchanged(catalogue: Catalogue, feed: Feed, moved_to: str | None) -> FeedOutcome:
    if feed.error_count or feed.last_error or feed.next_fetch_after or moved_to:
        catalogue.save_feed(feed.replace(error_count=0, last_error=None, next_fetch_after=None,
                                         url=moved_to or feed.url))
    return FeedOutcome(feed.id, moved_to or feed.url, "unchanged", moved_to=moved_to,
                       title=feed.title)


def _move_target(catalogue: Catalogue, feed: Feed, result: FetchResult,
                 parsed: ParsedFeed | None, problems: list[str]) -> str | None:
    """Where the feed now lives, if it moved permanently and nothing else lives there."""
    candidate = (parsed.new_feed_url if parsed else None) or result.permanent_url
    if not candidate or candidate == feed.url:
        return None
    other = catalogue.feed_by_url(candidate)
    if other is not None and other.id != feed.id:
        problems.append(f"not moved to {candidate}: another feed has that URL")
        return None
    return candidate


def _store_episodes(catalogue: Catalogue, parsed: ParsedFeed
                    ) -> tuple[tuple[str, ...], tuple[str, ...]]:
    new: list[str] = []
    updated: list[str] = []
    for episode in parsed.episodes:
        old = catalogue.episode(episode.id)
        if old is not None:
            episode = episode.replace(audio_path=old.audio_path, audio_sha256=old.audio_sha256)
            if episode == old:
                continue
        catalogue.save_episode(episode)
        (updated if old is not None else new).append(episode.id)
    return tuple(new), tuple(updated)


def _store(catalogue: Catalogue, feed: Feed, known: bool, result: FetchResult,
           parsed: ParsedFeed, now: datetime) -> FeedOutcome:
    problems = list(parsed.problems)
    moved_to = _move_target(catalogue, feed, result, parsed, problems)
    updated_feed = parsed.apply_to(feed)
    if not known:
        catalogue.save_feed(updated_feed)  # episodes refer to their feed
    new, updated = _store_episodes(catalogue, parsed)
    by_new_feed_url = moved_to is not None and moved_to == parsed.new_feed_url
    catalogue.save_feed(updated_feed.replace(
        url=moved_to or feed.url,
        # Validators belong to the URL that sent them; a URL named by the feed has its own.
        etag=None if by_new_feed_url else result.etag,
        last_modified=None if by_new_feed_url else result.last_modified,
        body_sha256=result.sha256, error_count=0, last_error=None, last_fetched=now,
        next_fetch_after=None))
    changed = bool(new or updated or moved_to) or updated_feed != feed
    status: FeedStatus = "new" if not known else "updated" if changed else "unchanged"
    return FeedOutcome(feed.id, moved_to or feed.url, status, new, updated, moved_to=moved_to,
                       title=updated_feed.title, problems=tuple(problems))


def refresh_feed(catalogue: Catalogue, client: httpx.Client, target: str | Feed, *,
                 settings: Settings, policy: FetchPolicy | None = None,
                 clock: Clock = _utcnow, force: bool = False) -> FeedOutcome:
    """Fetch one feed (a URL or a stored :class:`Feed`) and bring the catalogue up to date.

    Never raises for the feed's own failures: they are counted on the feed and reported in the
    outcome. ``force`` fetches even a feed that is backing off. Catalogue errors propagate.
    """
    feed, known = _resolve(catalogue, target)
    now = clock()
    if known and not force and feed.next_fetch_after and now < feed.next_fetch_after:
        return FeedOutcome(feed.id, feed.url, "skipped", title=feed.title,
                           error=f"backing off after {feed.error_count} error(s) until "
                                 f"{feed.next_fetch_after.isoformat()}: {feed.last_error}",
                           retry_at=feed.next_fetch_after)
    policy = policy or policy_for(settings)
    try:
        result = fetch(client, feed.url, policy=policy, etag=feed.etag,
                       last_modified=feed.last_modified, previous_sha256=feed.body_sha256,
                       clock=clock)
    except NotModified:
        return _unchanged(catalogue, feed, None)
    except FetchError as exc:
        return _failed(catalogue, feed, known, exc, now)
    if result.status == 304:  # moved permanently, otherwise unchanged
        return _unchanged(catalogue, feed, _move_target(catalogue, feed, result, None, []))
    try:
        parsed = parse_feed(result.body, url=result.final_url, feed_id=feed.id,
                            headers=result.headers)
    except FeedError as exc:
        return _failed(catalogue, feed, known, exc, now)
    return _store(catalogue, feed, known, result, parsed, now)
