"""When a failed episode is tried again: its backoff schedule, kept in the catalogue.

A feed with thousands of dead enclosures must not cost thousands of requests on every run,
and an episode whose audio is over a limit must not be downloaded (up to 1 GiB) again and
again. So a failed episode waits like a failing feed does: :func:`~poddarkiv.ingest.refresh.
backoff_s` after each consecutive failure (15 minutes, doubling, up to a day). A failure that
trying again cannot fix (the file is not audio, is too long, or is over the size cap) waits
until the episode's enclosure URL changes; one that is this machine's (a full disk) does not
wait at all. ``poddarkiv ingest --retry-failed`` makes every
waiting episode due now (:meth:`Catalogue.release_episode_failures`).
"""

from __future__ import annotations

import errno
from datetime import datetime, timedelta
from pathlib import Path

from poddarkiv.archive.models import Episode, EpisodeFailure
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.errors import AudioError, FetchError
from poddarkiv.ingest.refresh import backoff_s

__all__ = ["failure_after", "is_limit", "is_local", "is_waiting", "release_failed_episodes"]

_MAX_ERROR_CHARS = 500


def is_limit(exc: BaseException) -> bool:
    """Whether ``exc`` says the episode's audio itself is unusable, so retrying cannot help."""
    if isinstance(exc, AudioError):
        return True  # not audio, empty, undecodable or longer than the duration cap
    # exchange.py's size-cap errors: the same file will be just as large next time.
    return isinstance(exc, FetchError) and "-byte cap" in str(exc)


def is_local(exc: BaseException) -> bool:
    """Whether ``exc`` is this machine's trouble (a full disk, a spent quota), not the episode's:
    such a failure is tried again on the next run, without a wait."""
    seen: BaseException | None = exc
    for _ in range(5):  # our errors wrap the OSError as their cause
        if seen is None:
            break
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        seen = seen.__cause__
    return False


def is_waiting(failure: EpisodeFailure | None, episode: Episode, now: datetime) -> bool:
    """Whether ``episode`` should not be tried in a run at ``now``."""
    if failure is None:
        return False
    if failure.retry_at is None:  # over a limit: only a new enclosure is worth a try
        return failure.enclosure_url == (episode.enclosure.url if episode.enclosure else None)
    return now < failure.retry_at


def failure_after(previous: EpisodeFailure | None, episode: Episode, error: str, *,
                  limit: bool, now: datetime) -> EpisodeFailure:
    """The record of one more failure of ``episode`` (``limit``: see :func:`is_limit`)."""
    count = (previous.count if previous else 0) + 1
    return EpisodeFailure(
        episode_id=episode.id, error=error[:_MAX_ERROR_CHARS], count=count, failed_at=now,
        retry_at=None if limit else now + timedelta(seconds=backoff_s(count)),
        enclosure_url=episode.enclosure.url if episode.enclosure else None)


def release_failed_episodes(data_dir: Path) -> int:
    """Make every waiting episode in the archive at ``data_dir`` due now; return how many."""
    with Catalogue(DataDir(data_dir)) as catalogue:
        return catalogue.release_episode_failures()
