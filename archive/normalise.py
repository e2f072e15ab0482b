"""Text normalisation: folding, word lists, URL slugs, and the one HTML-to-text conversion.

Swedish keeps å, ä and ö as letters of their own (``får`` and ``far`` are different words), so
:func:`~poddarkiv.archive.analysis.fold` (the archive's one fold, re-exported here) removes only
the *other* accents (``idéburen`` → ``ideburen``). :func:`slugify` goes further and writes them as
``a``/``a``/``o`` for ASCII URLs.

:func:`html_to_text` is the one place HTML becomes text: ingest calls it on a feed's show notes
(which are then stored as plain text, so the archive never strips "tags" from them again), and
:func:`plain_text` is the same text on one line.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from poddarkiv.archive.analysis import fold

__all__ = ["fold", "html_to_text", "plain_text", "slugify", "words"]

_WORD = re.compile(r"\w+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")
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


def words(text: str) -> list[str]:
    """The folded, lower-case words of ``text``; punctuation, hyphens and colons split words.

    >>> words("IOP-avtalet och EU:s regler")
    ['iop', 'avtalet', 'och', 'eu', 's', 'regler']
    """
    return [w for w in _WORD.findall(fold(text)) if w != "_"]


def slugify(text: str) -> str:
    """An ASCII URL slug.

    >>> slugify("Förvaltningsrätten i Göteborg")
    'forvaltningsratten-i-goteborg'
    """
    ascii_text = fold(text).translate(str.maketrans("åäö", "aao"))
    return _NON_SLUG.sub("-", ascii_text).strip("-")


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
