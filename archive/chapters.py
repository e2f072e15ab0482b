"""Chapters: the publisher's (Podcasting 2.0 JSON chapters) or suggested where the theme changes.

A feed may point at a JSON chapters file (``<podcast:chapters type="application/json+chapters">``,
spec: github.com/Podcastindex-org/podcast-namespace, ``chapters/jsonChapters.md``);
:func:`parse_chapters_json` reads it. Without one, :func:`suggest_chapters` starts a chapter where
the dominant theme of the passages changes and stays changed for a while.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from poddarkiv.archive.models import Chapter, Transcript
from poddarkiv.archive.themes import Taxonomy
from poddarkiv.archive.times import json_seconds
from poddarkiv.errors import FeedError

__all__ = [
    "CHAPTERS_MEDIA_TYPE",
    "MIN_CHAPTER_S",
    "WINDOW_S",
    "parse_chapters_json",
    "suggest_chapters",
]

CHAPTERS_MEDIA_TYPE = "application/json+chapters"
#: A suggested chapter lasts at least this long; shorter theme changes are not chapters.
MIN_CHAPTER_S = 60.0
#: The dominant theme at a moment is the one that scores most in a window this wide around it.
WINDOW_S = 90.0
MAX_TITLE_CHARS = 200


def _chapter(entry: Any) -> Chapter | None:
    if not isinstance(entry, dict) or entry.get("toc") is False:
        return None  # "toc": false marks a silent chapter (an image change), not a heading
    start = json_seconds(entry.get("startTime"))
    if start is None:
        return None
    title = entry.get("title")
    url = entry.get("url")
    return Chapter(
        start=start,
        title=title.strip()[:MAX_TITLE_CHARS] if isinstance(title, str) else "",
        url=url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
    )


def parse_chapters_json(body: bytes | str) -> tuple[Chapter, ...]:
    """The chapters of a JSON chapters file, in time order.

    Entries without a usable ``startTime`` and silent ones (``"toc": false``) are skipped; a
    body that is not a chapters document raises :class:`~poddarkiv.errors.FeedError`.
    """
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"chapters file is not JSON: {exc}") from exc
    entries = data.get("chapters") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise FeedError("chapters file has no \"chapters\" list")
    chapters: dict[float, Chapter] = {}
    for entry in entries:
        chapter = _chapter(entry)
        if chapter is not None:
            chapters.setdefault(chapter.start, chapter)  # the first of equal start times wins
    return tuple(sorted(chapters.values(), key=lambda c: c.start))


@dataclass(slots=True)
class _Run:
    theme: str | None
    start: float
    end: float


def _dominant(transcript: Transcript, passages: Mapping[int, Sequence[tuple[str, float]]],
              order: Mapping[str, int], window_s: float) -> list[str | None]:
    # A sliding window over the segments' midpoints (segments are in time order): O(n).
    mids = [(s.start + s.end) / 2 for s in transcript.segments]
    totals: dict[str, float] = {}
    dominant: list[str | None] = []
    left = right = 0
    for mid in mids:
        while right < len(mids) and mids[right] <= mid + window_s / 2:
            for slug, score in passages.get(right, ()):
                totals[slug] = totals.get(slug, 0.0) + score
            right += 1
        while mids[left] < mid - window_s / 2:
            for slug, score in passages.get(left, ()):
                totals[slug] -= score
            left += 1
        live = {s: v for s, v in totals.items() if v > 1e-9}
        dominant.append(min(live, key=lambda s: (-live[s], order.get(s, len(order))),
                            default=None))
    return dominant


def _runs(transcript: Transcript, dominant: list[str | None]) -> list[_Run]:
    runs: list[_Run] = []
    for segment, theme in zip(transcript.segments, dominant, strict=True):
        if runs and (theme is None or theme == runs[-1].theme or runs[-1].theme is None):
            runs[-1].end = segment.end
            runs[-1].theme = runs[-1].theme or theme
        else:
            runs.append(_Run(theme, segment.start, segment.end))
    return runs


def _merge_short(runs: list[_Run], min_chapter_s: float) -> list[_Run]:
    merged: list[_Run] = []
    for run in runs:
        if merged and (run.end - run.start < min_chapter_s or run.theme == merged[-1].theme):
            merged[-1].end = run.end
        else:
            merged.append(run)
    if len(merged) > 1 and merged[0].end - merged[0].start < min_chapter_s:
        merged[1].start = merged[0].start
        merged.pop(0)
    return merged


def suggest_chapters(taxonomy: Taxonomy, transcript: Transcript,
                     passages: Mapping[int, Sequence[tuple[str, float]]], *,
                     min_chapter_s: float = MIN_CHAPTER_S,
                     window_s: float = WINDOW_S) -> tuple[Chapter, ...]:
    """Chapters where the dominant theme changes, titled with the theme's Swedish name.

    ``passages`` maps a segment index to its themes with scores (as
    :attr:`~poddarkiv.archive.themes.ThemeScores.segments`). Fewer than two chapters is no
    suggestion: the result is then empty.
    """
    if not transcript.segments:
        return ()
    order = {t.slug: i for i, t in enumerate(taxonomy.themes)}
    runs = _merge_short(_runs(transcript, _dominant(transcript, passages, order, window_s)),
                        min_chapter_s)
    if len(runs) < 2:
        return ()
    names = {t.slug: t.name for t in taxonomy.themes}
    return tuple(Chapter(start=0.0 if i == 0 else round(run.start, 3),
                         title=names.get(run.theme or "", run.theme or ""))
                 for i, run in enumerate(runs))
