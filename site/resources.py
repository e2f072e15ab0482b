"""What the site shares between requests, opened once by the app's lifespan.

Views reach it as ``request.state.site`` (a :class:`SiteResources`). The search index and the
ingest runner are seams: anything with the methods of :class:`SearchIndex` serves, and an
ingest runner is any callable taking feed URLs (empty: every known feed).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import BusyError, PoddarkivError
from poddarkiv.site.security import LoginThrottle

if TYPE_CHECKING:
    from poddarkiv.archive.search import SearchPage, SearchRequest

__all__ = [
    "CatalogueCache",
    "IngestJob",
    "IngestRunner",
    "SearchIndex",
    "SiteResources",
    "catalogue_generation",
    "resources",
]

#: Starts an ingest of these feed URLs (none: refresh every known feed) and returns its report.
IngestRunner = Callable[[Sequence[str]], object]


class SearchIndex(Protocol):
    """The part of :class:`poddarkiv.archive.index.ArchiveIndex` the site uses."""

    def search(self, request: SearchRequest) -> SearchPage: ...

    def related(self, episode_id: str, *, limit: int = 5) -> list[str]: ...

    def version(self) -> str: ...


@dataclass
class IngestJob:
    """One ingest at a time, started from the admin page, run in a background thread."""

    runner: IngestRunner
    started: datetime | None = None
    finished: datetime | None = None
    error: str | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, feed_urls: Sequence[str] = ()) -> bool:
        """Start an ingest unless one is running; return whether it started."""
        with self._lock:
            if self.running:
                return False
            self.started, self.finished, self.error = datetime.now(UTC), None, None
            self._thread = threading.Thread(target=self._run, args=(tuple(feed_urls),),
                                            name="poddarkiv-ingest", daemon=True)
            self._thread.start()
            return True

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the running ingest (tests, shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self, feed_urls: tuple[str, ...]) -> None:
        try:
            self.runner(feed_urls)
        except BusyError as exc:
            self.error = f"busy: {exc}"
        except PoddarkivError as exc:
            self.error = str(exc)
        except Exception as exc:  # a background thread must record, not vanish
            self.error = "".join(traceback.format_exception_only(exc)).strip()
        finally:
            self.finished = datetime.now(UTC)

    def status(self) -> dict[str, Any]:
        """JSON-ready state for the admin page."""
        return {
            "running": self.running,
            "started": self.started.isoformat() if self.started else None,
            "finished": self.finished.isoformat() if self.finished else None,
            "error": self.error,
        }


T = TypeVar("T")

#: SQLite's ``data_version`` changes when another connection commits (another process, the
#: admin page's ingest); ``total_changes()`` counts this connection's own writes.
_GENERATION_SQL = "SELECT (SELECT data_version FROM pragma_data_version), total_changes()"


def catalogue_generation(catalogue: Catalogue) -> tuple[int, int]:
    """A value that changes whenever anything is written to ``catalogue`` (about 10 µs)."""
    row = catalogue.query(_GENERATION_SQL)[0]
    return int(row[0]), int(row[1])


#: Episodes whose knowledge the site keeps (a few hundred small records).
EPISODES_CACHED = 512


class CatalogueCache:
    """Values computed from the catalogue alone, kept until the catalogue changes.

    Each ``get`` asks for the catalogue's generation (:func:`catalogue_generation`) and
    recomputes the value when it moved; a write made while a value is computed makes the next
    ``get`` compute it again, so nothing stale is kept. Threads may share it: two of them may
    compute the same value at once, and either result is right.
    """

    #: Values kept at most by default (the oldest is dropped first).
    MAX_ENTRIES = 64

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[tuple[int, int], Any]] = {}

    def get(self, catalogue: Catalogue, key: Hashable, compute: Callable[[], T]) -> T:
        """The value for ``key``: kept, or ``compute()`` if the catalogue changed since."""
        generation = catalogue_generation(catalogue)
        found = self._entries.get(key)
        if found is not None and found[0] == generation:
            value: T = found[1]
            return value
        value = compute()
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)), None)
        self._entries[key] = (generation, value)
        return value


@dataclass(frozen=True)
class SiteResources:
    """Everything a view may use: settings, catalogue, index, templates and secrets."""

    settings: Settings
    catalogue: Catalogue
    index: SearchIndex | None
    templates: Jinja2Templates
    secret: bytes
    ingest: IngestJob | None = None
    #: Extra context for the home page from optional page modules (the themes overview), made
    #: from the catalogue alone: it is kept in ``cache`` until the catalogue changes.
    home_context: tuple[Callable[[Request], dict[str, Any]], ...] = ()
    #: Wrong admin keys per client (sign-in throttling).
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    #: What pages make from the catalogue alone (the home page's lists and counts).
    cache: CatalogueCache = field(default_factory=CatalogueCache)
    #: Per-episode values (its knowledge: themes, key terms, references, people), apart from
    #: ``cache`` so that reading many episodes never pushes the home page's lists out.
    episodes_cache: CatalogueCache = field(
        default_factory=lambda: CatalogueCache(EPISODES_CACHED))


def resources(request: Request) -> SiteResources:
    """The shared resources, as the lifespan put them into the request's state."""
    site: SiteResources = request.state.site
    return site
