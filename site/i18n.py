"""Languages: Swedish first, English as a full alternative, from a gettext message catalogue.

Message ids in the templates are Swedish (the site's own language); ``locale/en`` translates
every one of them. The catalogues are compiled ``.mo`` files read with the standard library's
:mod:`gettext`; Babel is only needed to extract and compile them (see ``locale/README.md``).

The language of a request is, in order: a ``lang`` query parameter (the visible switch), the
``lang`` cookie that the switch sets, the ``Accept-Language`` header, and Swedish.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.nodes import EvalContext
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "LANG_COOKIE",
    "LanguageCookieMiddleware",
    "gettext_for",
    "language_of",
    "translations",
    "using_language",
]

DEFAULT_LANGUAGE = "sv"
#: Supported languages, each named in its own language (for the switch).
LANGUAGES: dict[str, str] = {"sv": "Svenska", "en": "English"}
LANG_COOKIE = "lang"
LANG_COOKIE_MAX_AGE_S = 365 * 24 * 3600
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_MAX_ACCEPT_LANGUAGE_ITEMS = 20

_current: ContextVar[str] = ContextVar("poddarkiv_language", default=DEFAULT_LANGUAGE)


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalogue for ``lang`` (Swedish, the source language, may be empty)."""
    return gettext.translation("messages", LOCALE_DIR, languages=[lang], fallback=True)


def gettext_for(lang: str) -> Callable[[str], str]:
    """A ``gettext`` function for ``lang``, for the few strings made outside templates."""
    return translations(lang).gettext


def _from_accept_language(header: str) -> str | None:
    choices: list[tuple[float, int, str]] = []
    for pos, item in enumerate(header.split(",")[:_MAX_ACCEPT_LANGUAGE_ITEMS]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, pos, primary))
    return min(choices)[2] if choices else None


def language_of(conn: HTTPConnection) -> str:
    """The language to answer ``conn`` in (see the module docstring for the order)."""
    for candidate in (conn.query_params.get("lang"), conn.cookies.get(LANG_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return _from_accept_language(conn.headers.get("accept-language", "")) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language set by :func:`using_language` for the template being rendered."""
    return _current.get()


@contextmanager
def using_language(lang: str) -> Iterator[None]:
    """Render templates in ``lang`` inside this block."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


#: Distinct (language, message) pairs whose page-ready text is kept: every msgid in the
#: templates, in both languages, many times over.
_MESSAGE_CACHE_SIZE = 4096


@lru_cache(maxsize=_MESSAGE_CACHE_SIZE)
def _message(lang: str, message: str, autoescape: bool) -> str:
    """``message`` translated and formatted as ``jinja2.ext``'s new-style gettext does it."""
    text = translations(lang).gettext(message)
    return (Markup(text) if autoescape else text) % {}


@jinja2.pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, /, **variables: Any) -> str:
    if not variables:
        return _message(_current.get(), message, eval_ctx.autoescape)
    text = translations(_current.get()).gettext(message)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


@jinja2.pass_eval_context
def _template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int, /,
                       **variables: Any) -> str:
    variables.setdefault("num", num)
    text = translations(_current.get()).ngettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables


def install(env: jinja2.Environment) -> None:
    """Give a Jinja environment (with ``jinja2.ext.i18n``) the per-request catalogue.

    The calls behave as the extension's new-style ones (``newstyle=True``: autoescaped, always
    ``%``-formatted with their keyword arguments), but are one call each instead of three, and
    a message without arguments is translated and formatted once per language: a page makes
    twenty to sixty of them (bench/README.md, Site).
    """
    env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: translations(_current.get()).gettext(message),
        lambda singular, plural, n: translations(_current.get()).ngettext(singular, plural, n),
        newstyle=True,
    )
    env.globals.update(_=_template_gettext, gettext=_template_gettext,
                       ngettext=_template_ngettext)


#: Paths whose answers are the same in every language (no ``Vary``, so caches share them).
_SAME_IN_EVERY_LANGUAGE = ("/static/", "/favicon.")


def _varies_by_language(path: str) -> bool:
    return not (path.startswith(_SAME_IN_EVERY_LANGUAGE) or path.endswith("/ljud"))


class LanguageCookieMiddleware:
    """Remember the visible switch: a valid ``?lang=`` sets the ``lang`` cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = HTTPConnection(scope).query_params.get("lang")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if chosen in LANGUAGES:
                    headers.append("set-cookie", f"{LANG_COOKIE}={chosen}; Path=/; "
                                   f"Max-Age={LANG_COOKIE_MAX_AGE_S}; SameSite=Lax")
                if _varies_by_language(scope["path"]):
                    # RFC 9110 §12.5.5: the page differs by these request headers.
                    headers.add_vary_header("Accept-Language")
                    headers.add_vary_header("Cookie")
            await send(message)

        await self.app(scope, receive, send_with_cookie)
