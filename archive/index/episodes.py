"""Matches grouped per episode: each episode's best passages, its score, its rank in a tier.

Work here is array work over document numbers, grouped by the episode key of each document (an
episode's documents are consecutive, so per-episode reductions run over runs, without sorting).
An episode scores by its passages together: the best, plus half the second, a quarter of the
third, and so on for :data:`SCORED_PASSAGES` (several matching passages beat one); a match in its
title, description or podcast title adds :data:`META_SHARE` of that score. Only the episodes on
the page shown have their passages turned into objects (:attr:`EpisodeMatch.passages`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from poddarkiv.archive.index.matching import Docs
from poddarkiv.archive.index.postings import FloatArray, IntArray, member

__all__ = [
    "EMPTY",
    "MAX_PASSAGES",
    "EpisodeMatch",
    "Grouped",
    "Meta",
    "Passage",
    "Tier",
    "best_per_episode",
    "episodes_of",
    "group",
    "in_episodes",
    "meta_of",
    "rank_episodes",
    "rows_of",
    "take",
]

Tier = Literal["passage", "near", "metadata", "episode"]

#: Passages shown per episode.
MAX_PASSAGES = 3
#: The n-th best passage of an episode adds ``PASSAGE_DECAY ** n`` of its score.
PASSAGE_DECAY = 0.5
#: Passages summed into an episode's score.
SCORED_PASSAGES = 8
#: An episode's title/description match adds this share of its score to a spoken match.
META_SHARE = 0.5
#: Stretches read per episode to find :data:`MAX_PASSAGES` that do not overlap.
_CANDIDATES = 4 * MAX_PASSAGES


@dataclass(frozen=True, slots=True)
class Passage:
    """Documents ``first``..``last`` (one segment, or a stretch for ``near``) and its score."""

    first: int
    last: int
    score: float
    #: The episode document: the match is in the title, description or podcast title.
    metadata: bool = False


@dataclass(frozen=True, slots=True)
class Grouped:
    """Scored passages grouped per episode: sorted by episode key, best first within one."""

    keys: IntArray
    totals: FloatArray
    starts: IntArray
    sizes: IntArray
    firsts: IntArray
    lasts: IntArray
    scores: FloatArray

    def passages(self, row: int) -> list[Passage]:
        """The episode's best passages that do not overlap, at most :data:`MAX_PASSAGES`."""
        start = int(self.starts[row])
        end = start + min(int(self.sizes[row]), _CANDIDATES)
        kept: list[Passage] = []
        for f, la, s in zip(self.firsts[start:end].tolist(), self.lasts[start:end].tolist(),
                            self.scores[start:end].tolist(), strict=True):
            if all(la < k.first or f > k.last for k in kept):
                kept.append(Passage(f, la, s))
                if len(kept) == MAX_PASSAGES:
                    break
        return kept


EMPTY = np.zeros(0, dtype=np.int64)


def group(ep: IntArray, firsts: IntArray, scores: FloatArray,
           lasts: IntArray | None = None) -> Grouped:
    """Group passages (first document, score, last document) per episode."""
    lasts = firsts if lasts is None else lasts
    keys = ep[firsts]
    order = np.lexsort((-scores, keys))
    keys, firsts, lasts, scores = keys[order], firsts[order], lasts[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))) \
        if len(keys) else EMPTY
    sizes = np.diff(np.append(starts, len(keys)))
    rank = np.arange(len(keys)) - np.repeat(starts, sizes)
    weight = np.where(rank < SCORED_PASSAGES, PASSAGE_DECAY ** np.minimum(rank, 30), 0.0)
    totals = np.add.reduceat(scores * weight, starts) if len(keys) else scores
    return Grouped(keys[starts], totals.astype(np.float32), starts, sizes, firsts, lasts,
                    scores)


@dataclass(frozen=True, slots=True)
class Meta:
    """Episodes whose title, description or podcast title matched every group."""

    keys: IntArray  # sorted
    scores: FloatArray
    docs: IntArray


