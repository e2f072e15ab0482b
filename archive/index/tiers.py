"""Combine a query's matches into episodes, in tiers, best first.

A query is a list of groups that must all match. Each group is matched in the segment text and
in the episode document's fields (:mod:`~poddarkiv.archive.index.matching`); the answers are
combined in tiers, best first:

``passage``
    every group in one segment (one cue, a few seconds of speech);
``near``
    every group within :data:`NEAR_CUES` segments of one another in one episode, so words said
    in neighbouring sentences still make a passage (``stöd`` in one cue, ``föreningar`` in the
    next);
``metadata``
    every group in the episode's title, description or podcast title;
``episode``
    every group somewhere in the episode (its segments and metadata), however far apart.

An episode is found in the best tier it reaches; within a tier it scores by its passages
together (the best, plus half the second, a quarter of the third, …: several matching passages
beat one), plus a share of its metadata score. Grouping per episode is array work; only the
episodes on the page shown have their passages turned into objects (:meth:`EpisodeMatch.passages`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from poddarkiv.archive.index import matching
from poddarkiv.archive.index.arrays import FloatArray, IntArray, member
from poddarkiv.archive.index.episodes import (
    EMPTY,
    MAX_PASSAGES,
    EpisodeMatch,
    Meta,
    Passage,
    Tier,
    best_per_episode,
    episodes_of,
    group,
    in_episodes,
    meta_of,
    rank_episodes,
    rows_of,
    take,
)
from poddarkiv.archive.index.matching import (
    NONE,
    Docs,
    Matcher,
    TimeUp,
    intersect,
    union,
    without,
)
from poddarkiv.archive.index.view import SearchView
from poddarkiv.archive.query.nodes import Node

__all__ = [
    "MAX_PASSAGES",
    "NEAR_CUES",
    "TIERS",
    "EpisodeMatch",
    "Matches",
    "Passage",
    "Tier",
    "match",
]

TIERS: tuple[Tier, ...] = ("passage", "near", "metadata", "episode")

#: Words within this many segments of each other match as one passage. Cues of publisher
#: transcripts and Whisper segments last 3-7 s, so 6 cues either way is about half a minute
#: to a minute of speech: neighbouring sentences, not the episode's next topic.
NEAR_CUES = 6


Candidates = tuple[IntArray, FloatArray, IntArray]


@dataclass(frozen=True, slots=True)
class _Tier:
    """One tier's episodes (sorted keys) and where its passages come from."""

    tier: Tier
    keys: IntArray
    #: ``(first documents, scores, last documents)`` of candidate passages in the episodes
    #: given (sorted keys).
    passages: Callable[[IntArray], Candidates]
    #: Scores to order the episodes given by, when grouping every candidate would cost more
    #: than the page needs (``None``: order by the grouped passages).
    order: Callable[[IntArray], FloatArray] | None = None


