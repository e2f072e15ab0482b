"""The search page: hits with highlighted passages linked to their moment, filters, facets.

Query parameters go through ``SearchRequest.from_params``, which clamps whatever it is given, so
no parameter can cause a 500. A query the index cannot understand comes back as a page with the
index's ``message`` (or, if the index raises ``QueryError``, a 400 with its message).
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from poddarkiv.archive.artwork import episode_artwork, feeds_with_artwork
from poddarkiv.archive.browse import theme_names
from poddarkiv.archive.models import Episode
from poddarkiv.archive.search import SearchPage, SearchRequest
from poddarkiv.errors import PoddarkivError, QueryError
from poddarkiv.site import i18n, urls
from poddarkiv.site.notes import describe_all
from poddarkiv.site.resources import SiteResources, resources
from poddarkiv.site.serialize import hit_json
from poddarkiv.site.templating import respond

__all__ = ["SORTS", "search"]

#: Sort orders offered on the page (the ``Sort`` literal of ``archive.search``).
SORTS = ("relevance", "newest", "oldest")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _query_json(req: SearchRequest) -> dict[str, Any]:
    """Every field of the request, JSON-ready (what the form shows)."""
    return {f.name: _plain(getattr(req, f.name)) for f in fields(req)}


def _link(req: SearchRequest, **changes: Any) -> str:
    return urls.search(replace(req, **changes).to_params())


def _theme_names(site: SiteResources, lang: str) -> dict[str, str]:
    try:
        return theme_names(site.catalogue, lang)
    except PoddarkivError:
        return {}


def _facets(site: SiteResources, req: SearchRequest, page: SearchPage,
            lang: str) -> list[dict[str, Any]]:
    names = _theme_names(site, lang)
    return [{"value": slug, "name": names.get(slug, slug), "count": int(count),
             "url": _link(req, theme=slug, page=1), "selected": slug == req.theme}
            for slug, count in page.theme_counts.items()]


def _episodes(site: SiteResources, page: SearchPage) -> dict[str, Episode]:
    """Each hit's episode (its length and image, for the result card), from the catalogue."""
    found = (site.catalogue.episode(hit.episode_id) for hit in page.hits)
    return {ep.id: ep for ep in found if ep is not None}


def _hits(site: SiteResources, page: SearchPage) -> list[dict[str, Any]]:
    """The result cards: each with its episode's length and image, else its podcast's."""
    episodes = _episodes(site, page)
    artwork = feeds_with_artwork(site.catalogue.data)
    cards = []
    for hit in page.hits:
        ep = episodes.get(hit.episode_id)
        cards.append(hit_json(hit, duration_s=ep.duration_s if ep else None,
                              feed_artwork=hit.feed_id in artwork,
                              artwork=episode_artwork(site.catalogue.data, ep) if ep else None))
    return cards


def _results(site: SiteResources, req: SearchRequest, page: SearchPage,
             lang: str) -> dict[str, Any]:
    suggestion = page.suggestion
    return {
        "total_episodes": page.total_episodes,
        "page": page.page,
        "pages": page.pages,
        "elapsed_ms": round(float(page.elapsed_ms), 1),
        "fuzzy": bool(page.fuzzy),
        "message": describe_all(page.notes, lang),
        "notes": [{"code": n.code, **dict(n.params)} for n in page.notes],
        "suggestion": suggestion,
        "suggestion_url": _link(req, q=suggestion, page=1) if suggestion else None,
        "hits": _hits(site, page),
        "theme_counts": _facets(site, req, page, lang),
        "all_themes_url": _link(req, theme=None, page=1) if req.theme else None,
        "prev_url": _link(req, page=page.page - 1) if page.page > 1 else None,
        "next_url": _link(req, page=page.page + 1) if page.page < page.pages else None,
    }


def _empty() -> dict[str, Any]:
    return {"total_episodes": 0, "page": 1, "pages": 0, "elapsed_ms": 0.0, "fuzzy": False,
            "message": None, "notes": [], "suggestion": None, "suggestion_url": None, "hits": [],
            "theme_counts": [], "all_themes_url": None, "prev_url": None, "next_url": None}


def _feed_links(req: SearchRequest) -> dict[str, str] | None:
    """The saved search as RSS and Atom ("Bevaka sökningen"): filters kept, newest first."""
    if not req.q.strip():
        return None
    params = {k: v for k, v in req.to_params().items() if k not in ("page", "sort", "per_page")}
    return {"rss": urls.search_feed(params), "atom": urls.search_feed(params, fmt="atom")}


def search(request: Request) -> Response:
    """``/sok?q=…``: search the transcripts and episode metadata."""
    site = resources(request)
    req = SearchRequest.from_params(request.query_params)
    lang = i18n.language_of(request)
    data: dict[str, Any] = {"query": _query_json(req), "sorts": list(SORTS), **_empty(),
                            "podcasts": [{"id": f.id, "title": f.title or f.url}
                                         for f in site.catalogue.feeds()]}
    status, error = 200, None
    if req.q.strip():
        if site.index is None:
            status, error = 503, "unavailable"
        else:
            try:
                data.update(_results(site, req, site.index.search(req), lang))
            except QueryError as exc:
                status, error = 400, str(exc)
            except PoddarkivError:
                status, error = 503, "unavailable"
    data["error"] = error
    data["feeds"] = _feed_links(req)
    extra = {"json_url": urls.search(req.to_params(), json=True)}
    return respond(request, "search.html", data, extra, status_code=status)
