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

from poddarkiv.archive.index.arrays import FloatArray, IntArray, member
from poddarkiv.archive.index.matching import Docs
from poddarkiv.archive.records import quick_init

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
#: A candidate passage: its first and last document and its score.
Candidate = tuple[int, int, float]


@quick_init
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

    def candidates(self, rows: IntArray) -> list[list[Candidate]]:
        """For each of ``rows`` (-1: none), its best :data:`_CANDIDATES` passages, best first,
        read in one go for a page of episodes (slicing and converting three arrays per episode
        was a tenth of a one-word search)."""
        if not len(self.keys):
            return [[] for _ in range(len(rows))]
        if len(self.firsts) == len(self.keys):  # one passage each (a rare word)
            row = np.maximum(rows, 0)
            return [[(f, la, s)] if r >= 0 else [] for f, la, s, r in zip(
                self.firsts[row].tolist(), self.lasts[row].tolist(), self.scores[row].tolist(),
                rows.tolist(), strict=True)]
        have = rows >= 0
        starts = self.starts[rows[have]].tolist()
        counts = np.minimum(self.sizes[rows[have]], _CANDIDATES).tolist()
        at = [i for start, n in zip(starts, counts, strict=True) for i in range(start, start + n)]
        triples = list(zip(self.firsts[at].tolist(), self.lasts[at].tolist(),
                           self.scores[at].tolist(), strict=True))
        out: list[list[Candidate]] = []
        taken = 0
        counted = iter(counts)
        for present in have.tolist():
            n = next(counted) if present else 0
            out.append(triples[taken:taken + n])
            taken += n
        return out


def _apart(candidates: tuple[Candidate, ...]) -> list[Passage]:
    """The best candidates that do not overlap, at most :data:`MAX_PASSAGES`."""
    if len(candidates) == 1:  # a rare word's usual case
        return [Passage(*candidates[0])]
    kept: list[Passage] = []
    for f, la, s in candidates:
        for k in kept:
            if la >= k.first and f <= k.last:
                break
        else:
            kept.append(Passage(f, la, s))
            if len(kept) == MAX_PASSAGES:
                break
    return kept


EMPTY = np.zeros(0, dtype=np.int64)


def group(ep: IntArray, firsts: IntArray, scores: FloatArray,
          lasts: IntArray | None = None) -> Grouped:
    """Group passages (first document, score, last document) per episode."""
    keys = ep[firsts]
    order = np.lexsort((-scores, keys))
    keys, firsts, scores = keys[order], firsts[order], scores[order]
    lasts = firsts if lasts is None else lasts[order]
    n = len(keys)
    if not n:
        return Grouped(keys, scores, EMPTY, EMPTY, firsts, lasts, scores)
    bounds = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1], [True])))
    starts, sizes = bounds[:-1], bounds[1:] - bounds[:-1]
    if len(starts) == n:  # one passage each (a rare word): each scores its own
        return Grouped(keys, scores.astype(np.float32), starts, sizes, firsts, lasts, scores)
    rank = np.arange(n) - np.repeat(starts, sizes)
    totals = np.add.reduceat(scores * _WEIGHTS[np.minimum(rank, SCORED_PASSAGES)], starts)
    return Grouped(keys[starts], totals.astype(np.float32), starts, sizes, firsts, lasts,
                   scores)


#: The n-th best passage's share of an episode's score, 0 from :data:`SCORED_PASSAGES` on.
_WEIGHTS = np.append(PASSAGE_DECAY ** np.arange(SCORED_PASSAGES), 0.0)


@dataclass(frozen=True, slots=True)
class Meta:
    """Episodes whose title, description or podcast title matched every group."""

    keys: IntArray  # sorted
    scores: FloatArray
    docs: IntArray


@quick_init
@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    """One episode that matched: its key, tier and score; its passages on demand."""

    ep_key: int
    tier: Tier
    score: float
    metadata: bool
    #: How many passages (segments, or stretches for ``near``) of the episode matched.
    passage_total: int = 0
    #: Its best passages, best first, overlapping ones included.
    _candidates: tuple[Candidate, ...] = ()
    _meta: tuple[float, int] | None = None

    @property
    def passages(self) -> tuple[Passage, ...]:
        """The best passages, and the title/description excerpt where it matched and there
        is room (first when nothing spoken matched every word)."""
        shown = _apart(self._candidates)
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
    # Without ``base`` the keys are sorted, and the grouped ones are among them: the same
    # length, the same keys (a tier ranked whole).
    whole = base is None and len(grouped.keys) == len(keys)
    rows = np.arange(len(keys)) if whole else rows_of(grouped.keys, keys)
    if base is not None:
        spoken = base
    else:
        spoken = grouped.totals if whole else take(grouped.totals, rows, 0.0)
    meta_rows = rows_of(meta.keys, keys)
    meta_score = take(meta.scores, meta_rows, 0.0)
    meta_doc = take(meta.docs, meta_rows, -1)
    scores = meta_score if tier == "metadata" else spoken + META_SHARE * meta_score
    chosen = np.argsort(-scores, kind="stable")[start:stop]
    rows_c = rows[chosen]
    found = grouped.candidates(rows_c)
    totals = (grouped.sizes[rows_c] if whole else take(grouped.sizes, rows_c, 0)).tolist()
    return [EpisodeMatch(key, tier, score, m_doc >= 0, total, tuple(cands),
                         (m_score, m_doc) if m_doc >= 0 else None)
            for key, score, m_score, m_doc, total, cands in zip(
                keys[chosen].tolist(), scores[chosen].tolist(), meta_score[chosen].tolist(),
                meta_doc[chosen].tolist(), totals, found, strict=True)]


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
