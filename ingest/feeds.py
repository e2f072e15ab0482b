"""Feed bytes → a :class:`ParsedFeed` of our own records, through feedparser, safely.

The body is never handed to feedparser as a string (a string that looks like a path or URL makes
feedparser open it): it goes in as ``io.BytesIO``. Before that the body is converted to UTF-8
(with feedparser's own encoding rules, so its answer does not change) and every DOCTYPE and
ENTITY declaration is removed (:mod:`poddarkiv.ingest.xmlsafe`). feedparser's own crashes are
caught. Like feedparser, we tolerate broken feeds and record why (``problems``); only a body
with nothing usable in it (an HTML page, not XML at all) raises :class:`FeedError`.

Nothing is dropped silently: every item becomes an episode or a :class:`SkippedItem` with its
reason (no audio and no transcript; an exact duplicate; past the :data:`MAX_EPISODES` cap;
any exception while reading it, which fails that item alone). Items that share a guid but
differ (another enclosure, title or date) are all kept, with ids that are the same on every
run wherever the items stand (:func:`~poddarkiv.ingest.identity.assign_episode_ids`).

Everything that leaves this module is normalised text (:mod:`poddarkiv.ingest.text`) and
``http``/``https`` URLs; iTunes and Podcasting 2.0 tags come from
:mod:`poddarkiv.ingest.podcastns` where feedparser loses them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from poddarkiv.archive.models import Episode, Feed, SkippedItem
from poddarkiv.errors import FeedError
from poddarkiv.ingest.entries import EntryContext, episode_from_entry, language_tag
from poddarkiv.ingest.identity import StoredEpisode, assign_episode_ids, feed_id_for
from poddarkiv.ingest.podcastns import RawFeed, RawItem, scan_feed
from poddarkiv.ingest.text import clean_line, clean_markup, clean_url
from poddarkiv.ingest.xmlsafe import (
    MAX_ATTRIBUTES,
    cap_attributes,
    replace_bad_char_refs,
    strip_doctype,
)

__all__ = ["MAX_EPISODES", "MAX_PROBLEMS", "MAX_SKIPPED_LISTED", "ParsedFeed", "parse_feed"]

#: A feed with more items than this is cut (the newest come first in almost every feed); the
#: rest are reported as one skipped entry.
MAX_EPISODES = 10_000
MAX_PROBLEMS = 50
#: Skipped items listed one by one; past this, one entry counts the rest.
MAX_SKIPPED_LISTED = 200
_MAX_PROBLEM_CHARS = 300
_DEFAULT_MEDIA_TYPE = "application/xml"
#: How far into a body that is not a feed we look for an HTML start tag.
_SNIFF_BYTES = 1024
_HTML_START = re.compile(rb"<(?:!doctype\s+html|html)[\s>]")


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed says, as our records, with the problems met on the way."""

    url: str
    feed_id: str
    title: str
    description: str
    link: str | None
    language: str | None
    image: str | None
    author: str | None
    new_feed_url: str | None
    podcast_guid: str | None
    episodes: tuple[Episode, ...]
    problems: tuple[str, ...]
    encoding: str = ""
    version: str = ""
    skipped: tuple[SkippedItem, ...] = ()
    item_count: int = 0

    @property
    def skipped_count(self) -> int:
        """How many items did not become episodes (each listed in ``skipped``, or counted)."""
        return sum(item.count for item in self.skipped)

    def apply_to(self, feed: Feed) -> Feed:
        """``feed`` with this parse's metadata (empty values keep what ``feed`` had).

        A feed that never had a title is called by its address (``example.se/feed.xml``), so
        no heading is ever empty.
        """
        fallback = self.url.split("://", 1)[-1].split("?", 1)[0].rstrip("/")
        return feed.replace(
            title=self.title or feed.title or clean_line(fallback),
            description=self.description or feed.description,
            link=self.link or feed.link, language=self.language or feed.language,
            image=self.image or feed.image, author=self.author or feed.author,
        )


def _problem(text: object) -> str:
    return clean_line(text, max_chars=_MAX_PROBLEM_CHARS)


def _bozo(result: Mapping[str, Any]) -> str | None:
    exc = result.get("bozo_exception")
    if not result.get("bozo") or exc is None:
        return None
    return _problem(f"{type(exc).__name__}: {exc}")


