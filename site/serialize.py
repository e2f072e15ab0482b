"""The JSON shapes of the site's pages: records in, JSON-ready dicts out.

Both halves of a page use these: the ``.json`` twin returns them, and the templates render
them. URLs are site paths; feed URLs appear only when they are ``http``/``https``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from poddarkiv.archive.artwork import Artwork
from poddarkiv.archive.codec import segment_to_dict, transcript_to_dict
from poddarkiv.archive.confidence import (
    doubtful_words,
    episode_confidence_json,
    passage_confidence_json,
)
from poddarkiv.archive.corrections import Correction
from poddarkiv.archive.models import (
    Episode,
    EpisodeFailure,
    Feed,
    Segment,
    SkippedItem,
    Transcript,
)
from poddarkiv.archive.search import Snippet
from poddarkiv.archive.store import TranscriptInfo
from poddarkiv.archive.writers import FORMATS
from poddarkiv.site import urls
from poddarkiv.site.sanitize import safe_url

__all__ = [
    "correction_json",
    "doubt_html",
    "episode_artwork_url",
    "episode_json",
    "failure_json",
    "feed_json",
    "feed_record_json",
    "hit_json",
    "segments_json",
    "skipped_json",
    "snippet_html",
    "transcript_json",
]

#: Download formats offered for every transcript (``archive.writers`` writes them).


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def feed_json(feed: Feed, *, episode_count: int | None = None,
              artwork: bool = False) -> dict[str, Any]:
    """A podcast as the site shows it (no fetch state: that is for the admin page).

    ``image`` is the publisher's URL (linked, never shown); ``artwork_url`` is the archive's
    own copy (``archive.artwork``), served by the site, when ``artwork`` says it has one.
    """
    out: dict[str, Any] = {
        "id": feed.id,
        "title": feed.title or feed.url,
        "description": feed.description,
        "author": feed.author,
        "language": feed.language,
        "link": safe_url(feed.link),
        "feed_url": safe_url(feed.url),
        "image": safe_url(feed.image),
        "artwork_url": urls.artwork(feed.id) if artwork else None,
        "url": urls.podcast(feed.id),
        "rss": urls.rss(feed.id),
    }
    if episode_count is not None:
        out["episode_count"] = episode_count
    return out


def skipped_json(items: Iterable[SkippedItem]) -> list[dict[str, Any]]:
    """Items of a feed that did not become episodes, each with the reason."""
    return [{"title": s.title, "guid": s.guid, "reason": s.reason, "count": s.count}
            for s in items]


def feed_record_json(feed: Feed, *, text_only_count: int) -> dict[str, Any]:
    """What the last read of the feed recorded: how many items it held, where it lived
    before (oldest first), the items skipped and the parser's problems."""
    return {
        "item_count": feed.item_count,
        "text_only_count": text_only_count,
        "previous_urls": [u for u in map(safe_url, feed.previous_urls) if u],
        "skipped": skipped_json(feed.skipped),
        "skipped_count": sum(s.count for s in feed.skipped),
        "problems": list(feed.problems),
    }


def failure_json(failure: EpisodeFailure, episode: Episode | None) -> dict[str, Any]:
    """An episode whose last attempt failed: the error, how often, and the next try
    (``retry_at`` ``None``: it waits until the feed names another audio file)."""
    return {
        "episode_id": failure.episode_id,
        "title": episode.title if episode else failure.episode_id,
        "url": urls.episode(failure.episode_id),
        "error": failure.error,
        "count": failure.count,
        "failed_at": _iso(failure.failed_at),
        "retry_at": _iso(failure.retry_at),
    }


def episode_artwork_url(episode_id: str, feed_id: str, artwork: Artwork | None) -> str | None:
    """Where the site serves the archive's copy of an episode's image
    (``archive.artwork.episode_artwork``): the episode's own route for a copy kept by URL, the
    podcast's route when the episode names the podcast's image (one URL, which the browser
    fetches once for all its episodes); ``None`` without a copy (pages then show
    ``feed_artwork_url``). Every page and twin names an episode's image through this."""
    if artwork is None:
        return None
    return urls.episode_artwork(episode_id) if artwork.by_url else urls.artwork(feed_id)


