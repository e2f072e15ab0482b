"""Refresh one feed into the catalogue: cheap when nothing changed, patient when it fails.

* A conditional GET with the stored ETag, Last-Modified and body hash: an unchanged feed costs
  one request, no parsing, and writes nothing to the catalogue.
* A permanent move (every redirect hop 301/308, or ``itunes:new-feed-url`` /
  ``podcast:newFeedUrl``) rewrites the stored URL; temporary redirects never do. The feed keeps
  its id, so its episodes keep theirs, and the old URL goes into ``previous_urls``. A new
  address named by the feed is followed only after it passes the address guard and answers
  with a parsable feed; a move back to a previous address, or to a feed that names us as *its*
  new address, is a loop: the feed stays put and the refusal is recorded in its problems.
* A failure (HTTP error, timeout, cap, refused address, a body that is not a feed, or any
  exception while reading or storing it) is counted on the feed, and the next fetch waits:
  :data:`BACKOFF_BASE_S` doubled per consecutive error up to :data:`MAX_BACKOFF_S`, or longer
  when the server sent ``Retry-After``. Until then the
  feed is ``skipped``.
* Episodes are matched by id (see :mod:`poddarkiv.ingest.identity`): new ones are inserted,
  changed ones updated, and what poddarkiv learned itself (``audio_path``, ``audio_sha256``)
  is kept. Episodes gone from the feed stay in the archive. An episode that cannot be stored
  (any exception) fails alone: it is listed among the feed's skipped items with the reason,
  the others are stored, and the next refresh reads the feed again in full.

Episodes are written before the feed's new hash, so a crash half-way means the next refresh
parses the feed again instead of believing it was stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import httpx

from poddarkiv.archive.models import Feed, SkippedItem
from poddarkiv.archive.store import Catalogue
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError, NotModified, PoddarkivError
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed
from poddarkiv.ingest.fetch import FetchResult, fetch
from poddarkiv.ingest.identity import feed_id_for, normalise_feed_url

__all__ = [
    "BACKOFF_BASE_S",
    "MAX_BACKOFF_S",
    "MAX_PREVIOUS_URLS",
    "FeedOutcome",
    "FeedStatus",
    "backoff_s",
    "error_message",
    "refresh_feed",
]

#: The wait after a feed's first failure; it doubles with each consecutive failure.
BACKOFF_BASE_S = 15 * 60.0
#: The longest wait we choose ourselves (a server's Retry-After may ask for up to a week).
MAX_BACKOFF_S = 24 * 3600.0
_MAX_ERROR_CHARS = 500
#: How many earlier addresses a feed remembers.
MAX_PREVIOUS_URLS = 20

FeedStatus = Literal["new", "updated", "unchanged", "failed", "skipped"]


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
    skipped: tuple[SkippedItem, ...] = ()
    item_count: int = 0
    #: Episodes of this feed with show notes only (no audio, no transcript), as last parsed.
    text_only: int = 0

    @property
    def skipped_count(self) -> int:
        """How many of the feed's items did not become episodes (see ``skipped``)."""
        return sum(item.count for item in self.skipped)


def backoff_s(error_count: int) -> float:
    """Seconds to wait after ``error_count`` consecutive failures."""
    if error_count <= 0:
        return 0.0
    return float(min(BACKOFF_BASE_S * 2 ** min(error_count - 1, 30), MAX_BACKOFF_S))


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


def error_message(exc: BaseException) -> str:
    """What to tell the user about ``exc``: our own errors as they are, others with their type."""
    if isinstance(exc, PoddarkivError):
        message = str(exc) or type(exc).__name__
    else:  # not one we expected: say what it was, so it can be reported
        message = f"unexpected {type(exc).__name__}: {exc}"
    return message[:_MAX_ERROR_CHARS]


def _failed(catalogue: Catalogue, feed: Feed, known: bool, exc: Exception,
            now: datetime) -> FeedOutcome:
    errors = feed.error_count + 1
    delay = backoff_s(errors)
    if isinstance(exc, FetchError) and exc.retry_after_s is not None:
        delay = max(delay, exc.retry_after_s)
    retry_at = now + timedelta(seconds=delay)
    message = error_message(exc)
    # A URL that never worked is not added to the catalogue (unless storing it had begun).
    if known or catalogue.feed(feed.id) is not None:
        catalogue.save_feed(feed.replace(error_count=errors, last_error=message,
                                         next_fetch_after=retry_at))
    return FeedOutcome(feed.id, feed.url, "failed", error=message, title=feed.title,
                       retry_at=retry_at)


def _history(feed: Feed, moved_to: str | None) -> tuple[str, ...]:
    if moved_to is None:
        return feed.previous_urls
    return (*[u for u in feed.previous_urls if u != moved_to], feed.url)[-MAX_PREVIOUS_URLS:]


def _unchanged(catalogue: Catalogue, feed: Feed, moved_to: str | None) -> FeedOutcome:
    if feed.error_count or feed.last_error or feed.next_fetch_after or moved_to:
        catalogue.save_feed(feed.replace(error_count=0, last_error=None, next_fetch_after=None,
                                         url=moved_to or feed.url,
                                         previous_urls=_history(feed, moved_to)))
    return FeedOutcome(feed.id, moved_to or feed.url, "unchanged", moved_to=moved_to,
                       title=feed.title, problems=feed.problems, skipped=feed.skipped,
                       item_count=feed.item_count)


