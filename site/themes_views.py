"""The knowledge map's pages: themes, references and people, each with its ``.json`` twin.

Mounted by :func:`poddarkiv.site.app.create_app` through this module's ``routes``; the app also
takes ``home_context`` (the themes overview on the home page), ``openapi_paths`` and ``nav_url``
from here. Paths are Swedish::

    /teman                      every theme, with counts
    /tema/<slug>                a theme: description, episodes by score, passages by date
    /referenser                 every reference found (statutes, EU acts, cases, organisations)
    /referens/<kind>/<key>      where a reference is mentioned
    /personer                   every person the feeds name
    /person/<slug>              where a person is credited and named
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from poddarkiv.archive import browse
from poddarkiv.archive.references import REFERENCE_KINDS
from poddarkiv.site import urls
from poddarkiv.site.resources import resources
from poddarkiv.site.sanitize import safe_url
from poddarkiv.site.templating import respond
from poddarkiv.site.views import int_param

__all__ = [
    "home_context", "nav_url", "openapi_paths", "people", "person", "person_url", "reference",
    "reference_url", "references", "routes", "theme", "theme_url", "themes", "themes_url",
]

MAX_KEY_CHARS = 200
MAX_PAGE = 10_000

nav_url = "/teman"


def _seg(value: str) -> str:
    return quote(value, safe="")


def themes_url(*, json: bool = False) -> str:
    return "/teman.json" if json else "/teman"


def theme_url(slug: str, *, json: bool = False, page: int | None = None) -> str:
    return urls.with_query(f"/tema/{_seg(slug)}" + (".json" if json else ""),
                           {"page": page if page and page > 1 else None})


def reference_url(kind: str, key: str, *, json: bool = False) -> str:
    return f"/referens/{_seg(kind)}/{_seg(key)}" + (".json" if json else "")


def references_url(*, json: bool = False) -> str:
    return "/referenser.json" if json else "/referenser"


def person_url(slug: str, *, json: bool = False) -> str:
    return f"/person/{_seg(slug)}" + (".json" if json else "")


def people_url(*, json: bool = False) -> str:
    return "/personer.json" if json else "/personer"


# -- JSON shapes ----------------------------------------------------------------------------


def _theme_json(summary: browse.ThemeSummary) -> dict[str, Any]:
    return {**dataclasses.asdict(summary), "url": theme_url(summary.slug)}


def _moment_json(m: browse.Mentioned) -> dict[str, Any]:
    """A passage or mention, with a link that starts the player there."""
    return {**dataclasses.asdict(m), "url": urls.episode(m.episode_id, t=m.start_s)}


def _reference_json(r: browse.ReferenceSummary) -> dict[str, Any]:
    kind_sv, kind_en = REFERENCE_KINDS.get(r.kind, (r.kind, r.kind))
    return {**dataclasses.asdict(r), "url": safe_url(r.url),
            "page_url": reference_url(r.kind, r.key), "kind_name": kind_sv, "kind_name_en": kind_en}


def _person_json(p: browse.PersonSummary) -> dict[str, Any]:
    return {**dataclasses.asdict(p), "href": safe_url(p.href), "img": safe_url(p.img),
            "url": person_url(p.slug)}


# -- views ----------------------------------------------------------------------------------


def themes(request: Request) -> Response:
    """``/teman``: every theme with how many episodes and passages have it."""
    overview = browse.themes_overview(resources(request).catalogue)
    return respond(request, "themes.html", {"themes": [_theme_json(t) for t in overview]})


def theme(request: Request) -> Response:
    """``/tema/<slug>``: the theme's description, its episodes by score, its passages by date."""
    slug = request.path_params["slug"]
    catalogue = resources(request).catalogue
    page = int_param(request, "page", 1, lo=1, hi=MAX_PAGE)
    found = browse.theme_page(catalogue, slug[:MAX_KEY_CHARS], page=page)
    if found is None:
        raise HTTPException(404)
    pages = max(1, -(-found.passage_total // browse.PASSAGES_PAGE_SIZE))
    data = {
        "theme": _theme_json(found.theme),
        "episodes": [{**dataclasses.asdict(e), "url": urls.episode(e.episode_id)}
                     for e in found.episodes],
        "passages": [_moment_json(p) for p in found.passages],
        "passage_total": found.passage_total,
        "page": min(page, pages),
        "pages": pages,
        "prev_url": theme_url(slug, page=page - 1) if 1 < page <= pages else None,
        "next_url": theme_url(slug, page=page + 1) if page < pages else None,
    }
    return respond(request, "theme.html", data)


def references(request: Request) -> Response:
    """``/referenser``: every reference found, by kind."""
    found = browse.references_overview(resources(request).catalogue)
    kinds = [{"kind": k, "name": sv, "name_en": en} for k, (sv, en) in REFERENCE_KINDS.items()]
    return respond(request, "reference_list.html",
                   {"kinds": kinds, "references": [_reference_json(r) for r in found]})


def reference(request: Request) -> Response:
    """``/referens/<kind>/<key>``: a reference, its official text, and where it is mentioned."""
    kind, key = request.path_params["kind"], request.path_params["key"]
    if kind not in REFERENCE_KINDS or len(key) > MAX_KEY_CHARS:
        raise HTTPException(404)
    found = browse.reference_page(resources(request).catalogue, kind, key)
    if found is None:
        raise HTTPException(404)
    return respond(request, "reference.html", {
        "reference": _reference_json(found.reference),
        "mentions": [_moment_json(m) for m in found.mentions],
    })


def people(request: Request) -> Response:
    """``/personer``: every person the feeds name."""
    found = browse.people_overview(resources(request).catalogue)
    return respond(request, "person_list.html", {"people": [_person_json(p) for p in found]})


def person(request: Request) -> Response:
    """``/person/<slug>``: the episodes that credit a person and where their name is said."""
    slug = request.path_params["slug"]
    found = browse.person_page(resources(request).catalogue, slug[:MAX_KEY_CHARS])
    if found is None:
        raise HTTPException(404)
    return respond(request, "person.html", {
        "person": _person_json(found.person),
        "credits": [_moment_json(m) for m in found.credits],
        "mentions": [_moment_json(m) for m in found.mentions],
    })


def home_context(request: Request) -> dict[str, Any]:
    """What ``theme_overview.html`` needs on the home page: the themes with episodes."""
    overview = browse.themes_overview(resources(request).catalogue)
    return {"theme_overview": [_theme_json(t) for t in overview if t.episode_count],
            "themes_page_url": themes_url()}


def _pair(path: str, endpoint: Any, name: str) -> list[Route]:
    # The twin first, so that ".json" is not read as part of a slug or key.
    return [Route(f"{path}.json", endpoint, name=f"{name}_json"), Route(path, endpoint, name=name)]


routes: list[Route] = [
    *_pair("/teman", themes, "themes"),
    *_pair("/tema/{slug}", theme, "theme"),
    *_pair("/referenser", references, "references"),
    *_pair("/referens/{kind}/{key}", reference, "reference"),
    *_pair("/personer", people, "people"),
    *_pair("/person/{slug}", person, "person"),
]


def _get(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"get": {"summary": summary, "parameters": params or [], "responses": {
        "200": {"description": "OK", "content": {"application/json": {
            "schema": {"type": "object"}}}},
        "404": {"description": "Not found"}}}}


def _path_param(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True,
            "schema": {"type": "string", "maxLength": MAX_KEY_CHARS}, "description": text}


openapi_paths: dict[str, Any] = {
    "/teman.json": _get("Every theme with its episode and passage counts."),
    "/tema/{slug}.json": _get(
        "A theme: its episodes ranked by score and its passages (newest first) with times.",
        [_path_param("slug", "The theme's slug."),
         {"name": "page", "in": "query", "required": False,
          "schema": {"type": "integer", "minimum": 1}, "description": "Page of passages."}]),
    "/referenser.json": _get("Every reference found in the transcripts."),
    "/referens/{kind}/{key}.json": _get(
        "A reference (statute, EU act, court case, organisation) and where it is mentioned.",
        [_path_param("kind", "lag, eu, mal or organisation."),
         _path_param("key", "The reference's key, e.g. 2016:1145.")]),
    "/personer.json": _get("Every person the feeds name."),
    "/person/{slug}.json": _get("A person: credits and mentions with times.",
                                [_path_param("slug", "The person's slug.")]),
}