def _prepare(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str], list[str]]:
    """UTF-8, DOCTYPE-free bytes and the headers to parse them with, plus problems found."""
    problems: list[str] = []
    pre: dict[str, Any] = {}
    try:
        data = convert_to_utf8(dict(headers), body, pre)
    except Exception as exc:
        raise FeedError(f"cannot decode the feed: {exc}") from exc
    if (reason := _bozo(pre)) is not None:
        problems.append(reason)
    data, removed = strip_doctype(data)
    if removed:
        problems.append(f"removed {removed} DOCTYPE/ENTITY declaration(s)")
    data, crowded = cap_attributes(data)
    if crowded:
        problems.append(f"cut {crowded} element(s) to their first {MAX_ATTRIBUTES} attributes")
    data, bad_refs = replace_bad_char_refs(data)
    if bad_refs:
        problems.append(f"replaced {bad_refs} reference(s) to forbidden characters")
    headers = dict(headers)
    if pre.get("encoding"):
        # The bytes are UTF-8 now; say so, or feedparser would decode them a second time.
        # Without a Content-Type, plain XML is what we assume (we asked for a feed).
        media_type = headers.get("content-type", _DEFAULT_MEDIA_TYPE).split(";", 1)[0].strip()
        headers["content-type"] = f"{media_type or _DEFAULT_MEDIA_TYPE}; charset=utf-8"
    return data, headers, problems


def _run_feedparser(data: bytes, headers: dict[str, str]) -> Any:
    try:
        return feedparser.parse(io.BytesIO(data), response_headers=headers,
                                sanitize_html=True, resolve_relative_uris=True)
    except Exception as exc:
        raise FeedError(f"feedparser failed: {type(exc).__name__}: {exc}") from exc


def _raw_items(raw: RawFeed, entries: list[Any]) -> list[RawItem | None]:
    """The scanned item for each feedparser entry: by position, else by guid."""
    if len(raw.items) == len(entries):
        return list(raw.items)
    by_guid = {item.guid: item for item in raw.items if item.guid}
    return [by_guid.get(str(entry.get("id") or "").strip()) for entry in entries]


def _image(meta: Mapping[str, Any], base: str) -> str | None:
    """The channel's image (itunes:image, RSS <image>), else Atom's <logo> or <icon>."""
    value = meta.get("image")
    if isinstance(value, Mapping) and (
            url := clean_url(value.get("href") or value.get("url"), base=base)):
        return url
    return clean_url(meta.get("logo"), base=base) or clean_url(meta.get("icon"), base=base)


def _read_entry(entry: Any, item: RawItem | None, ctx: EntryContext) -> Episode | None:
    """One item, contained: whatever goes wrong in it skips it alone, with the reason."""
    try:
        return episode_from_entry(entry, item, ctx)
    except Exception as exc:  # one bad item must never stop the feed
        title = clean_line(entry.get("title") if isinstance(entry, Mapping) else "")
        guid = clean_line(item.guid if item else "", max_chars=300)
        ctx.skipped.append(SkippedItem(title, guid or "", _problem(
            f"could not be read: {type(exc).__name__}: {exc}")))
        return None


def _cap(entries: list[Any], ctx: EntryContext) -> list[Any]:
    if len(entries) <= MAX_EPISODES:
        return entries
    extra = len(entries) - MAX_EPISODES
    ctx.problems.append(f"only the first {MAX_EPISODES} of {len(entries)} items were read")
    ctx.skipped.append(SkippedItem(f"the last {extra} items", "",
                                   f"past the {MAX_EPISODES}-item cap: not read", count=extra))
    return entries[:MAX_EPISODES]


def _episodes(result: Any, raw: RawFeed, ctx: EntryContext,
              stored: StoredEpisode | None) -> tuple[Episode, ...]:
    entries = _cap(list(result.get("entries") or []), ctx)
    read = [episode for entry, item in zip(entries, _raw_items(raw, entries), strict=True)
            if (episode := _read_entry(entry, item, ctx)) is not None]
    episodes, duplicates = assign_episode_ids(read, feed_id=ctx.feed_id, stored=stored)
    ctx.skipped.extend(SkippedItem(d.title, d.guid, "duplicate of an earlier item (same guid, "
                                   "audio and title)") for d in duplicates)
    return episodes