@dataclass(frozen=True, slots=True)
class _Mover:
    """What checking a move needs: the catalogue, an HTTP client and the fetch policy."""

    catalogue: Catalogue
    client: httpx.Client
    policy: FetchPolicy
    clock: Clock

    def check(self, feed: Feed, candidate: str) -> str | None:
        """Why the feed must not move to ``candidate`` (``None``: it may)."""
        if candidate in feed.previous_urls:
            return "the feed lived there before (a move loop)"
        other = self.catalogue.feed_by_url(candidate)
        if other is not None and other.id != feed.id:
            return "another feed has that URL"
        return None

    def verify(self, feed: Feed, candidate: str) -> str | None:
        """Why ``candidate`` is not a working feed (``None``: it is one, and names no loop)."""
        try:
            result = fetch(self.client, candidate, policy=self.policy, clock=self.clock)
            parsed = parse_feed(result.body, url=result.final_url, feed_id=feed.id,
                                headers=result.headers)
        except Exception as exc:  # whatever the new address does, the feed stays put
            return f"it does not answer with a feed ({error_message(exc)})"
        onward = parsed.new_feed_url
        if onward and (onward == feed.url or onward in feed.previous_urls):
            return f"it names {onward} as its own new address (a move loop)"
        return None


def _move_target(mover: _Mover | None, feed: Feed, result: FetchResult,
                 parsed: ParsedFeed | None, problems: list[str]) -> str | None:
    """Where the feed now lives, if it moved permanently, nothing else lives there, and (for
    an address the feed names) that address answers with a feed."""
    named = parsed.new_feed_url if parsed else None
    candidate = named or result.permanent_url
    if not candidate or candidate == feed.url or mover is None:
        return None
    reason = mover.check(feed, candidate)
    if reason is None and candidate == named and candidate != result.final_url:
        reason = mover.verify(feed, candidate)
    if reason is not None:
        problems.append(f"not moved to {candidate}: {reason}")
        return None
    return candidate


@dataclass(frozen=True, slots=True)
class _Stored:
    """What storing a feed's episodes did; ``unstored`` lists those that failed alone."""

    new: tuple[str, ...]
    updated: tuple[str, ...]
    unstored: tuple[SkippedItem, ...]


def _store_episodes(catalogue: Catalogue, parsed: ParsedFeed) -> _Stored:
    new: list[str] = []
    updated: list[str] = []
    unstored: list[SkippedItem] = []
    for episode in parsed.episodes:
        try:
            old = catalogue.episode(episode.id)
            if old is not None:
                episode = episode.replace(audio_path=old.audio_path,
                                          audio_sha256=old.audio_sha256)
                if episode == old:
                    continue
            catalogue.save_episode(episode)
        except Exception as exc:  # one episode that cannot be stored fails alone
            unstored.append(SkippedItem(episode.title, episode.guid,
                                        f"could not be stored: {error_message(exc)}"))
            continue
        (updated if old is not None else new).append(episode.id)
    return _Stored(tuple(new), tuple(updated), tuple(unstored))


def _store(mover: _Mover, feed: Feed, known: bool, result: FetchResult,
           parsed: ParsedFeed, now: datetime) -> FeedOutcome:
    catalogue = mover.catalogue
    problems = list(parsed.problems)
    moved_to = _move_target(mover, feed, result, parsed, problems)
    updated_feed = parsed.apply_to(feed)
    if not known:
        catalogue.save_feed(updated_feed)  # episodes refer to their feed
    stored = _store_episodes(catalogue, parsed)
    skipped = (*parsed.skipped, *stored.unstored)
    # Validators belong to the URL that sent them (a URL named by the feed has its own), and
    # an episode that could not be stored must not make the next run think the body was.
    by_new_feed_url = moved_to is not None and moved_to == parsed.new_feed_url
    fresh = not (by_new_feed_url or stored.unstored)
    catalogue.save_feed(updated_feed.replace(
        url=moved_to or feed.url,
        etag=result.etag if fresh else None,
        last_modified=result.last_modified if fresh else None,
        body_sha256=result.sha256 if not stored.unstored else None,
        error_count=0, last_error=None, last_fetched=now,
        next_fetch_after=None, previous_urls=_history(feed, moved_to),
        problems=tuple(problems), skipped=skipped, item_count=parsed.item_count))
    changed = bool(stored.new or stored.updated or moved_to) or updated_feed != feed
    status: FeedStatus = "new" if not known else "updated" if changed else "unchanged"
    return FeedOutcome(feed.id, moved_to or feed.url, status, stored.new, stored.updated,
                       moved_to=moved_to, title=updated_feed.title, problems=tuple(problems),
                       skipped=skipped, item_count=parsed.item_count,
                       text_only=sum(e.text_only for e in parsed.episodes))


def refresh_feed(catalogue: Catalogue, client: httpx.Client, target: str | Feed, *,
                 settings: Settings, policy: FetchPolicy | None = None,
                 clock: Clock = utcnow, force: bool = False) -> FeedOutcome:
    """Fetch one feed (a URL or a stored :class:`Feed`) and bring the catalogue up to date.

    Never raises for the feed's own failures, whatever they are: they are counted on the feed
    and reported in the outcome. ``force`` fetches even a feed that is backing off. Errors
    saving that failure (a broken catalogue) propagate.
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
    except Exception as exc:  # FetchError, or anything else the fetch ran into
        return _failed(catalogue, feed, known, exc, now)
    mover = _Mover(catalogue, client, policy, clock)
    try:
        if result.status == 304:  # moved permanently, otherwise unchanged
            return _unchanged(catalogue, feed, _move_target(mover, feed, result, None, []))
        parsed = parse_feed(result.body, url=result.final_url, feed_id=feed.id,
                            headers=result.headers, stored=catalogue.episode)
        return _store(mover, feed, known, result, parsed, now)
    except Exception as exc:  # one feed's failure, whatever it is, is that feed's alone
        return _failed(catalogue, feed, known, exc, now)