class Matches:
    """Every episode a query matched, tier by tier; ranked only as far as a page needs.

    Which episodes matched is cheap to know (array set operations); ordering a tier's episodes
    by score and finding their best passages is not, so it is done only for the tiers the
    requested page reaches (:meth:`ranked`) or for the episodes shown (:meth:`of`). The
    episodes outside the passage tier (``rest``) are split into the near, metadata and episode
    tiers only when something asks for them: a first page that the passage tier fills never
    looks for words in neighbouring segments (at 1,000 hours that search was a quarter of a
    two-word query's time).
    """

    def __init__(self, tiers: list[_Tier], meta: Meta, ep: IntArray, rest: IntArray = EMPTY,
                 split: Callable[[IntArray], list[_Tier]] | None = None) -> None:
        self._tiers = [t for t in tiers if len(t.keys)]
        self._meta = meta
        self._ep = ep
        self._rest = rest if split is not None else EMPTY
        self._split = split

    def _all(self) -> list[_Tier]:
        """Every tier, the rest split (once)."""
        if self._split is not None:
            split, self._split = self._split, None
            self._tiers += [t for t in split(self._rest) if len(t.keys)]
            self._rest = EMPTY
        return self._tiers

    @property
    def total(self) -> int:
        return sum(len(t.keys) for t in self._tiers) + len(self._rest)

    def key_set(self) -> IntArray:
        """Every matched episode's key, in no particular order (for filters and counts)."""
        return np.concatenate([*(t.keys for t in self._tiers), self._rest])

    def keys(self) -> IntArray:
        """Every matched episode's key, best tier first (unordered within a tier)."""
        tiers = self._all()
        return np.concatenate([t.keys for t in tiers]) if tiers else EMPTY

    def restricted(self, keep: IntArray) -> Matches:
        """Only the episodes ``keep`` (sorted keys), as a filter leaves them."""
        tiers = [_Tier(t.tier, np.intersect1d(t.keys, keep, assume_unique=True), t.passages,
                       t.order) for t in self._tiers]
        rest = self._rest[member(keep, self._rest)]
        return Matches(tiers, self._meta, self._ep, rest, self._split)

    def ranked(self, start: int, stop: int) -> list[EpisodeMatch]:
        """The episodes at ranks ``start``..``stop`` (best tier first, best first within)."""
        out: list[EpisodeMatch] = []
        offset = 0
        tiers = self._tiers if sum(len(t.keys) for t in self._tiers) >= stop else self._all()
        for t in tiers:
            if offset >= stop:
                break
            if offset + len(t.keys) > start:
                out += self._rank(t, t.keys, max(start - offset, 0), stop - offset)
            offset += len(t.keys)
        return out

    def of(self, keys: Sequence[int]) -> list[EpisodeMatch]:
        """The matches of the episodes ``keys``, in that order (for pages sorted by date)."""
        wanted = np.asarray(sorted(keys), dtype=np.int64)
        found: dict[int, EpisodeMatch] = {}
        for t in self._all():
            mine = np.intersect1d(t.keys, wanted, assume_unique=True)
            if len(mine):
                found.update((m.ep_key, m) for m in self._rank(t, mine, 0, len(mine)))
        return [found[k] for k in keys if k in found]

    def _rank(self, t: _Tier, keys: IntArray, start: int, stop: int) -> list[EpisodeMatch]:
        """Ranks ``start``..``stop`` among the tier's episodes ``keys``."""
        if t.order is None:
            grouped = group(self._ep, *t.passages(keys))
            return rank_episodes(grouped, keys, t.tier, self._meta, start, stop)
        base = t.order(keys)
        chosen = np.argsort(-base, kind="stable")[start:stop]
        keys, base = keys[chosen], base[chosen]
        order = np.argsort(keys)
        grouped = group(self._ep, *t.passages(keys[order]))
        return rank_episodes(grouped, keys, t.tier, self._meta, 0, len(keys), base=base)


def match(view: SearchView, groups: Sequence[Node], excluded: Node | None, *,
          time_limit_s: float | None = None,
          clock: Callable[[], float] = time.perf_counter) -> tuple[Matches, bool]:
    """Every episode that matches, in tiers.

    Returns the matches and whether time ran out (after ``matching.TIME_LIMIT_S`` by default;
    then nothing is returned: partial results would be wrong in ways nobody could see).
    """
    limit = matching.TIME_LIMIT_S if time_limit_s is None else time_limit_s
    matcher = Matcher(view, clock() + limit, clock)
    try:
        return _tiers(matcher, groups, excluded), False
    except TimeUp:
        return Matches([], Meta(EMPTY, NONE.scores, EMPTY), view.ep_key), True


def _tiers(m: Matcher, groups: Sequence[Node], excluded: Node | None) -> Matches:
    per_group = [m.group(g) for g in groups]
    if excluded is not None:
        ex_spoken, ex_meta = m.group(excluded)
        per_group = [(without(s, ex_spoken.ids), without(x, ex_meta.ids)) for s, x in per_group]
    spoken = [s for s, _ in per_group]
    ep = m.view.ep_key
    meta = meta_of(ep, intersect([x for _, x in per_group]))
    one = intersect(spoken)
    seen = episodes_of(ep, one.ids)
    tiers = [_Tier("passage", seen, _within(ep, one.ids, one.scores, one.ids, seen))]
    m.check_time()
    every = _episodes_with_all(ep, per_group) if excluded is not None else \
        _common([_group_episodes(m, g) for g in groups])
    # Sorted key arrays: bisection (``member``) where np.isin/setdiff1d sort them again.
    rest = every[~member(seen, every)]
    m.check_time()

    def split(rest: IntArray) -> list[_Tier]:
        return _rest_tiers(m.view, per_group, meta, rest)

    return Matches(tiers, meta, ep, rest, split)