def episode_json(episode: Episode, *, feed_title: str | None = None,
                 has_transcript: bool | None = None, feed_artwork: bool = False,
                 artwork: Artwork | None = None) -> dict[str, Any]:
    """An episode's metadata, with links to its page, audio and transcripts
    (``artwork_url``: the episode's image as :func:`episode_artwork_url` names its copy
    ``artwork``; ``feed_artwork_url``: the podcast's image, when ``feed_artwork`` says the
    archive has it)."""
    enclosure = episode.enclosure
    out: dict[str, Any] = {
        "id": episode.id,
        "feed_id": episode.feed_id,
        "feed_title": feed_title,
        "artwork_url": episode_artwork_url(episode.id, episode.feed_id, artwork),
        "feed_artwork_url": urls.artwork(episode.feed_id) if feed_artwork else None,
        "title": episode.title,
        "description": episode.description,
        "published": _iso(episode.published),
        "duration_s": episode.duration_s,
        "season": episode.season,
        "number": episode.number,
        "link": safe_url(episode.link),
        "image": safe_url(episode.image),
        "text_only": episode.text_only,
        "enclosure_url": safe_url(enclosure.url) if enclosure else None,
        "url": urls.episode(episode.id),
        "audio_url": urls.audio(episode.id) if episode.audio_path else None,
        "persons": [{"name": p.name, "role": p.role, "href": safe_url(p.href)}
                    for p in episode.persons],
    }
    if has_transcript is not None:
        out["has_transcript"] = has_transcript
    return out


def segments_json(episode_id: str, segments: Iterable[Segment],
                  corrected: Collection[int] = ()) -> list[dict[str, Any]]:
    """Segments in the archive's own shape (``archive.codec``) with their confidence
    (``archive.confidence``: ``score`` and ``label``, or ``None``) and their time link;
    ``anchor`` is ``t-<start>`` (as the link writes the time), unique per page, so a passage's
    link (``?t=13.797#t-13.797``) lands on that passage. ``corrected`` is whether a person
    wrote the passage's text (the positions in ``corrected``: ``archive.corrections``)."""
    seen: set[str] = set()
    out = []
    for pos, seg in enumerate(segments):
        anchor = f"t-{urls.seconds(seg.start)}"
        text = seg.text.strip()
        out.append({**segment_to_dict(seg), "text": text, "speaker": seg.speaker,
                    "confidence": passage_confidence_json(seg),
                    "doubtful": [list(span) for span in doubtful_words(seg, text)],
                    "corrected": pos in corrected,
                    "anchor": None if anchor in seen else anchor,
                    "url": urls.episode(episode_id, t=seg.start)})
        seen.add(anchor)
    return out


def correction_json(correction: Correction) -> dict[str, Any]:
    """A correction by a person (``archive.corrections``): the passage's span and link, the
    text before and after, who, when and why, and whether it needs the admin's look."""
    return {
        "id": correction.id,
        "episode_id": correction.episode_id,
        "start": round(correction.start, 3),
        "end": round(correction.end, 3),
        "original": correction.original,
        "text": correction.text,
        "editor": correction.editor,
        "note": correction.note,
        "created": _iso(correction.created),
        "revision": correction.revision,
        "needs_review": correction.conflict is not None,
        "url": urls.episode(correction.episode_id, t=correction.start),
    }


def transcript_json(transcript: Transcript, info: TranscriptInfo | None) -> dict[str, Any]:
    """Where a transcript came from (the archive's own shape, ``archive.codec``, without its
    segments, which are listed separately), its confidence (``archive.confidence``), its
    revision and its download links."""
    out = transcript_to_dict(transcript)
    del out["segments"]
    out["confidence"] = episode_confidence_json(transcript.segments)
    out["revision"] = info.id if info else None
    out["downloads"] = {fmt: urls.transcript(transcript.episode_id, fmt) for fmt in FORMATS}
    return out


def snippet_html(snippet: Snippet) -> Markup:
    """A snippet as HTML: its text escaped, its matched words in ``<mark>``, "…" where cut.

    The one place a snippet becomes markup; the archive gives text and spans only.
    """
    body = _spans_html(snippet.text, snippet.marks, "<mark>", "</mark>")
    return Markup(("…" if snippet.cut_before else "") + body
                  + ("…" if snippet.cut_after else ""))


