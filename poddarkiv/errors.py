"""poddarkiv's errors, one small hierarchy.

Every failure the library expects raises one of these, so the CLI and the site can turn it into a
clear message without catching ``Exception``::

    PoddarkivError
    ├── ConfigError            bad settings or options
    ├── FetchError             an HTTP fetch failed (status, timeout, size cap, refused address)
    │   └── NotModified        conditional GET: the resource has not changed (not a failure)
    ├── FeedError              a feed could not be parsed into episodes
    ├── AudioError             a download is not usable audio (empty, truncated, too long)
    ├── ModelError             Whisper weights missing, corrupt, or unreachable offline
    ├── TranscriptionError     an engine failed on an episode
    ├── CatalogueError         the catalogue cannot be read or written
    ├── IndexError_            the search index cannot be opened, written or searched
    ├── QueryError             a search query cannot be understood (message is user-facing)
    ├── BusyError              another ingest holds the lock
    └── ClusterError           the broker or result backend is unreachable, or no job moves
"""

from __future__ import annotations

__all__ = [
    "AudioError",
    "BusyError",
    "CatalogueError",
    "ClusterError",
    "ConfigError",
    "FeedError",
    "FetchError",
    "IndexError_",
    "ModelError",
    "NotModified",
    "PoddarkivError",
    "QueryError",
    "TranscriptionError",
]


class PoddarkivError(Exception):
    """The root of every error poddarkiv raises on purpose."""


class ConfigError(PoddarkivError):
    """Settings or command-line options that cannot work."""


class FetchError(PoddarkivError):
    """An HTTP fetch failed: bad status, timeout, size cap, refused address or scheme."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None,
                 retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.retry_after_s = retry_after_s


class NotModified(FetchError):
    """The server answered 304, or the body hashed the same as last time."""


class FeedError(PoddarkivError):
    """A body could not be read as a podcast feed."""


class AudioError(PoddarkivError):
    """A file is not usable audio: empty, truncated, undecodable or too long."""


class ModelError(PoddarkivError):
    """Whisper weights are missing, corrupt, or need a network this machine does not have."""


class TranscriptionError(PoddarkivError):
    """A transcription engine failed on an episode."""


class CatalogueError(PoddarkivError):
    """The catalogue (SQLite) cannot be read or written."""


class IndexError_(PoddarkivError):
    """The Whoosh index cannot be opened, written or searched."""


class QueryError(PoddarkivError):
    """A search query cannot be understood; the message is shown to the user as it is."""


class BusyError(PoddarkivError):
    """Another ingest is running on the same data directory."""


class ClusterError(PoddarkivError):
    """The Celery broker or result backend (Redis) cannot be reached, or no open job has
    changed for two job visibility timeouts (no worker serves the queue).

    Jobs already recorded in the catalogue stay there and are collected on the next run.
    """
