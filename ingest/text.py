"""Text that came from a feed, made safe to store, index and show.

Feeds carry NUL bytes, control characters, lone surrogates (``&#xD800;``), HTML where plain
text was promised and titles a megabyte long. Everything a feed says passes through here before
it becomes part of a record: strings are NFC-normalised, stripped of characters that XML 1.0
itself forbids (C0 controls other than tab and newline, lone surrogates, U+FFFE/U+FFFF) and of
C1 controls, and capped in length. URLs survive only when they are absolute ``http``/``https``.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urljoin, urlsplit

from poddarkiv.archive.markup import html_to_text

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_URL_CHARS",
    "clean_line",
    "clean_markup",
    "clean_text",
    "clean_url",
]

#: Titles, names, authors: one line.
MAX_LINE_CHARS = 1_000
#: Descriptions and show notes.
MAX_TEXT_CHARS = 50_000
#: Longer URLs are almost always tracking junk or an attack.
MAX_URL_CHARS = 2_048
#: HTML longer than this is cut before it is parsed (a description is never this long).
_MAX_HTML_CHARS = 1_000_000

# XML 1.0 §2.2 allows tab, newline and carriage return among the C0 controls; we also drop DEL
# and the C1 block (0x80-0x9F, almost always a cp1252 text decoded as latin-1), lone surrogates
# and the two noncharacters U+FFFE and U+FFFF.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
_SCHEMES = ("http", "https")
# WHATWG URL Standard, basic URL parser: tab and newline are removed from the input; a space
# (or any other whitespace) inside the path, query or fragment is percent-encoded.
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_INNER_SPACE = re.compile(r"\s")


def clean_text(value: object, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``value`` as safe multi-line text: NFC, no forbidden characters, stripped, capped."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BAD_CHARS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    return text.strip()[:max_chars].rstrip()


def clean_line(value: object, *, max_chars: int = MAX_LINE_CHARS) -> str:
    """``value`` as one safe line: like :func:`clean_text` with all whitespace collapsed."""
    return _SPACES.sub(" ", clean_text(value, max_chars=max_chars * 2))[:max_chars].strip()


def clean_url(value: object, *, base: str | None = None) -> str | None:
    """An absolute ``http``/``https`` URL, or ``None``.

    ``javascript:``, ``data:``, ``file:`` and every other scheme are refused, as are URLs with
    control characters inside, without a host (or with whitespace in it), or longer than
    :data:`MAX_URL_CHARS`. Tabs and newlines inside are removed and spaces percent-encoded, as
    browsers and podcast apps do (``/avsnitt 1.mp3`` is fetched as ``/avsnitt%201.mp3``). A
    relative URL is resolved against ``base`` when one is given.
    """
    if not isinstance(value, str):
        return None
    url = _TAB_OR_NEWLINE.sub("", value).strip()
    if _BAD_CHARS.search(url):
        return None
    url = _INNER_SPACE.sub(lambda space: quote(space.group()), url)
    if not url or len(url) > MAX_URL_CHARS:
        return None
    if base:
        try:
            url = urljoin(base, url)
        except ValueError:
            return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a port that is not a number
    except ValueError:
        return None
    if parts.scheme.lower() not in _SCHEMES or not host or "%" in host:
        return None
    return url


def clean_markup(value: object, *, max_chars: int = MAX_TEXT_CHARS) -> str:
    """A feed field that may hold HTML (show notes, summaries) as safe plain text, capped.

    The HTML becomes text in :func:`poddarkiv.archive.markup.html_to_text`, the one place that
    does it; this cleans what goes in (huge or control-laden input) and what comes out.
    """
    return clean_text(html_to_text(clean_text(value, max_chars=_MAX_HTML_CHARS)),
                      max_chars=max_chars)
