"""OPML, the feed-list format podcast apps import and export (OPML 2.0, ``type="rss"``).

Reading is as careful as reading a feed: DOCTYPE and ENTITY declarations are removed before
the XML parser sees the file (so no entity expansion, no external entities), the file size is
capped, and only ``http``/``https`` feed URLs survive. Outlines may be nested in folders; every
outline with an ``xmlUrl`` counts, once.

Writing is :func:`write_outlines`, the one OPML writer: ``poddarkiv feeds export`` lists the
feeds as followed (:func:`write_opml`), and a site listing its own re-published feeds passes
outlines with those addresses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from poddarkiv.archive.models import Feed
from poddarkiv.errors import ConfigError
from poddarkiv.ingest.text import clean_line, clean_url
from poddarkiv.ingest.xmlsafe import replace_bad_char_refs, strip_doctype

__all__ = ["MAX_OPML_BYTES", "Outline", "read_opml", "write_opml", "write_outlines"]

MAX_OPML_BYTES = 10 * 1024 * 1024
_BOMS = {b"\xff\xfe\x00\x00": "utf-32", b"\x00\x00\xfe\xff": "utf-32",
         b"\xff\xfe": "utf-16", b"\xfe\xff": "utf-16"}


def _utf8(body: bytes) -> bytes:
    """UTF-16/32 (with a byte-order mark) re-encoded as UTF-8, so declarations can be found."""
    for bom, codec in _BOMS.items():
        if body.startswith(bom):
            text = body.decode(codec, "replace")
            if text.startswith("<?xml"):
                text = text[text.find("?>") + 2:]  # its encoding="utf-16" is no longer true
            return text.encode("utf-8")
    return body


def read_opml(body: bytes, *, refused: list[str] | None = None) -> list[tuple[str, str]]:
    """The ``(title, url)`` of every feed an OPML document lists, in document order.

    An ``xmlUrl`` that is not an http(s) URL is left out, and appended to ``refused`` when
    given (so the caller can say so). Raises :class:`ConfigError` when the document is too
    large or not OPML.
    """
    if len(body) > MAX_OPML_BYTES:
        raise ConfigError(f"OPML file is larger than {MAX_OPML_BYTES} bytes")
    data, _removed = strip_doctype(_utf8(body))
    data, _bad = replace_bad_char_refs(data)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ConfigError(f"not an OPML file: {exc}") from exc
    if root.tag.rsplit("}", 1)[-1].lower() != "opml":
        raise ConfigError(f"not an OPML file: the root element is <{root.tag}>")
    feeds: dict[str, str] = {}
    for outline in root.iter():
        if outline.tag.rsplit("}", 1)[-1].lower() != "outline":
            continue
        attrs = {k.lower(): v for k, v in outline.attrib.items()}
        url = clean_url(attrs.get("xmlurl"))
        if url is None and attrs.get("xmlurl") and refused is not None:
            refused.append(clean_line(attrs["xmlurl"], max_chars=200))
        if url and url not in feeds:
            feeds[url] = clean_line(attrs.get("title") or attrs.get("text") or "")
    return [(title, url) for url, title in feeds.items()]


@dataclass(frozen=True, slots=True)
class Outline:
    """One podcast in an OPML list: its name, feed address and (optionally) web page."""

    text: str
    xml_url: str
    html_url: str | None = None
    language: str | None = None


def write_outlines(outlines: Iterable[Outline], *, title: str = "poddarkiv") -> str:
    """An OPML 2.0 document listing ``outlines`` (``type="rss"``)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{escape(title)}</title></head>",
        "  <body>",
    ]
    for outline in outlines:
        attrs = (f"type=\"rss\" text={quoteattr(outline.text)} title={quoteattr(outline.text)} "
                 f"xmlUrl={quoteattr(outline.xml_url)}")
        if outline.html_url:
            attrs += f" htmlUrl={quoteattr(outline.html_url)}"
        if outline.language:
            attrs += f" language={quoteattr(outline.language)}"
        lines.append(f"    <outline {attrs}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def write_opml(feeds: Iterable[Feed], *, title: str = "poddarkiv") -> str:
    """An OPML 2.0 document listing ``feeds`` at their own addresses."""
    return write_outlines((Outline(feed.title or feed.url, feed.url, feed.link, feed.language)
                           for feed in feeds), title=title)
