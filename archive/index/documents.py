"""Whoosh documents for one episode: its own document and one per transcript segment."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from poddarkiv.archive.analysis import spelling_words, tokenize
from poddarkiv.archive.confidence import search_weight
from poddarkiv.archive.index.schema import (
    EPISODE,
    SEGMENT,
    day_number,
    episode_doc_id,
    episode_key,
)
from poddarkiv.archive.models import Episode, EpisodeThemes, Feed, Transcript

__all__ = ["CORPUS_MIN_COUNT", "episode_docs", "vocabulary"]

#: A corpus word joins the compound lexicon once it occurs this often in a batch.
CORPUS_MIN_COUNT = 2
#: Corpus words shorter than this do not join the compound lexicon.
CORPUS_MIN_CHARS = 5
#: Descriptions are indexed up to this many characters.
MAX_DESCRIPTION_CHARS = 20_000

def episode_docs(feed: Feed, episode: Episode, transcript: Transcript | None,
                 themes: EpisodeThemes | None = None) -> Iterator[dict[str, Any]]:
    """The episode's document, then one per non-empty segment.

    The episode's document lists the transcript's distinct words once (``spelling``), so
    "Menade du …?" knows every word without a posting per segment.
    """
    common: dict[str, Any] = {"episode_id": episode.id, "feed_id": episode.feed_id,
                              "ep_key": episode_key(episode.id)}
    if episode.published is not None:
        common["day"] = day_number(episode.published)
    slugs = themes.slugs if themes else ()
    if slugs:
        common["ep_themes"] = ",".join(slugs)
    texts = [s.text for s in transcript.segments] if transcript else []
    # Show notes are stored as plain text (ingest.text made them so): indexed as they are.
    description = (episode.description or "")[:MAX_DESCRIPTION_CHARS]
    yield {
        **common, "doc_id": episode_doc_id(episode.id), "kind": EPISODE, "is_ep": 1,
        "spelling": " ".join(sorted(spelling_words(texts))),
        "title": episode.title or "",
        "description": description,
        "podcast": feed.title or "",
        "meta": {"feed_id": episode.feed_id, "title": episode.title or "",
                 "feed_title": feed.title or "", "published": episode.published,
                 "themes": slugs, "description": description},
    }
    if transcript is None:
        return
    seg_themes = themes.segments if themes else {}
    for i, seg in enumerate(transcript.segments):
        text = seg.text.strip()
        if not text:
            continue
        doc = {**common, "kind": SEGMENT, "is_ep": 0, "seg": i, "start": float(seg.start),
               "end": float(seg.end), "text": text}
        if seg_themes.get(i):
            doc["seg_themes"] = ",".join(seg_themes[i])
        doubt = round((1.0 - search_weight(seg)) * 100)
        if doubt:
            doc["doubt"] = doubt
        yield doc


def vocabulary(transcripts: Iterable[Transcript]) -> set[str]:
    """Words frequent enough in ``transcripts`` to count as corpus vocabulary."""
    counts: Counter[str] = Counter()
    for t in transcripts:
        for seg in t.segments:
            counts.update(w for w, _, _ in tokenize(seg.text)
                          if len(w) >= CORPUS_MIN_CHARS and w.isalpha())
    return {w for w, n in counts.items() if n >= CORPUS_MIN_COUNT}
