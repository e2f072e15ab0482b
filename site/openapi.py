"""The OpenAPI 3.1 description of the site's JSON twins and files, served at ``/openapi.json``.

Every page's ``.json`` twin is listed with its parameters. Optional page modules (the themes
pages) add their own paths through an ``openapi_paths`` mapping, merged in by the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from poddarkiv import __version__
from poddarkiv.archive.writers import TRANSCRIPT_FORMATS

__all__ = ["describe", "openapi"]


def _param(name: str, where: str, schema: dict[str, Any], text: str,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "schema": schema, "description": text}


def _get(summary: str, params: list[dict[str, Any]] = (),  # type: ignore[assignment]
         media: str = "application/json") -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": list(params), "responses": {
        "200": {"description": "OK", "content": {media: {"schema": {"type": "object"}}}},
        "404": {"description": "Not found"}}}}


_STR = {"type": "string", "maxLength": 500}
_INT = {"type": "integer", "minimum": 1}
_EPISODE = _param("episode_id", "path", {"type": "string"}, "The episode's stable id.")
_FEED = _param("feed_id", "path", {"type": "string"}, "The podcast's stable id.")
_SEARCH_PARAMS = [
    _param("q", "query", _STR, "The search (see /hjalp for the syntax).", True),
    _param("page", "query", _INT, "Result page, from 1."),
    _param("per_page", "query", _INT, "Episodes per page (clamped)."),
    _param("podcast", "query", _STR, "Only this podcast (feed id)."),
    _param("theme", "query", _STR, "Only this theme (slug)."),
    _param("from", "query", {"type": "string", "format": "date"}, "Published on or after."),
    _param("to", "query", {"type": "string", "format": "date"}, "Published on or before."),
    _param("sort", "query", {"type": "string", "enum": ["relevance", "newest", "oldest"]},
           "Order of the hits."),
]

PATHS: dict[str, Any] = {
    "/index.json": _get("The latest episodes and what the archive holds."),
    "/sok.json": _get("Search transcripts and episode metadata.", _SEARCH_PARAMS),
    "/sok.rss": _get("A saved search as RSS: matching passages, newest episodes first, each "
                     "linked to its moment.", _SEARCH_PARAMS[:1] + _SEARCH_PARAMS[3:7],
                     media="application/rss+xml"),
    "/sok.atom": _get("The same saved search as Atom.", _SEARCH_PARAMS[:1] + _SEARCH_PARAMS[3:7],
                      media="application/atom+xml"),
    "/avsnitt/{episode_id}.json": _get("An episode with its transcript, citation and related "
                                       "episodes.", [_EPISODE, _param(
                                           "t", "query", {"type": "number", "minimum": 0},
                                           "A moment, in seconds (or m:ss); clamped to the "
                                           "episode's length."),
                                       _param("i", "query", {"type": "string", "maxLength": 200},
                                              "Words to find inside the episode.")]),
    "/avsnitt/{episode_id}/transkript.{fmt}": _get("The current transcript as a file.", [
        _EPISODE, _param("fmt", "path", {"type": "string", "enum": list(TRANSCRIPT_FORMATS)},
                 "Format (podcast.json: Podcasting 2.0 JSON).")],
        media="text/vtt"),
    "/avsnitt/{episode_id}/kapitel.json": _get("Podcasting 2.0 JSON chapters.", [_EPISODE],
                                                media="application/json+chapters"),
    "/avsnitt/{episode_id}/rattelser.json": _get(
        "The episode's corrections by people, oldest first: the passage (start, end), the text "
        "before and after, who, when and why. The episode's .json marks each corrected "
        "passage (corrected: true).", [_EPISODE]),
    "/avsnitt/{episode_id}/ljud": _get("The archived audio (supports HTTP Range).", [_EPISODE],
                                       media="audio/mpeg"),
    "/avsnitt/{episode_id}/bild": _get(
        "The archive's own copy of the episode's image (JPEG, PNG or WebP, with an ETag): "
        "kept by the image's URL, or the podcast's copy when the episode names the podcast's "
        "image; 404 when it keeps none. Episodes and search hits in every .json name the "
        "episode's image as artwork_url: this path for a copy of its own, the podcast's "
        "/poddar/{feed_id}/bild when it names the podcast's image, null when none is kept.",
        [_EPISODE], media="image/*"),
    "/poddar.json": _get("Every podcast in the archive."),
    "/poddar/{feed_id}.json": _get("One podcast and its episodes, what the last read of its "
                                   "feed recorded (items, earlier addresses, skipped items, "
                                   "problems) and the episodes waiting for another try.", [
        _FEED, _param("page", "query", _INT, "Page of episodes, from 1.")]),
    "/poddar/{feed_id}/rss.xml": _get("The podcast re-published with podcast:transcript and "
                                      "podcast:chapters.", [_FEED],
                                      media="application/rss+xml"),
    "/poddar/{feed_id}/bild": _get("The archive's own copy of the podcast's image (JPEG, PNG or "
                                   "WebP, with an ETag); 404 when it keeps none. Pages name it "
                                   "as artwork_url (podcasts) and feed_artwork_url (episodes, "
                                   "hits).", [_FEED], media="image/*"),
    "/poddar.opml": _get("OPML of every podcast.", media="text/x-opml"),
    "/hjalp.json": _get("The search syntax help page."),
    "/om.json": _get("About the archive and its accessibility statement."),
    "/admin.json": _get("Feed status and the last ingest report (Bearer token)."),
}


def describe(extra_paths: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI document, with ``extra_paths`` from optional page modules."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "poddarkiv", "version": __version__,
                 "description": "Every page of the site has a JSON twin at the same path with "
                                ".json appended."},
        "paths": {**PATHS, **dict(extra_paths or {})},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def openapi(request: Request) -> Response:
    """``/openapi.json``."""
    return JSONResponse(request.app.state.openapi)
