"""Untrusted text from feeds, made safe to show: an allow-list HTML sanitiser and a URL check.

Show notes arrive as HTML written by whoever controls a feed. Only a handful of harmless tags
survive (paragraphs, emphasis, lists, links); every attribute except a link's ``href`` is dropped;
the content of ``script``, ``style`` and similar elements is removed with them; everything else is
kept as escaped text. Only ``http`` and ``https`` URLs ever become links, so ``javascript:`` and
``data:`` URLs from a feed never reach an ``href``.
"""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser
from urllib.parse import urlsplit

__all__ = ["ALLOWED_TAGS", "MAX_NOTES_CHARS", "SNIPPET_TAGS", "safe_url", "sanitize_html"]

#: Tags kept (without attributes, except ``href`` on ``a``).
ALLOWED_TAGS = frozenset({
    "a", "b", "blockquote", "br", "code", "em", "i", "li", "ol", "p", "pre", "strong", "ul",
})
#: Elements dropped together with everything inside them.
_DROP_CONTENT = frozenset({
    "script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math",
    "title", "head", "select", "textarea",
})
_VOID = frozenset({"br"})
_SELF_CLOSING_SIBLINGS = frozenset({"li", "p"})
#: Tags a search snippet may carry (the highlight).
SNIPPET_TAGS = frozenset({"b", "em", "mark", "strong"})
#: Show notes longer than this are cut before parsing (characters).
MAX_NOTES_CHARS = 100_000
_SAFE_SCHEMES = frozenset({"http", "https"})


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute ``http``/``https`` URL with a host, else ``None``."""
    if not url:
        return None
    url = url.strip()
    if any(ord(c) < 0x20 or c in " \\\"'<>`" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    return url


class _Sanitiser(HTMLParser):
    def __init__(self, tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.out: list[str] = []
        self.open: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            self.dropping += 1
            return
        if self.dropping or tag not in self.tags:
            return
        if tag in _SELF_CLOSING_SIBLINGS and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)  # HTML: a new <li> or <p> ends the open one
        if tag == "a":
            href = safe_url(dict(attrs).get("href"))
            if href is None:
                self.out.append("<a>")
            else:
                self.out.append(f'<a href="{escape(href)}" rel="nofollow noopener noreferrer">')
        else:
            self.out.append(f"<{tag}>")
        if tag not in _VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROP_CONTENT:
            return
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.open and self.open[-1] == tag:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping or tag not in self.open:
            return
        # Close whatever was left open inside this element, so the output stays well nested.
        while self.open:
            inner = self.open.pop()
            self.out.append(f"</{inner}>")
            if inner == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    def result(self) -> str:
        self.close()
        tail = "".join(f"</{tag}>" for tag in reversed(self.open))
        return "".join(self.out) + tail


def sanitize_html(html: str | None, *, tags: frozenset[str] = ALLOWED_TAGS) -> str:
    """``html`` with every tag not in ``tags`` removed; always safe to mark as markup.

    Plain text (no tags) comes back escaped, with its line breaks kept as ``<br>``.
    """
    if not html:
        return ""
    html = html[:MAX_NOTES_CHARS]
    if "<" not in html:
        return escape(html, quote=False).strip().replace("\n", "<br>\n")
    parser = _Sanitiser(tags)
    parser.feed(html)
    return parser.result().strip()