def doubt_html(text: str, spans: Sequence[tuple[int, int]]) -> Markup:
    """A passage's text as HTML with the words the recogniser doubted
    (``archive.confidence.doubtful_words``) in ``<span class="doubt">``: underlined with dots
    (not by colour alone), and titled for a pointer."""
    return Markup(_spans_html(text, spans, '<span class="doubt">', "</span>"))


def _spans_html(text: str, spans: Sequence[tuple[int, int]], opening: str, closing: str) -> str:
    """``text`` escaped, with each of the sorted, disjoint ``spans`` wrapped in the tags."""
    out = []
    pos = 0
    for start, end in spans:
        out.append(str(escape(text[pos:start])))
        out.append(f"{opening}{escape(text[start:end])}{closing}")
        pos = end
    out.append(str(escape(text[pos:])))
    return "".join(out)


def _kind(passage: Any) -> str:
    """Where a passage's text comes from: ``transcript``, ``description`` or ``title``."""
    return str(getattr(passage, "kind", "transcript"))


def _timeline_x(start: float, duration_s: float | None) -> float | None:
    """Where ``start`` falls in the episode, in percent (for the result card's timeline)."""
    if not duration_s or duration_s <= 0:
        return None
    return round(min(max(start / duration_s, 0.0), 1.0) * 100, 2)


def hit_json(hit: Any, *, duration_s: float | None = None, feed_artwork: bool = False,
             artwork: Artwork | None = None) -> dict[str, Any]:
    """One search hit (an ``EpisodeHit``) with its passages, each linked to its moment.

    A passage's link names its exact start (``?t=13.797``), so the page opens on that passage;
    ``segment`` is its position in the transcript. ``duration_s`` (the episode's length, when
    known) places the passages on the card's timeline (``position``, percent).
    ``feed_artwork`` says whether the archive keeps the podcast's image (``feed_artwork_url``);
    ``artwork`` is the copy of the episode's own image (``artwork_url``, as in
    :func:`episode_json`), which the card shows first.
    """
    return {
        "episode_id": hit.episode_id,
        "feed_id": hit.feed_id,
        "title": hit.title,
        "feed_title": hit.feed_title,
        "artwork_url": episode_artwork_url(hit.episode_id, hit.feed_id, artwork),
        "feed_artwork_url": urls.artwork(hit.feed_id) if feed_artwork else None,
        "published": _iso(hit.published),
        "score": round(float(hit.score), 4),
        "url": urls.episode(hit.episode_id),
        "duration_s": duration_s,
        "passage_count": hit.passage_total or len(hit.passages),
        "matched_metadata": bool(hit.matched_metadata),
        # How the episode matched: passage, near, metadata, episode (archive.search.MatchTier).
        "tier": hit.tier,
        "passages": [
            {
                "segment": getattr(p, "index", -1),
                "kind": _kind(p),
                "position": _timeline_x(p.start, duration_s) if _kind(p) == "transcript"
                else None,
                "start": round(p.start, 3),
                "end": round(p.end, 3),
                "text": p.text,
                "snippet": {"text": p.snippet.text, "marks": [list(m) for m in p.snippet.marks],
                            "cut_before": p.snippet.cut_before,
                            "cut_after": p.snippet.cut_after},
                "snippet_html": snippet_html(p.snippet),
                "near": bool(p.near),
                "score": round(float(p.score), 4),
                # A title or description excerpt has no moment in the audio to link to.
                "url": urls.episode(hit.episode_id, t=p.start if _kind(p) == "transcript"
                                    else None),
            }
            for p in hit.passages
        ],
    }


def counts_json(counts: Mapping[str, int] | Iterable[tuple[str, int]] | None) -> list[Any]:
    """Facet counts as ``[{"value": ..., "count": ...}]``, however the index returns them."""
    if not counts:
        return []
    pairs = counts.items() if isinstance(counts, Mapping) else counts
    return [{"value": str(k), "count": int(v)} for k, v in pairs]