@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    """One episode that matched: its key, tier and score; its passages on demand."""

    ep_key: int
    tier: Tier
    score: float
    metadata: bool
    _spoken: Grouped | None = None
    _row: int = -1
    _meta: tuple[float, int] | None = None

    @property
    def passage_total(self) -> int:
        """How many passages (segments, or stretches for ``near``) of the episode matched."""
        return int(self._spoken.sizes[self._row]) if self._spoken is not None else 0

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The best passages, and the title/description excerpt where it matched and there
        is room (first when nothing spoken matched every word)."""
        shown = self._spoken.passages(self._row) if self._spoken is not None else []
        if self._meta is not None and len(shown) < MAX_PASSAGES:
            excerpt = Passage(self._meta[1], self._meta[1], self._meta[0], metadata=True)
            shown = [excerpt, *shown] if self.tier == "metadata" else [*shown, excerpt]
        return tuple(shown)


def best_per_episode(ep: IntArray, docs: Docs, keys: IntArray) -> FloatArray:
    """Each episode's best document score in ``docs`` (0 where it has none); runs, no sort."""
    k = ep[docs.ids]
    if not len(k):
        return np.zeros(len(keys), dtype=np.float32)
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    run_keys, run_best = k[starts], np.maximum.reduceat(docs.scores, starts)
    order = np.argsort(run_keys)
    found: FloatArray = take(run_best[order], rows_of(run_keys[order], keys), 0.0)
    return found


def meta_of(ep: IntArray, docs: Docs) -> Meta:
    keys = ep[docs.ids]
    order = np.argsort(keys)
    return Meta(keys[order], docs.scores[order], docs.ids[order])


def in_episodes(ep: IntArray, docs: Docs, keys: IntArray) -> Docs:
    keep = member(np.sort(keys), ep[docs.ids])
    return Docs(docs.ids[keep], docs.scores[keep])


def rank_episodes(grouped: Grouped, keys: IntArray, tier: Tier, meta: Meta, start: int,
            stop: int, *, base: FloatArray | None = None) -> list[EpisodeMatch]:
    """The episodes ``keys`` of one tier at ranks ``start``..``stop``, best first.

    An episode scores by its grouped passages (or by ``base`` when given), plus a share of its
    metadata score; in the metadata tier by its metadata score.
    """
    if not len(keys):
        return []
    rows = rows_of(grouped.keys, keys)
    spoken = take(grouped.totals, rows, 0.0)
    meta_rows = rows_of(meta.keys, keys)
    meta_score = take(meta.scores, meta_rows, 0.0)
    meta_doc = take(meta.docs, meta_rows, -1)
    if base is not None:
        spoken = base
    scores = meta_score if tier == "metadata" else spoken + META_SHARE * meta_score
    out = []
    for i in np.argsort(-scores, kind="stable")[start:stop].tolist():
        row, m_doc = int(rows[i]), int(meta_doc[i])
        found = (float(meta_score[i]), m_doc) if m_doc >= 0 else None
        out.append(EpisodeMatch(int(keys[i]), tier, float(scores[i]), found is not None,
                                grouped if row >= 0 else None, row, found))
    return out


def take(values: Any, rows: IntArray, missing: float) -> Any:
    """``values[rows]``, with ``missing`` where a row is -1."""
    if not len(values):
        return np.full(len(rows), missing)
    return np.where(rows >= 0, values[np.maximum(rows, 0)], missing)


def rows_of(sorted_keys: IntArray, keys: IntArray) -> IntArray:
    """Each key's position in ``sorted_keys``, or -1 where it is missing."""
    if not len(sorted_keys):
        return np.full(len(keys), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    found: IntArray = np.where(sorted_keys[pos] == keys, pos, -1)
    return found


def episodes_of(ep: IntArray, ids: IntArray) -> IntArray:
    """The sorted keys of the episodes that the sorted documents ``ids`` belong to.

    An episode's documents are consecutive, so its key appears as one run: only the runs'
    first keys are sorted (at most one per episode), not one key per document.
    """
    keys = ep[ids]
    if not len(keys):
        return keys
    runs = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    found: IntArray = np.unique(runs)
    return found
