"""Feed bytes → a :class:`ParsedFeed` of our own records, through feedparser, safely.

The body is never handed to feedparser as a string (a string that looks like a path or URL makes
feedparser open it): it goes in as ``io.BytesIO``. Before that the body is converted to UTF-8
(with feedparser's own encoding rules, so its answer does not change) and every DOCTYPE and
ENTITY declaration is removed (:mod:`poddarkiv.ingest.xmlsafe`). feedparser's own crashes are
caught. Like feedparser, we tolerate broken feeds and record why (``problems``); only a body
with nothing usable in it (an HTML page, not XML at all) raises :class:`FeedError`.

Everything that leaves this module is normalised text (:mod:`poddarkiv.ingest.text`) and
``http``/``https`` URLs; iTunes and Podcasting 2.0 tags come from
:mod:`poddarkiv.ingest.podcastns` where feedparser loses them.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

from poddarkiv.archive.models import Episode, Feed
from poddarkiv.errors import FeedError
from poddarkiv.ingest.entries import EntryContext, episode_from_entry, language_tag
from poddarkiv.ingest.identity import feed_id_for
from poddarkiv.ingest.podcastns import RawFeed, RawItem, scan_feed
from poddarkiv.ingest.text import clean_line, clean_url, html_to_text
from poddarkiv.ingest.xmlsafe import replace_bad_char_refs, strip_doctype

__all__ = ["MAX_EPISODES", "MAX_PROBLEMS", "ParsedFeed", "parse_feed"]

#: A feed with more items than this is cut (the newest come first in almost every feed).
MAX_EPISODES = 10_000
MAX_PROBLEMS = 50
_MAX_PROBLEM_CHARS = 300
_DEFAULT_MEDIA_TYPE = "application/xml"


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

    def apply_to(self, feed: Feed) -> Feed:
        """``feed`` with this parse's metadata (empty values keep what ``feed`` had)."""
        return feed.replace(
            title=self.title or feed.title, description=self.description or feed.description,
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


def _image(value: Any, base: str) -> str | None:
    if isinstance(value, Mapping):
        return clean_url(value.get("href") or value.get("url"), base=base)
    return None


def _episodes(result: Any, raw: RawFeed, ctx: EntryContext) -> tuple[Episode, ...]:
    entries = list(result.get("entries") or [])
    if len(entries) > MAX_EPISODES:
        ctx.problems.append(f"only the first {MAX_EPISODES} of {len(entries)} items were read")
        entries = entries[:MAX_EPISODES]
    episodes: dict[str, Episode] = {}
    for entry, item in zip(entries, _raw_items(raw, entries), strict=True):
        episode = episode_from_entry(entry, item, ctx)
        if episode is None:
            continue
        if episode.id in episodes:
            ctx.problems.append(_problem(f"duplicate item {episode.guid or episode.title!r} "
                                         "skipped"))
            continue
        episodes[episode.id] = episode
    return tuple(episodes.values())


def parse_feed(body: bytes, *, url: str, feed_id: str | None = None,
               headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse a feed fetched from ``url`` (relative links resolve against it).

    ``feed_id`` is the catalogue's id for the feed (default: derived from ``url``); episode
    ids derive from it. ``headers`` are the HTTP response headers (their charset matters).
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
        kind = "an HTML page" if "html" in lower.get("content-type", "") else "not a feed"
        raise FeedError(f"{kind}: {problems[-1] if problems else 'no channel and no items'}")
    raw = scan_feed(data.decode("utf-8", "replace"))
    meta = result.get("feed") or {}
    ctx = EntryContext(feed_id=feed_id, base=url, problems=problems, persons=raw.persons)
    episodes = _episodes(result, raw, ctx)
    new_url = clean_url(raw.new_feed_url, base=url)
    return ParsedFeed(
        url=url, feed_id=feed_id,
        title=clean_line(meta.get("title")),
        description=html_to_text(meta.get("subtitle") or meta.get("summary") or ""),
        link=clean_url(meta.get("link"), base=url),
        language=language_tag(meta.get("language")),
        image=_image(meta.get("image"), url),
        author=clean_line(meta.get("author") or meta.get("publisher") or "") or None,
        new_feed_url=new_url if new_url and new_url != url else None,
        podcast_guid=clean_line(raw.podcast_guid) or None,
        episodes=episodes,
        problems=tuple(problems[:MAX_PROBLEMS]),
        encoding=str(result.get("encoding") or ""),
        version=str(result.get("version") or ""),
    )