def _rest_tiers(view: SearchView, per_group: list[tuple[Docs, Docs]], meta: Meta,
                rest: IntArray) -> list[_Tier]:
    """The near, metadata and episode tiers of the episodes ``rest`` (sorted keys: they hold
    every group, but not in one segment)."""
    ep = view.ep_key
    spoken = [s for s, _ in per_group]
    tiers = []
    if len(spoken) > 1:
        firsts, scores, lasts = _near(view, spoken, rest)
        near_keys = episodes_of(ep, firsts)
        tiers.append(_Tier("near", near_keys, _within(ep, firsts, scores, lasts, near_keys)))
        rest = rest[~member(near_keys, rest)]
    in_meta = member(meta.keys, rest)

    def partial(keys: IntArray) -> Candidates:
        docs = union([in_episodes(ep, s, keys) for s in spoken], np.maximum)
        return docs.ids, docs.scores, docs.ids

    def by_meta(keys: IntArray) -> FloatArray:
        found: FloatArray = take(meta.scores, rows_of(meta.keys, keys), 0.0).astype(np.float32)
        return found

    def by_groups(keys: IntArray) -> FloatArray:
        # Each word's best passage (or metadata) in the episode, summed over the words.
        total = np.zeros(len(keys), dtype=np.float32)
        for s, x in per_group:
            total += np.maximum(best_per_episode(ep, s, keys), best_per_episode(ep, x, keys))
        return total

    return [*tiers, _Tier("metadata", rest[in_meta], partial, by_meta),
            _Tier("episode", rest[~in_meta], partial, by_groups)]


def _within(ep: IntArray, firsts: IntArray, scores: FloatArray, lasts: IntArray,
            every: IntArray) -> Callable[[IntArray], Candidates]:
    """Candidates restricted to the episodes asked for. Those are some of the tier's own
    keys ``every`` (sorted, unique), so as many are all of them: no filtering then, as
    :func:`~poddarkiv.archive.index.episodes.rank_episodes` tells a tier ranked whole."""

    def candidates(keys: IntArray) -> Candidates:
        if len(keys) == len(every):
            return firsts, scores, lasts
        keep = member(np.sort(keys), ep[firsts])
        return firsts[keep], scores[keep], lasts[keep]

    return candidates


def _near(view: SearchView, spoken: list[Docs],
          within: IntArray) -> tuple[IntArray, FloatArray, IntArray]:
    """Stretches of up to :data:`NEAR_CUES` segments either way that hold every group.

    Each document of the rarest group anchors a stretch if its episode is one of ``within``
    (sorted keys: episodes that hold every group and were not found in a better tier); every
    other group must have a document within the stretch, in the same episode. Returns each
    stretch's first document, score and last document.
    """
    anchor = min(spoken, key=lambda s: len(s.ids))
    keep = member(within, view.ep_key[anchor.ids])
    a, score = anchor.ids[keep], anchor.scores[keep].astype(np.float32)
    lo_bound = np.maximum(a - NEAR_CUES, view.ep_first[a])
    hi_bound = np.minimum(a + NEAR_CUES, view.ep_last[a])
    ok = np.ones(len(a), dtype=bool)
    first, last = a.copy(), a.copy()
    for g in spoken:
        if g is anchor:
            continue
        if not len(g.ids):
            return EMPTY, NONE.scores, EMPTY
        lo = np.searchsorted(g.ids, lo_bound, side="left")
        hi = np.searchsorted(g.ids, hi_bound, side="right")
        ok &= hi > lo
        nearest = np.minimum(lo, len(g.ids) - 1)
        first = np.minimum(first, g.ids[nearest])
        last = np.maximum(last, g.ids[np.maximum(hi - 1, 0)])
        score = score + g.scores[nearest]
    order = np.argsort(first[ok], kind="stable")
    firsts, lasts, scores = first[ok][order], last[ok][order], score[ok][order]
    # One stretch per first document (several anchors can open the same one).
    unique = np.concatenate(([True], firsts[1:] != firsts[:-1])) if len(firsts) else ok[:0]
    return firsts[unique], scores[unique], lasts[unique]


def _episodes_with_all(ep: IntArray, per_group: list[tuple[Docs, Docs]]) -> IntArray:
    """Episodes in which every group matches somewhere (segments or metadata)."""
    return _common([_episodes_of_group(ep, g) for g in per_group])


def _group_episodes(m: Matcher, node: Node) -> IntArray:
    """The episodes where the group ``node`` matches anywhere (once per view)."""
    found: IntArray = m.view.memo(("episodes", node),
                                  lambda: _episodes_of_group(m.view.ep_key, m.group(node)))
    return found


def _episodes_of_group(ep: IntArray, group: tuple[Docs, Docs]) -> IntArray:
    spoken, meta = group
    found: IntArray = np.union1d(episodes_of(ep, spoken.ids), episodes_of(ep, meta.ids))
    return found


def _common(key_sets: list[IntArray]) -> IntArray:
    """The keys in every one of the sorted sets."""
    common: IntArray | None = None
    for keys in sorted(key_sets, key=len):
        common = keys if common is None else np.intersect1d(common, keys, assume_unique=True)
        if not len(common):
            return EMPTY
    return EMPTY if common is None else common


