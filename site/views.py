"""The site's simple pages: home, podcasts, one podcast, search help, about; and error pages.

Each view builds a JSON-ready ``data`` dict and calls :func:`respond`, which answers the HTML
page or, for a path ending in ``.json``, its twin. Views that only read the catalogue are plain
functions (Starlette runs them in its thread pool).
"""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from poddarkiv import __version__
from poddarkiv.archive.artwork import (
    Artwork,
    episode_artwork,
    feeds_with_artwork,
    stored_artwork,
)
from poddarkiv.archive.models import EpisodeFailure
from poddarkiv.archive.store import Catalogue
from poddarkiv.site import urls
from poddarkiv.site.resources import resources
from poddarkiv.site.sanitize import safe_url
from poddarkiv.site.serialize import episode_json, failure_json, feed_json, feed_record_json
from poddarkiv.site.templating import is_json, render, respond, static_url

__all__ = [
    "ARTWORK_MAX_AGE_S",
    "FAILURES_SHOWN",
    "HOME_EPISODES",
    "PODCAST_PAGE_SIZE",
    "about",
    "artwork",
    "episode_image",
    "error_page",
    "favicon",
    "help_page",
    "home",
    "int_param",
    "podcast",
    "podcasts",
]

#: DIGG's form for reporting a site that is not accessible (the statement must link to it).
DIGG_COMPLAINTS_URL = ("https://www.digg.se/analys-och-uppfoljning/lagen-om-tillganglighet-till-"
                       "digital-offentlig-service-dos-lagen/anmal-bristande-tillganglighet")
HOME_EPISODES = 10
PODCAST_PAGE_SIZE = 20
#: Failed episodes listed on a podcast's page and its twin (soonest retry first); both count all.
FAILURES_SHOWN = 50
MAX_PAGE = 10_000
#: How long a browser may keep a podcast's or an episode's image before asking again (its ETag
#: answers then).
ARTWORK_MAX_AGE_S = 24 * 3600


def int_param(request: Request, name: str, default: int, *, lo: int, hi: int) -> int:
    """An integer query parameter clamped to ``[lo, hi]``; garbage gives ``default``."""
    raw = request.query_params.get(name, "")
    try:
        value = int(raw[:12]) if raw else default
    except ValueError:
        value = default
    return min(max(value, lo), hi)


def _feed_titles(request: Request) -> dict[str, str]:
    return {f.id: f.title or f.url for f in resources(request).catalogue.feeds()}


def home(request: Request) -> Response:
    """The latest episodes, what the archive holds, and the themes overview (when present).

    Both come from the catalogue alone, so they are made once and kept until it changes.
    """
    site = resources(request)
    data, extra = site.cache.get(site.catalogue, "home", lambda: _home_context(request))
    return respond(request, "home.html", data, extra)