def _listed(skipped: list[SkippedItem]) -> tuple[SkippedItem, ...]:
    """The skipped items, the first :data:`MAX_SKIPPED_LISTED` one by one, the rest counted."""
    if len(skipped) <= MAX_SKIPPED_LISTED:
        return tuple(skipped)
    head, rest = skipped[:MAX_SKIPPED_LISTED - 1], skipped[MAX_SKIPPED_LISTED - 1:]
    return (*head, SkippedItem(f"{sum(s.count for s in rest)} more items", "",
                               "not listed one by one", count=sum(s.count for s in rest)))


def _new_feed_url(written: str | None, url: str, problems: list[str]) -> str | None:
    """The new address the feed names for itself, if it is another http(s) URL; one that is
    not a URL is a problem, never a move."""
    new_url = clean_url(written, base=url)
    if written and new_url is None:
        problems.append(f"ignored new feed URL {clean_line(written)[:100]!r}: "
                        "not an http(s) URL")
    return new_url if new_url != url else None


def _not_a_feed(body: bytes, headers: Mapping[str, str], result: Mapping[str, Any]) -> str:
    """Why a body holds no feed: what it is (an HTML page, by its header or its first tag),
    and feedparser's reason."""
    head = bytes(body[:_SNIFF_BYTES]).lower()
    html = "html" in headers.get("content-type", "") or _HTML_START.search(head) is not None
    reason = _bozo(result) or "no channel and no items"
    return f"{'an HTML page, ' if html else ''}not a feed ({reason})"


def _capped(problems: list[str]) -> tuple[str, ...]:
    """The first :data:`MAX_PROBLEMS` problems, the last of them counting the rest."""
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    rest = len(problems) - MAX_PROBLEMS + 1
    return (*problems[:MAX_PROBLEMS - 1], f"{rest} more problems (not listed one by one)")


def parse_feed(body: bytes, *, url: str, feed_id: str | None = None,
               headers: Mapping[str, str] | None = None,
               stored: StoredEpisode | None = None) -> ParsedFeed:
    """Parse a feed fetched from ``url`` (relative links resolve against it).

    ``feed_id`` is the catalogue's id for the feed (default: derived from ``url``); episode
    ids derive from it. ``headers`` are the HTTP response headers (their charset matters).
    ``stored`` looks up the catalogue's episodes, so items that share a guid keep the ids an
    earlier run gave them (:func:`~poddarkiv.ingest.identity.assign_episode_ids`).
    Raises :class:`FeedError` when the body holds no feed at all.
    """
    feed_id = feed_id or feed_id_for(url)
    lower = {k.lower(): v for k, v in (headers or {}).items()}
    data, parse_headers, problems = _prepare(bytes(body), lower)
    parse_headers["content-location"] = url
    result = _run_feedparser(data, parse_headers)
    if (reason := _bozo(result)) is not None:
        problems.append(reason)
    if not result.get("entries") and not result.get("version"):
        raise FeedError(_not_a_feed(body, lower, result))
    raw = scan_feed(data.decode("utf-8", "replace"))
    meta = result.get("feed") or {}
    ctx = EntryContext(feed_id=feed_id, base=url, problems=problems, persons=raw.persons)
    episodes = _episodes(result, raw, ctx, stored)
    new_url = _new_feed_url(raw.new_feed_url, url, problems)
    return ParsedFeed(
        url=url, feed_id=feed_id,
        title=clean_line(meta.get("title")),
        description=clean_markup(meta.get("subtitle") or meta.get("summary") or ""),
        link=clean_url(meta.get("link"), base=url),
        language=language_tag(meta.get("language")),
        image=_image(meta, url),
        author=clean_line(meta.get("author") or meta.get("publisher") or "") or None,
        new_feed_url=new_url,
        podcast_guid=clean_line(raw.podcast_guid) or None,
        episodes=episodes,
        problems=_capped(problems),
        encoding=str(result.get("encoding") or ""),
        version=str(result.get("version") or ""),
        skipped=_listed(ctx.skipped),
        item_count=len(result.get("entries") or []),
    )
