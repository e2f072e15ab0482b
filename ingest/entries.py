"""One feedparser entry (plus the tags scanned from its raw text) → one :class:`Episode`.

This is where third-party shapes end: feedparser's ``FeedParserDict`` and the scanner's raw
elements go in, a frozen :class:`Episode` of normalised text and checked URLs comes out. Values
that make no sense (a negative or 40-TB enclosure length, a duration of ``"abc"``, an episode
number of ``10**30``) become ``None`` and are recorded as problems, never raised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from poddarkiv.archive.models import (
    Chapter,
    Enclosure,
    Episode,
    Person,
    SkippedItem,
    TranscriptLink,
)
from poddarkiv.archive.times import parse_clock
from poddarkiv.ingest.dates import parse_feed_date
from poddarkiv.ingest.identity import episode_id_for, episode_identity
from poddarkiv.ingest.podcastns import RawElement, RawItem
from poddarkiv.ingest.text import clean_line, clean_markup, clean_url

__all__ = [
    "MAX_DURATION_S",
    "MAX_ENCLOSURE_BYTES",
    "EntryContext",
    "episode_from_entry",
    "language_tag",
    "parse_duration",
]

#: Larger enclosure lengths are nonsense (a 20 GiB podcast episode does not exist).
MAX_ENCLOSURE_BYTES = 20 * 1024**3
#: A week of audio; a longer itunes:duration is nonsense.
MAX_DURATION_S = 7 * 24 * 3600.0
_MAX_SEASON_OR_NUMBER = 1_000_000
_MAX_CHAPTERS = 500
_FALLBACK_TITLE_CHARS = 80
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{1,8})*$")
_MEDIA_PREFIXES = ("audio/", "video/")


@dataclass(slots=True)
class EntryContext:
    """What every entry of one feed shares: ids, the base URL, the problem list."""

    feed_id: str
    base: str
    problems: list[str] = field(default_factory=list)
    persons: tuple[RawElement, ...] = ()
    skipped: list[SkippedItem] = field(default_factory=list)


def language_tag(value: object) -> str | None:
    """A lowercase BCP 47-ish language tag (``sv``, ``sv-se``), or ``None``."""
    tag = clean_line(value, max_chars=35).lower().replace("_", "-")
    return tag if _LANGUAGE.match(tag) else None


def _clock_seconds(value: object) -> float | None:
    """``H:MM:SS``, ``MM:SS`` or seconds, maybe fractional, as seconds (0 allowed), capped."""
    seconds = parse_clock(clean_line(value, max_chars=40))
    return seconds if seconds is not None and seconds <= MAX_DURATION_S else None


def parse_duration(value: object) -> float | None:
    """Seconds from ``itunes:duration``: ``H:MM:SS``, ``MM:SS`` or seconds, maybe fractional."""
    seconds = _clock_seconds(value)
    return seconds if seconds else None


def _small_int(value: object, tag: str, ctx: EntryContext) -> int | None:
    text = clean_line(value, max_chars=40)
    if text.isdigit() and int(text) <= _MAX_SEASON_OR_NUMBER:
        return int(text)
    if text:
        ctx.problems.append(f"ignored {tag} {text[:30]!r}")
    return None


def _duration(value: object, ctx: EntryContext) -> float | None:
    """:func:`parse_duration`, recording a value that is not a time (``0`` means unknown)."""
    if _clock_seconds(value) is None and (text := clean_line(value, max_chars=40)):
        ctx.problems.append(f"ignored itunes:duration {text[:30]!r}")
    return parse_duration(value)


def _published(entry: Mapping[str, Any]) -> datetime | None:
    # Swedish names and CET/CEST first: feedparser gives no date, or one an hour off, for them.
    if (ours := parse_feed_date(entry.get("published") or entry.get("updated"))) is not None:
        return ours
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    try:
        year, month, day, hour, minute, second = (int(x) for x in parsed[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _length(value: object, ctx: EntryContext) -> int | None:
    text = clean_line(value, max_chars=40)
    if not text:
        return None
    if not text.isdigit() or not 0 < int(text) <= MAX_ENCLOSURE_BYTES:
        if text != "0":  # "0" is the usual way of saying "unknown"
            ctx.problems.append(f"ignored enclosure length {text[:30]!r}")
        return None
    return int(text)


def _enclosure(entry: Mapping[str, Any], ctx: EntryContext) -> Enclosure | None:
    candidates = list(entry.get("enclosures") or []) + [
        {"href": m.get("url"), "type": m.get("type"), "length": m.get("filesize")}
        for m in entry.get("media_content") or [] if isinstance(m, Mapping)]
    found: list[Enclosure] = []
    for raw in candidates:
        written = raw.get("href") or raw.get("url")
        url = clean_url(written, base=ctx.base)
        if url is None:
            if written:  # the audio is refused, never lost without a word
                ctx.problems.append(f"ignored enclosure URL {clean_line(written)[:100]!r}: "
                                    "not an http(s) URL")
            continue
        kind = clean_line(raw.get("type"), max_chars=100).lower().split(";")[0].strip()
        found.append(Enclosure(url, kind, _length(raw.get("length"), ctx)))
    media = [e for e in found if e.type.startswith(_MEDIA_PREFIXES)]
    return (media or found)[0] if found else None


def _transcripts(item: RawItem | None, ctx: EntryContext) -> tuple[TranscriptLink, ...]:
    links: dict[str, TranscriptLink] = {}
    for element in item.transcripts if item else ():
        url = clean_url(element.attrs.get("url"), base=ctx.base)
        if url is None or url in links:
            continue
        kind = clean_line(element.attrs.get("type"), max_chars=100).lower()
        rel = clean_line(element.attrs.get("rel"), max_chars=40) or None
        links[url] = TranscriptLink(url, kind.split(";")[0].strip(),
                                    language_tag(element.attrs.get("language")), rel)
    return tuple(links.values())


def _persons(elements: tuple[RawElement, ...], ctx: EntryContext) -> tuple[Person, ...]:
    persons = []
    for element in elements:
        name = clean_line(element.text, max_chars=200)
        if name:
            persons.append(Person(
                name=name,
                role=clean_line(element.attrs.get("role"), max_chars=50).lower() or "host",
                group=clean_line(element.attrs.get("group"), max_chars=50).lower() or "cast",
                href=clean_url(element.attrs.get("href"), base=ctx.base),
                img=clean_url(element.attrs.get("img"), base=ctx.base),
            ))
    return tuple(persons)


def _image(entry: Mapping[str, Any], ctx: EntryContext) -> str | None:
    """itunes:image (or Atom/RSS image), else the first media:thumbnail or media:content image."""
    candidates: list[Any] = [entry.get("image")]
    candidates += list(entry.get("media_thumbnail") or [])
    candidates += [m for m in entry.get("media_content") or []
                   if isinstance(m, Mapping) and str(m.get("medium") or m.get("type") or "")
                   .startswith("image")]
    for value in candidates:
        if isinstance(value, Mapping) and (
                url := clean_url(value.get("href") or value.get("url"), base=ctx.base)):
            return url
    return None


def _description(entry: Mapping[str, Any]) -> str:
    """The fullest show notes: content:encoded when it says more than <description>.

    RSS <description> and <itunes:summary> both land in "summary"; content:encoded (Atom
    <content>) is usually the full show notes; itunes:subtitle is the last resort.
    """
    summary = clean_markup(entry.get("summary") or "")
    contents = [clean_markup(c.get("value") or "") for c in entry.get("content") or []
                if isinstance(c, Mapping)]
    fullest = max(contents, key=len, default="")
    if len(fullest) > len(summary):
        return fullest
    return summary or clean_markup(entry.get("subtitle") or "")


def _chapters(entry: Mapping[str, Any], ctx: EntryContext) -> tuple[Chapter, ...]:
    """Podlove Simple Chapters (``psc:chapters``, which feedparser reads), in time order."""
    psc = entry.get("psc_chapters")
    raw = psc.get("chapters") if isinstance(psc, Mapping) else None
    chapters: list[Chapter] = []
    for item in list(raw or [])[:_MAX_CHAPTERS]:
        if not isinstance(item, Mapping):
            continue
        start = _clock_seconds(item.get("start"))
        if start is None:
            ctx.problems.append(f"ignored chapter start {clean_line(item.get('start'))[:30]!r}")
            continue
        chapters.append(Chapter(start, clean_line(item.get("title")),
                                clean_url(item.get("href"), base=ctx.base)))
    return tuple(sorted(chapters, key=lambda c: c.start))


def _fallback_title(entry: Mapping[str, Any], enclosure: Enclosure | None,
                    published: datetime | None) -> str:
    """A heading for an item without a title: its show notes' start, its file, or its date."""
    if first := _description(entry)[:_FALLBACK_TITLE_CHARS * 2].split("\n", 1)[0].strip():
        short = clean_line(first, max_chars=_FALLBACK_TITLE_CHARS)
        return short if len(short) == len(first) else short.rstrip(" .,;:") + "…"
    if enclosure is not None:
        name = enclosure.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        stem = name.rpartition(".")[0]  # "avsnitt-3.mp3" → "avsnitt-3"
        if stem and (stem := clean_line(stem, max_chars=_FALLBACK_TITLE_CHARS)):
            return stem
    return f"Avsnitt {published.date().isoformat()}" if published else "Avsnitt utan titel"


