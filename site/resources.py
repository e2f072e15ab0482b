"""What the site shares between requests, opened once by the app's lifespan.

Views reach it as ``request.state.site`` (a :class:`SiteResources`). The search index and the
ingest runner are seams: anything with the methods of :class:`SearchIndex` serves, and an
ingest runner is any callable taking feed URLs (empty: every known feed).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from starlette.requests import Request
from starlette.templating import Jinja2Templates

from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import BusyError, PoddarkivError
from poddarkiv.site.security import LoginThrottle

if TYPE_CHECKING:
    from poddarkiv.archive.search import SearchPage, SearchRequest

__all__ = ["IngestJob", "IngestRunner", "SearchIndex", "SiteResources", "resources"]

#: Starts an ingest of these feed URLs (none: refresh every known feed) and returns its report.
IngestRunner = Callable[[Sequence[str]], object]


class SearchIndex(Protocol):
    """The part of :class:`poddarkiv.archive.index.ArchiveIndex` the site uses."""

    def search(self, request: SearchRequest) -> SearchPage: ...

    def related(self, episode_id: str, *, limit: int = 5) -> list[str]: ...

    def doc_counts(self) -> tuple[int, int]: ...


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


@dataclass(frozen=True)
class SiteResources:
    """Everything a view may use: settings, catalogue, index, templates and secrets."""

    settings: Settings
    catalogue: Catalogue
    index: SearchIndex | None
    templates: Jinja2Templates
    secret: bytes
    ingest: IngestJob | None = None
    #: Extra context for the home page from optional page modules (the themes overview).
    home_context: tuple[Callable[[Request], dict[str, Any]], ...] = ()
    #: Wrong admin keys per client (sign-in throttling).
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)


def resources(request: Request) -> SiteResources:
    """The shared resources, as the lifespan put them into the request's state."""
    site: SiteResources = request.state.site
    return site
