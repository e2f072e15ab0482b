"""Podcasting 2.0 and iTunes tags that feedparser loses, read straight from the feed's text.

feedparser keeps only the *last* ``<podcast:transcript>`` of an item (a feed offering VTT and SRT
and JSON loses two of them), knows nothing of ``itunes:new-feed-url``, and recognises the
podcast namespace only under the prefix ``podcast``. This module scans the (DOCTYPE-free) feed
text itself: it finds which prefixes are bound to the namespace URIs (compared the way real
feeds spell them: any case, with or without a trailing slash, ``DTDs/Podcast``; and the
conventional ``podcast:``/``itunes:`` prefixes even when a feed forgets to declare them), cuts
the text into items,
and collects every transcript, chapters, person, guid and new-feed-url element per item or for
the channel. It is a scanner, not an XML parser, so it also reads the broken feeds that
feedparser's loose parser accepts, and every pattern is linear in the size of the text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = [
    "ITUNES_NAMESPACES",
    "PODCAST_NAMESPACES",
    "RawElement",
    "RawFeed",
    "RawItem",
    "scan_feed",
]

#: Namespace URIs as compared: lowercase, without a trailing slash (see :func:`_ns_key`).
PODCAST_NAMESPACES = frozenset({
    "https://podcastindex.org/namespace/1.0",
    "http://podcastindex.org/namespace/1.0",
    "https://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
    "http://github.com/podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
})
ITUNES_NAMESPACES = frozenset({
    "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "https://www.itunes.com/dtds/podcast-1.0.dtd",
    "http://itunes.com/dtds/podcast-1.0.dtd",
    "https://itunes.com/dtds/podcast-1.0.dtd",
})
#: More of one element per item than this is junk, not data.
MAX_PER_ITEM = 50

_PODCAST_TAGS = ("transcript", "chapters", "person", "guid", "newFeedUrl")
_NS_DECLARATION = re.compile(r"""xmlns:([\w.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ATTRIBUTE = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_ITEM_START = re.compile(r"<(?:[\w.-]+:)?(?:item|entry)[\s>/]")
_ITEM_END = re.compile(r"</(?:[\w.-]+:)?(?:item|entry)\s*>")
_GUID = re.compile(r"<(?:guid|id)(?:\s[^<>]*)?>([^<]*)</(?:guid|id)\s*>")
_ENCLOSURE = re.compile(r"<enclosure(\s[^<>]*)?/?>")
# An Atom <source> (or RSS <source>) describes where an entry came from; its <id> is not ours.
# (Not the self-closing <podcast:source uri="…"/> of an alternate enclosure.)
_SOURCE_START = re.compile(r"<(?:[\w.-]+:)?source(?:\s[^<>]*)?(?<!/)>")
_SOURCE_END = re.compile(r"</(?:[\w.-]+:)?source\s*>")
# Userland's older way of saying that a feed moved: <redirect><newLocation>URL</newLocation>.
_REDIRECT = re.compile(r"<redirect\s*>\s*<newLocation\s*>([^<]*)</newLocation\s*>")


@dataclass(frozen=True, slots=True)
class RawElement:
    """One element as found: its attributes (unescaped) and its text content."""

    attrs: dict[str, str]
    text: str = ""


@dataclass(frozen=True, slots=True)
class RawItem:
    """What one ``<item>``/``<entry>`` says in the namespaces feedparser mishandles."""

    guid: str | None
    enclosure_url: str | None
    transcripts: tuple[RawElement, ...] = ()
    chapters: tuple[RawElement, ...] = ()
    persons: tuple[RawElement, ...] = ()


@dataclass(frozen=True, slots=True)
class RawFeed:
    """The channel-level tags and every item, in document order."""

    new_feed_url: str | None
    podcast_guid: str | None
    persons: tuple[RawElement, ...]
    items: tuple[RawItem, ...]


def _unwrap_cdata(text: str) -> str:
    """CDATA sections escaped in place (so tags inside them are not seen), comments dropped."""
    out: list[str] = []
    pos = 0
    while True:
        cdata, comment = text.find("<![CDATA[", pos), text.find("<!--", pos)
        starts = [i for i in (cdata, comment) if i >= 0]
        if not starts:
            break
        start = min(starts)
        out.append(text[pos:start])
        closer = "]]>" if start == cdata else "-->"
        end = text.find(closer, start)
        end = len(text) if end < 0 else end
        if start == cdata:
            out.append(html.escape(text[start + 9:end], quote=False))
        pos = end + len(closer)
    out.append(text[pos:])
    return "".join(out)


def _ns_key(uri: str) -> str:
    return uri.strip().lower().rstrip("/")


def _prefixes(text: str, uris: frozenset[str], conventional: str) -> list[str]:
    """Prefixes bound to any of ``uris``, plus ``conventional`` unless bound to something else."""
    bound = {m.group(1): _ns_key(m.group(2) if m.group(2) is not None else m.group(3))
             for m in _NS_DECLARATION.finditer(text)}
    found = {prefix for prefix, uri in bound.items() if uri in uris}
    if conventional not in bound:
        found.add(conventional)  # undeclared: what else could "podcast:transcript" mean?
    return sorted(found)


def _attrs(raw: str) -> dict[str, str]:
    return {m.group(1): html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _ATTRIBUTE.finditer(raw)}


def _element_pattern(prefixes: list[str], names: tuple[str, ...]) -> re.Pattern[str] | None:
    if not prefixes:
        return None
    prefix = "|".join(re.escape(p) for p in prefixes)
    name = "|".join(names)
    # <p:name attrs/>  or  <p:name attrs>text</p:name>; [^<]* keeps the match linear.
    return re.compile(rf"<({prefix}):({name})((?:\s[^<>]*)?)(?:/>|>([^<]*)</\1:\2\s*>)")


def _item_spans(text: str) -> list[tuple[int, int]]:
    """Start and end of every item, pairing each start with the first end after it."""
    ends = [m.end() for m in _ITEM_END.finditer(text)]
    spans: list[tuple[int, int]] = []
    e = 0
    for start in (m.start() for m in _ITEM_START.finditer(text)):
        if spans and start < spans[-1][1]:
            continue  # nested or unclosed: it belongs to the previous item
        while e < len(ends) and ends[e] <= start:
            e += 1
        spans.append((start, ends[e] if e < len(ends) else len(text)))
    return spans


def _collect(pattern: re.Pattern[str] | None, text: str) -> dict[str, list[RawElement]]:
    found: dict[str, list[RawElement]] = {}
    if pattern is None:
        return found
    for m in pattern.finditer(text):
        bucket = found.setdefault(m.group(2), [])
        if len(bucket) < MAX_PER_ITEM:
            bucket.append(RawElement(_attrs(m.group(3) or ""), html.unescape(m.group(4) or "")))
    return found


def _without_sources(text: str) -> str:
    """``text`` with every ``<source>…</source>`` cut out (linear: each end is searched once)."""
    out: list[str] = []
    pos = 0
    while (start := _SOURCE_START.search(text, pos)) is not None:
        end = _SOURCE_END.search(text, start.end())
        if end is None:
            break
        out.append(text[pos:start.start()])
        pos = end.end()
    out.append(text[pos:])
    return "".join(out)


def _item(text: str, pattern: re.Pattern[str] | None) -> RawItem:
    found = _collect(pattern, text)
    guid = _GUID.search(_without_sources(text))
    enclosure = _ENCLOSURE.search(text)
    return RawItem(
        guid=html.unescape(guid.group(1)).strip() if guid else None,
        enclosure_url=_attrs(enclosure.group(1) or "").get("url") if enclosure else None,
        transcripts=tuple(found.get("transcript", ())),
        chapters=tuple(found.get("chapters", ())),
        persons=tuple(found.get("person", ())),
    )


def _first_text(found: dict[str, list[RawElement]], name: str) -> str | None:
    elements = found.get(name)
    return elements[0].text.strip() if elements and elements[0].text.strip() else None


def scan_feed(text: str) -> RawFeed:
    """Scan a feed's text (already decoded, DOCTYPE removed) for the tags listed above."""
    text = _unwrap_cdata(text)
    podcast = _element_pattern(_prefixes(text, PODCAST_NAMESPACES, "podcast"), _PODCAST_TAGS)
    itunes = _element_pattern(_prefixes(text, ITUNES_NAMESPACES, "itunes"), ("new-feed-url",))
    spans = _item_spans(text)
    items = tuple(_item(text[a:b], podcast) for a, b in spans)
    channel_text = text[:spans[0][0]] + text[spans[-1][1]:] if spans else text
    channel = _collect(podcast, channel_text)
    new_url = _first_text(_collect(itunes, channel_text), "new-feed-url")
    redirect = _REDIRECT.search(channel_text)
    return RawFeed(
        new_feed_url=new_url or _first_text(channel, "newFeedUrl") or (
            html.unescape(redirect.group(1)).strip() or None if redirect else None),
        podcast_guid=_first_text(channel, "guid"),
        persons=tuple(channel.get("person", ())),
        items=items,
    )
