"""A saved search as a feed: ``/sok.rss?q=IOP`` and ``/sok.atom?q=IOP``.

People who follow a debate subscribe to a search and hear when something new is said: each item
is one matching passage, newest episodes first, linking to its moment (``?t=`` to the
millisecond, so the page opens on that passage). Filters (podcast, theme, dates) are kept; sort
is always newest first. Feeds carry an ETag and ``Last-Modified`` (:func:`feed_response`).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from poddarkiv.archive.search import EpisodeHit, PassageHit, SearchPage, SearchRequest
from poddarkiv.errors import PoddarkivError, QueryError
from poddarkiv.site import i18n, urls
from poddarkiv.site.resources import resources
from poddarkiv.site.syndication import ATOM_NS, document, feed_response
from poddarkiv.site.templating import timecode

__all__ = ["FEED_EPISODES", "atom", "rss"]

#: How many of the newest matching episodes a search feed lists (each with its passages).
FEED_EPISODES = 30


def _page(request: Request) -> tuple[SearchRequest, SearchPage]:
    site = resources(request)
    req = SearchRequest.from_params(request.query_params)
    if not req.q.strip():
        raise HTTPException(400, "A search feed needs a query: ?q=")
    req = replace(req, sort="newest", page=1, per_page=FEED_EPISODES).clamped()
    if site.index is None:
        raise HTTPException(503, "Search is unavailable")
    try:
        return req, site.index.search(req)
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from exc
    except PoddarkivError as exc:
        raise HTTPException(503, "Search is unavailable") from exc


def _spoken(passage: PassageHit) -> bool:
    return getattr(passage, "kind", "transcript") == "transcript"


def _entry(hit: EpisodeHit, p: PassageHit, base: str, lang: str) -> dict[str, Any]:
    if _spoken(p):
        link = base + urls.episode(hit.episode_id, t=p.start).split("#")[0]
        return {"title": f"{hit.title} ({timecode(p.start)})", "link": link, "id": link,
                "text": " ".join(p.text.split()), "published": hit.published}
    # A title or description excerpt: the episode itself, once per kind.
    link = base + urls.episode(hit.episode_id)
    where = i18n.gettext_for(lang)("Träff i avsnittets beskrivning.")
    return {"title": hit.title, "link": link, "id": f"{link}#{getattr(p, 'kind', '')}",
            "text": f"{where} " + " ".join(p.text.split()), "published": hit.published}


def _entries(page: SearchPage, base: str, lang: str) -> list[dict[str, Any]]:
    """One entry per matching passage, newest episode first; spoken passages in the order
    spoken, then the episode's title or description when they matched."""
    out: list[dict[str, Any]] = []
    for hit in page.hits:
        ordered = sorted(hit.passages, key=lambda p: (not _spoken(p), p.start))
        out.extend(_entry(hit, p, base, lang) for p in ordered)
    return out


def _updated(page: SearchPage) -> datetime | None:
    dates = [h.published for h in page.hits if h.published]
    return max(dates) if dates else None


def _title(req: SearchRequest, lang: str) -> str:
    return i18n.gettext_for(lang)("Nya träffar för %(q)s") % {"q": req.q} + " \u2013 poddarkiv"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    el.text = text
    return el


def rss(request: Request) -> Response:
    """``/sok.rss?q=…``: matching passages as RSS 2.0."""
    req, page = _page(request)
    base = str(request.base_url).rstrip("/")
    root = ET.Element("rss", {"version": "2.0"})
    channel = _sub(root, "channel")
    _sub(channel, "title", _title(req, i18n.language_of(request)))
    _sub(channel, "link", base + urls.search(req.to_params()))
    _sub(channel, "description", req.q)
    _sub(channel, f"{{{ATOM_NS}}}link", href=str(request.url), rel="self",
         type="application/rss+xml")
    updated = _updated(page)
    if updated:
        _sub(channel, "lastBuildDate", format_datetime(updated))
    for entry in _entries(page, base, i18n.language_of(request)):
        item = _sub(channel, "item")
        _sub(item, "title", entry["title"])
        _sub(item, "link", entry["link"])
        _sub(item, "guid", entry["id"], isPermaLink="true" if entry["id"] == entry["link"]
             else "false")
        _sub(item, "description", entry["text"])
        if entry["published"]:
            _sub(item, "pubDate", format_datetime(entry["published"]))
    return feed_response(request, document(root), "application/rss+xml; charset=utf-8", updated)


def atom(request: Request) -> Response:
    """``/sok.atom?q=…``: matching passages as Atom (RFC 4287)."""
    req, page = _page(request)
    base = str(request.base_url).rstrip("/")
    a = f"{{{ATOM_NS}}}"
    root = ET.Element(f"{a}feed")
    _sub(root, f"{a}title", _title(req, i18n.language_of(request)))
    _sub(root, f"{a}id", str(request.url))
    _sub(root, f"{a}link", rel="self", href=str(request.url))
    _sub(root, f"{a}link", rel="alternate", type="text/html",
         href=base + urls.search(req.to_params()))
    updated = _updated(page)
    # RFC 4287 §4.1.1: a feed has exactly one atom:updated.
    _sub(root, f"{a}updated", (updated or datetime(1970, 1, 1, tzinfo=UTC)).isoformat())
    _sub(_sub(root, f"{a}author"), f"{a}name", "poddarkiv")
    for entry in _entries(page, base, i18n.language_of(request)):
        el = _sub(root, f"{a}entry")
        _sub(el, f"{a}title", entry["title"])
        _sub(el, f"{a}id", entry["id"])
        _sub(el, f"{a}link", href=entry["link"])
        when = entry["published"] or updated or datetime(1970, 1, 1, tzinfo=UTC)
        _sub(el, f"{a}updated", when.isoformat())
        _sub(el, f"{a}summary", entry["text"])
    return feed_response(request, document(root), "application/atom+xml; charset=utf-8",
                         updated)
