"""HTML to text: the one place it happens.

Ingest calls :func:`html_to_text` on a feed's show notes, which are then stored as plain text,
so the archive never strips "tags" from them again; :func:`plain_text` is the same text on one
line. Only the standard library is used, so the feed and caption parsers that import this load
nothing else.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

__all__ = ["html_to_text", "plain_text"]

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
_INLINE_SPACES = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# Block elements end a line; inline ones ("<b>LOU</b>.") vanish without a space.
_BLOCK_TAGS = frozenset({
    "address", "article", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "ol", "p", "pre", "section",
    "table", "td", "th", "tr", "ul",
})
_SKIP_TAGS = frozenset({"script", "style", "template", "noscript", "head", "title"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Readable text from an HTML fragment: tags dropped, entities decoded, blocks as lines
    (at most one blank line between them), scripts and styles left out.

    Text without any markup is only unescaped, so plain descriptions keep their line breaks.

    >>> html_to_text("<p>Om <b>LOU</b>.</p><p>Gäst: Eva&amp;Ek</p>").splitlines()
    ['Om LOU.', '', 'Gäst: Eva&Ek']
    """
    if "<" not in markup:
        return html.unescape(markup).strip()
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except (AssertionError, ValueError):  # html.parser raises these on some broken markup
        return html.unescape(_TAG.sub(" ", markup)).strip()
    lines = (_INLINE_SPACES.sub(" ", line).strip() for line in "".join(extractor.parts).split("\n"))
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def plain_text(markup: str) -> str:
    """:func:`html_to_text` on one line: all white space squeezed to single spaces.

    >>> plain_text("<p>Om <b>LOU</b>.</p><p>Och &amp; mer</p>")
    'Om LOU. Och & mer'
    """
    return _SPACE.sub(" ", html_to_text(markup)).strip()