def _home_context(request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
    """The home page's ``data`` (its JSON twin) and ``extra`` (the optional modules' parts)."""
    site = resources(request)
    titles = _feed_titles(request)
    latest = site.catalogue.episodes(limit=HOME_EPISODES)
    artwork = feeds_with_artwork(site.catalogue.data)
    data = {
        "episodes": [episode_json(e, feed_title=titles.get(e.feed_id),
                                  feed_artwork=e.feed_id in artwork,
                                  artwork=episode_artwork(site.catalogue.data, e))
                     for e in latest],
        "podcast_count": len(titles),
        "episode_count": site.catalogue.count_episodes(),
        "search_available": site.index is not None,
    }
    extra: dict[str, Any] = {}
    for provider in site.home_context:
        extra.update(provider(request))
    return data, extra


def podcasts(request: Request) -> Response:
    """Every podcast in the archive, with its RSS and the OPML of them all."""
    catalogue = resources(request).catalogue
    feeds = [feed_json(f, episode_count=catalogue.count_episodes(feed_id=f.id))
             for f in catalogue.feeds()]
    return respond(request, "podcasts.html", {"podcasts": feeds, "opml": urls.opml()})


def podcast(request: Request) -> Response:
    """One podcast and its episodes, newest first, a page at a time."""
    catalogue = resources(request).catalogue
    feed = catalogue.feed(request.path_params["feed_id"])
    if feed is None:
        raise HTTPException(404)
    total = catalogue.count_episodes(feed_id=feed.id)
    pages = max(1, -(-total // PODCAST_PAGE_SIZE))
    page = int_param(request, "page", 1, lo=1, hi=min(pages, MAX_PAGE))
    episodes = catalogue.episodes(feed_id=feed.id, limit=PODCAST_PAGE_SIZE,
                                  offset=(page - 1) * PODCAST_PAGE_SIZE)
    data = {
        "podcast": {**feed_json(feed, episode_count=total, artwork=stored_artwork(
            catalogue.data, feed.id) is not None), **feed_record_json(
            feed, text_only_count=catalogue.count_episodes(feed_id=feed.id, text_only=True))},
        **_failures(catalogue, feed.id),
        "episodes": [episode_json(e, feed_title=feed.title,
                                  artwork=episode_artwork(catalogue.data, e))
                     for e in episodes],
        "page": page,
        "pages": pages,
    }
    return respond(request, "podcast.html", data)


def artwork(request: Request) -> Response:
    """``/poddar/{id}/bild``: the archive's copy of the podcast's image, from the site itself
    (the CSP allows no other), with its own media type; 404 when the archive has none."""
    data = resources(request).catalogue.data
    return _image_response(request, stored_artwork(data, request.path_params["feed_id"]))


def episode_image(request: Request) -> Response:
    """``/avsnitt/{id}/bild``: the archive's copy of the episode's image (kept by its URL, or
    the podcast's copy when it is the podcast's image); 404 when the archive has none."""
    catalogue = resources(request).catalogue
    episode = catalogue.episode(request.path_params["episode_id"])
    if episode is None:
        raise HTTPException(404)
    return _image_response(request, episode_artwork(catalogue.data, episode))


def _image_response(request: Request, found: Artwork | None) -> Response:
    """A kept image with its ETag (304 when the browser has it), kept a day, never sniffed."""
    if found is None:
        raise HTTPException(404)
    etag = f'"{found.sha256[:32]}"'
    headers = {"cache-control": f"public, max-age={ARTWORK_MAX_AGE_S}", "etag": etag,
               "x-content-type-options": "nosniff"}
    # RFC 9110 §13.1.2: If-None-Match compares weakly, a list of tags or "*".
    asked = {t.strip().removeprefix("W/") for t in request.headers.get("if-none-match", "")
             .split(",")}
    if etag in asked or "*" in asked:
        return Response(status_code=304, headers=headers)
    data = resources(request).catalogue.data
    return FileResponse(data.artwork / found.file_name, media_type=found.media_type,
                        headers=headers)


def _retry_order(failure: EpisodeFailure) -> tuple[bool, str]:
    """Soonest retry first; those waiting for new audio (no retry time) last."""
    return failure.retry_at is None, failure.retry_at.isoformat() if failure.retry_at else ""


def _failures(catalogue: Catalogue, feed_id: str) -> dict[str, Any]:
    """The feed's episodes whose last attempt failed, with the error and the next try."""
    found = sorted(catalogue.episode_failures(feed_id=feed_id).values(), key=_retry_order)
    return {"failure_count": len(found),
            "failures": [failure_json(f, catalogue.episode(f.episode_id))
                         for f in found[:FAILURES_SHOWN]]}


def help_page(request: Request) -> Response:
    """How to write a search (the syntax the index understands)."""
    return respond(request, "help.html", {"page": "help"})


#: When the accessibility statement was last reviewed (DIGG asks for the date and the method).
STATEMENT_DATE = "2026-11-29"


def _contact(value: str | None) -> dict[str, str] | None:
    """The contact channel as a link: an e-mail address or an http(s) URL."""
    if not value:
        return None
    if "@" in value and not value.startswith(("http://", "https://")):
        return {"href": "mailto:" + value.removeprefix("mailto:"), "text": value.removeprefix(
            "mailto:")}
    href = safe_url(value)
    return {"href": href, "text": value} if href else None


def about(request: Request) -> Response:
    """What the archive is, and its accessibility statement (what DIGG's model asks for)."""
    return respond(request, "about.html", {
        "page": "about", "version": __version__, "statement_date": STATEMENT_DATE,
        "contact": _contact(resources(request).settings.contact),
        "complaints_url": DIGG_COMPLAINTS_URL})


def favicon(request: Request) -> Response:
    """``/favicon.ico``: clients that ask by the old name get the SVG icon (pages link it)."""
    return RedirectResponse(static_url("favicon.svg"), status_code=301,
                            headers={"cache-control": "public, max-age=86400"})


_ERROR_TEMPLATES = {404: "404.html", 400: "400.html"}


def error_page(request: Request, exc: Exception) -> Response:
    """A friendly page (or JSON) for an HTTP error; 404 and 400 have their own words."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal Server Error"
    headers = getattr(exc, "headers", None)
    if is_json(request) or not hasattr(request.state, "site"):
        return JSONResponse({"error": status, "detail": detail}, status_code=status,
                            headers=headers)
    name = _ERROR_TEMPLATES.get(status, "error.html")
    return render(request, name, {"status": status, "detail": detail}, status_code=status,
                  headers=headers)
