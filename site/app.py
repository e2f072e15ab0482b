"""The site's factory: ``create_app(settings)`` returns the Starlette application.

Shared resources (the catalogue, the search index, the templates, the ingest job) are opened by
the lifespan and reach views as ``request.state.site``. Each may be injected instead, which is
how tests and the CLI hand in what they already have; injected resources are not closed here.

The knowledge pages (``poddarkiv.site.themes_views``: themes, references, people) bring their
own ``routes``, a ``home_context(request)`` for the home page, their ``openapi_paths`` and the
header's "Teman" link (``nav_url``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import PoddarkivError
from poddarkiv.site import (
    admin,
    corrections_views,
    episode_views,
    search_feed,
    search_views,
    syndication,
    themes_views,
    views,
)
from poddarkiv.site.i18n import LanguageCookieMiddleware
from poddarkiv.site.openapi import describe, openapi
from poddarkiv.site.resources import IngestJob, IngestRunner, SearchIndex, SiteResources
from poddarkiv.site.security import (
    BodySizeLimitMiddleware,
    SecurityHeadersMiddleware,
    new_secret,
)
from poddarkiv.site.templating import STATIC_DIR, make_templates

if TYPE_CHECKING:
    from poddarkiv.archive.index import ArchiveIndex

__all__ = ["GZIP_LEVEL", "GZIP_MIN_BYTES", "STATIC_MAX_AGE_S", "create_app"]

log = logging.getLogger(__name__)

#: Static URLs carry a content hash (``?v=``), so browsers may keep them for a year.
STATIC_MAX_AGE_S = 365 * 24 * 3600
#: Responses smaller than this (bytes) are not worth compressing; audio never is (Starlette
#: excludes ``audio/*``, which keeps Range requests byte-exact).
GZIP_MIN_BYTES = 1024
#: zlib level 6: most of level 9's saving at a fraction of its time per page.
GZIP_LEVEL = 6


class _CachedStatic(StaticFiles):
    """Static files with long-lived cache headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Any:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = f"public, max-age={STATIC_MAX_AGE_S}, immutable"
        return response


def _pair(path: str, endpoint: Any, name: str) -> list[Route]:
    """A page and its ``.json`` twin (the twin first, so its suffix is not read as an id)."""
    json_path = "/index.json" if path == "/" else f"{path}.json"
    return [Route(json_path, endpoint, name=f"{name}_json"), Route(path, endpoint, name=name)]


def _routes() -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        *_pair("/", views.home, "home"),
        Route("/sok.rss", search_feed.rss, name="search_rss"),
        Route("/sok.atom", search_feed.atom, name="search_atom"),
        *_pair("/sok", search_views.search, "search"),
        *_pair("/avsnitt/{episode_id}", episode_views.episode, "episode"),
        Route("/avsnitt/{episode_id}/ljud", episode_views.audio, name="audio"),
        Route("/avsnitt/{episode_id}/bild", views.episode_image, name="episode_image"),
        Route("/avsnitt/{episode_id}/transkript.{fmt}", episode_views.transcript_file,
              name="transcript"),
        Route("/avsnitt/{episode_id}/kapitel.json", episode_views.chapters, name="chapters"),
        Route("/poddar.opml", syndication.opml, name="opml"),
        *_pair("/poddar", views.podcasts, "podcasts"),
        Route("/poddar/{feed_id}/rss.xml", syndication.rss, name="rss"),
        Route("/poddar/{feed_id}/bild", views.artwork, name="artwork"),
        *_pair("/poddar/{feed_id}", views.podcast, "podcast"),
        *_pair("/hjalp", views.help_page, "help"),
        *_pair("/om", views.about, "about"),
        *_pair("/admin", admin.admin, "admin"),
        Route("/admin/logga-in", admin.admin_login, methods=["POST"], name="admin_login"),
        Route("/admin/logga-ut", admin.admin_logout, methods=["POST"], name="admin_logout"),
        Route("/admin/ingest", admin.admin_ingest, methods=["POST"], name="admin_ingest"),
        Route("/openapi.json", openapi, name="openapi"),
        Route("/favicon.ico", views.favicon, name="favicon"),
        Mount("/static", _CachedStatic(directory=STATIC_DIR), name="static"),
    ]
    return [*routes, *themes_views.routes, *corrections_views.routes]


#: How often the site looks for index segments its warm-up has not seen yet (an ingest run
#: adds one, and Whoosh merges small ones into a new one).
WARM_EVERY_S = 60.0


def _warm(index: ArchiveIndex, stop: threading.Event, every_s: float = WARM_EVERY_S) -> None:
    """Warm the index now, then its new segments every ``every_s`` until ``stop`` is set
    (:meth:`~poddarkiv.archive.index.ArchiveIndex.warm` does nothing when none is new)."""
    while True:
        try:
            index.warm()
        except PoddarkivError as exc:  # a damaged index: searches will say so
            log.warning("could not warm the search index: %s", exc)
        except Exception:  # a background thread must record, not vanish; searches go on
            log.exception("warming the search index failed; it is tried again")
        if stop.wait(every_s):
            return


def _open_index(catalogue: Catalogue, stop: threading.Event) -> SearchIndex | None:
    try:
        from poddarkiv.archive.index import ArchiveIndex

        opened = ArchiveIndex.open(catalogue.data.index)
        # Decode the frequent terms' postings and pack the rarer ones in the background, so
        # that no visitor's first search pays for them (bench/README.md: about a second per
        # 100 hours of speech), and again for the segments later commits add.
        threading.Thread(target=_warm, args=(opened, stop), name="warm-index",
                         daemon=True).start()
        index: SearchIndex = opened
        return index
    except (ImportError, PoddarkivError) as exc:
        log.warning("search is unavailable: %s", exc)
        return None


def create_app(settings: Settings, *, catalogue: Catalogue | None = None,
               index: SearchIndex | None = None,
               ingest_runner: IngestRunner | None = None,
               secret: bytes | None = None) -> Starlette:
    """The site for ``settings.data_dir``.

    ``catalogue`` and ``index`` default to those in the data directory (opened at startup,
    closed at shutdown; without an index, search answers 503 and the rest still works).
    ``ingest_runner`` lets the admin page start an ingest; without it the button is off.
    ``secret`` keys admin sessions and CSRF tokens; processes serving one site must share it
    (``serve --workers N``), else a fresh one is made here.
    """
    key = secret if secret is not None else new_secret()
    templates = make_templates()
    templates.env.globals["themes_url"] = themes_views.nav_url

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        cat = catalogue if catalogue is not None else open_catalogue(settings.data_dir)
        stop_warming = threading.Event()
        idx = index if index is not None else _open_index(cat, stop_warming)
        site = SiteResources(
            settings=settings, catalogue=cat, index=idx, templates=templates,
            secret=key, ingest=IngestJob(ingest_runner) if ingest_runner else None,
            home_context=(themes_views.home_context,),
        )
        try:
            yield {"site": site}
        finally:
            stop_warming.set()
            if index is None and idx is not None and hasattr(idx, "close"):
                idx.close()
            if catalogue is None:
                cat.close()

    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES,
                               compresslevel=GZIP_LEVEL),
                    Middleware(SecurityHeadersMiddleware), Middleware(BodySizeLimitMiddleware),
                    Middleware(LanguageCookieMiddleware)],
        exception_handlers={HTTPException: views.error_page, Exception: views.error_page},
        lifespan=lifespan,
    )
    app.state.openapi = describe(themes_views.openapi_paths)
    return app


