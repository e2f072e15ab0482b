"""Templates and their twins: one function answers a page as HTML or as JSON.

A view computes ``data``, a JSON-ready dict, and hands it to :func:`respond`. A path ending in
``.json`` gets ``data`` as JSON; any other path gets the template rendered with ``data`` plus
``extra`` (things only the HTML needs, such as records or sanitised markup). So the JSON twin of
a page always holds what the page shows.

Every template is named ``*.html`` and autoescaped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from types import FunctionType
from typing import Any

import jinja2
import jinja2.runtime
from jinja2.utils import internalcode
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.templating import Jinja2Templates

from poddarkiv import __version__
from poddarkiv.archive.times import format_clock
from poddarkiv.site import i18n, urls
from poddarkiv.site.sanitize import safe_url
from poddarkiv.site.serialize import doubt_html

__all__ = [
    "STATIC_DIR",
    "TEMPLATE_DIR",
    "format_date",
    "format_moment",
    "is_json",
    "make_templates",
    "render",
    "respond",
    "timecode",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: The language of what the archive holds (titles, show notes, transcripts): pages in another
#: language mark it with ``lang`` so that screen readers switch voice (WCAG 2.1 SC 3.1.2).
CONTENT_LANGUAGE = "sv"
STATIC_DIR = Path(__file__).resolve().parent / "static"

_MONTHS = {
    "sv": ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
           "september", "oktober", "november", "december"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}


def timecode(seconds: float | None) -> str:
    """``754.2`` → ``"12:34"``; ``3723`` → ``"1:02:03"`` (:func:`archive.times.format_clock`)."""
    return format_clock(seconds or 0)


def _as_datetime(value: date | str | None) -> date | None:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return value


def format_date(value: date | str | None, lang: str | None = None) -> str:
    """A date as a reader writes it: ``12 mars 2024`` or ``12 March 2024``."""
    when = _as_datetime(value)
    if when is None:
        return ""
    months = _MONTHS.get(lang or i18n.current_language(), _MONTHS["sv"])
    return f"{when.day} {months[when.month - 1]} {when.year}"


def format_moment(value: date | str | None, lang: str | None = None) -> str:
    """A date and time as a reader writes it: ``12 mars 2024 kl. 14:05 UTC``."""
    when = _as_datetime(value)
    if when is None:
        return ""
    if not isinstance(when, datetime):
        return format_date(when, lang)
    if when.tzinfo is not None:
        when = when.astimezone(UTC)
    lang = lang or i18n.current_language()
    clock = f"{when.hour:02d}:{when.minute:02d}" + (" UTC" if when.tzinfo else "")
    return f"{format_date(when, lang)}{' kl.' if lang == 'sv' else ','} {clock}"


def iso_date(value: date | str | None) -> str:
    when = _as_datetime(value)
    return when.isoformat()[:10] if when else ""


@cache
def static_version(name: str) -> str:
    """A short content hash, so that static URLs change with their file and cache for long."""
    try:
        return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    except OSError:
        return __version__


def static_url(name: str) -> str:
    return f"{urls.static(name)}?v={static_version(name)}"


#: What every dict has as an attribute (``items``, ``get``, ...): Jinja reads those first.
_DICT_ATTRIBUTES = frozenset(dir(dict))


#: How Jinja marks a function that wants the evaluation context (``@pass_eval_context``).
_EVAL_CONTEXT = jinja2.pass_eval_context(lambda: None).jinja_pass_arg  # type: ignore[attr-defined]


class _Context(jinja2.runtime.Context):
    """Jinja's context, calling plain functions from a template with less ceremony.

    Every call in a template (``urls.episode(...)``, ``_("...")``) goes through
    :meth:`call`, which looks for Jinja's markers three ways before calling: about 0.7 µs a
    call, and a page makes 40 to 90. A plain function is called here directly, with the
    evaluation context first if it asks for it (the site's message functions); anything else
    (pass_context, callable objects, macros) takes Jinja's own way.
    """

    @internalcode
    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        if type(obj) is not FunctionType:
            return super().call(obj, *args, **kwargs)
        marker = obj.__dict__.get("jinja_pass_arg")
        if marker is _EVAL_CONTEXT:
            args = (self.eval_ctx, *args)
        elif marker is not None:
            return super().call(obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception")


class _Environment(jinja2.Environment):
    """Jinja's environment, reading ``ep.title`` from a dict without raising first.

    Jinja reads ``a.b`` as the attribute ``b`` and, failing that, the key ``"b"``. The site's
    templates read JSON-shaped dicts (one to three hundred times a page), where the attribute
    lookup always fails and raising its ``AttributeError`` is most of the cost. A plain dict
    has no attributes but dict's own, so trying the key first for any other name gives the
    same answer, seven times faster.
    """

    context_class = _Context

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_templates(extra_dirs: tuple[Path, ...] = ()) -> Jinja2Templates:
    """The site's templates: autoescaped, with the i18n extension and the site's filters."""
    env = _Environment(
        loader=jinja2.FileSystemLoader([TEMPLATE_DIR, *extra_dirs]),
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates change only with a new release (a restart): without this, every page
        # stats each of its templates' files to see whether to recompile it.
        auto_reload=False,
    )
    i18n.install(env)
    env.filters.update(timecode=timecode, date=format_date, iso_date=iso_date,
                       safe_url=safe_url, moment=format_moment, doubted=doubt_html)
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    env.globals.update(urls=urls, static_url=static_url, languages=i18n.LANGUAGES,
                       version=__version__, content_lang=CONTENT_LANGUAGE)
    return Jinja2Templates(env=env)


def is_json(request: Request) -> bool:
    """Whether ``request`` asks for a page's JSON twin."""
    return request.url.path.endswith(".json")


def render(request: Request, name: str, context: Mapping[str, Any], *,
           status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """Render template ``name`` in the request's language."""
    templates: Jinja2Templates = request.state.site.templates
    lang = i18n.language_of(request)
    links = page_links(request, lang)
    ctx = {"lang": lang, "switch": links.switch, "page_meta": links, **context}
    with i18n.using_language(lang):
        return templates.TemplateResponse(request, name, ctx, status_code=status_code,
                                          headers=headers)


def respond(request: Request, name: str, data: Mapping[str, Any],
            extra: Mapping[str, Any] | None = None, *, status_code: int = 200,
            headers: Mapping[str, str] | None = None) -> Response:
    """``data`` as JSON for a ``.json`` path, else template ``name`` with ``data`` and ``extra``."""
    if is_json(request):
        return JSONResponse(dict(data), status_code=status_code, headers=headers)
    return render(request, name, {**data, **(extra or {})}, status_code=status_code,
                  headers=headers)


#: Open Graph locales (``og:locale``) of the site's languages.
_OG_LOCALES = {"sv": "sv_SE", "en": "en_GB"}
#: Distinct (address, language) pairs whose links are kept (a page asked for again, or by
#: many readers, reuses them).
_LINKS_CACHE_SIZE = 1024


@dataclass(frozen=True, slots=True)
class PageLinks:
    """This page's addresses: what ``base.html`` puts in the head, and the language switch.

    ``canonical`` has no ``lang`` and keeps the rest of the query (a search, a page number,
    ``?t=``), so a shared link to a moment previews that moment (Open Graph ``og:url`` is
    ``share``); ``alternates`` name each language's copy for ``hreflang``, and ``x-default``
    the one chosen from the reader's browser. ``switch`` links to this page in every other
    language (the visible switch).
    """

    canonical: str
    share: str
    alternates: tuple[dict[str, str], ...]
    locale: str
    switch: tuple[dict[str, str], ...]


def page_links(request: Request, lang: str) -> PageLinks:
    """This page's absolute addresses (see :class:`PageLinks`)."""
    return _links(str(request.base_url), request.url.path, request.scope["query_string"], lang)


@lru_cache(maxsize=_LINKS_CACHE_SIZE)
def _links(base_url: str, path: str, query_string: bytes, lang: str) -> PageLinks:
    """:class:`PageLinks` from the parts of a request they depend on, made once for each."""
    base = base_url.rstrip("/")
    query = QueryParams(query_string)
    params = {k: v for k, v in query.items() if k != "lang"}
    canonical = base + urls.with_query(path, params)
    alternates = [{"hreflang": code, "href": base + urls.with_query(
        path, {**params, "lang": code})} for code in i18n.LANGUAGES]
    alternates.append({"hreflang": "x-default", "href": canonical})
    every = dict(query)
    switch = tuple({"code": code, "name": name,
                    "href": urls.with_query(path, {**every, "lang": code})}
                   for code, name in i18n.LANGUAGES.items() if code != lang)
    return PageLinks(canonical=canonical, share=canonical, alternates=tuple(alternates),
                     locale=_OG_LOCALES.get(lang, lang), switch=switch)