def episode_from_entry(entry: Mapping[str, Any], item: RawItem | None,
                       ctx: EntryContext) -> Episode | None:
    """The episode an entry describes, or ``None`` when the item holds nothing to keep (the
    item is then listed in ``ctx.skipped`` with the reason).

    An item without audio and without a transcript is kept as a *text-only* episode
    (:attr:`Episode.text_only`): its show notes are searchable like any other episode's.
    """
    enclosure = _enclosure(entry, ctx)
    transcripts = _transcripts(item, ctx)
    published = _published(entry)
    title = clean_line(entry.get("title")) or _fallback_title(entry, enclosure, published)
    # The guid as written: feedparser resolves a permalink guid against the feed's URL, which
    # would change every episode's identity when the feed moves.
    guid = clean_line((item.guid if item and item.guid else None) or entry.get("id"),
                      max_chars=2000)
    link = clean_url(entry.get("link"), base=ctx.base)
    if guid and clean_url(guid) is None and link == clean_url(guid, base=ctx.base):
        link = None  # feedparser made a "link" out of a guid like "42" resolved against the feed
    if enclosure is None and not transcripts and not (
            clean_line(entry.get("title")) or _description(entry) or link):
        ctx.skipped.append(SkippedItem("", guid, "no audio, no transcript and no text"))
        return None
    identity = episode_identity(guid=guid, enclosure_url=enclosure.url if enclosure else None,
                                link=link, title=title, published=published)
    chapters = item.chapters if item else ()
    return Episode(
        id=episode_id_for(ctx.feed_id, identity), feed_id=ctx.feed_id,
        guid=guid or identity, title=title, description=_description(entry), link=link,
        published=published, duration_s=_duration(entry.get("itunes_duration"), ctx),
        season=_small_int(entry.get("itunes_season"), "itunes:season", ctx),
        number=_small_int(entry.get("itunes_episode"), "itunes:episode", ctx),
        image=_image(entry, ctx),
        enclosure=enclosure, transcripts=transcripts,
        chapters_url=clean_url(chapters[0].attrs.get("url"), base=ctx.base) if chapters else None,
        persons=_persons((item.persons if item else ()) or ctx.persons, ctx),
        chapters=_chapters(entry, ctx),
    )
