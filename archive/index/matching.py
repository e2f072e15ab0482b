"""Match a compiled query against the decoded index: documents, passages, tiers, episodes.

Everything here is array work over a :class:`~poddarkiv.archive.index.view.SearchView`; no
Whoosh matcher runs. A query is a list of groups that must all match. Each group is matched in
the segment text and in the episode document's fields, and the answers are combined in tiers,
best first:

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
beat one), plus a share of its metadata score. Scores are BM25 (k1 1.2, b 0.75) per field, with
field boosts from the schema.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from poddarkiv.archive.index.postings import FloatArray, IntArray
from poddarkiv.archive.index.schema import DESCRIPTION_BOOST, PODCAST_BOOST, TITLE_BOOST
from poddarkiv.archive.index.view import META_FIELDS, TEXT_FIELD, SearchView
from poddarkiv.archive.query.compile import AllOf, Node, Phrase, Term

__all__ = [
    "MAX_PASSAGES",
    "NEAR_CUES",
    "TIERS",
    "EpisodeMatch",
    "Passage",
    "Tier",
    "match",
]

Tier = Literal["passage", "near", "metadata", "episode"]
TIERS: tuple[Tier, ...] = ("passage", "near", "metadata", "episode")

#: Words within this many segments of each other match as one passage. Cues of publisher
#: transcripts and Whisper segments last 3-7 s, so 6 cues either way is about half a minute
#: to a minute of speech: neighbouring sentences, not the episode's next topic.
NEAR_CUES = 6
#: Passages shown per episode.
MAX_PASSAGES = 3
#: The n-th best passage of an episode adds ``PASSAGE_DECAY ** n`` of its score.
PASSAGE_DECAY = 0.5
#: Passages summed into an episode's score.
SCORED_PASSAGES = 8
#: An episode's title/description match adds this share of its score to a spoken match.
META_SHARE = 0.5
BM25_K1 = 1.2
BM25_B = 0.75
FIELD_BOOSTS = {"title": TITLE_BOOST, "description": DESCRIPTION_BOOST, "podcast": PODCAST_BOOST}
#: Matching stops adding work after this long (a query of many prefixes on a huge archive).
TIME_LIMIT_S = 2.0
#: ``(document, position)`` pairs are packed into one integer: positions below 2**20.
_POS_BITS = 20


class TimeUp(Exception):
    """Matching ran past :data:`TIME_LIMIT_S`."""


@dataclass(frozen=True, slots=True)
class Passage:
    """Documents ``first``..``last`` (one segment, or a stretch for ``near``) and its score."""

    first: int
    last: int
    score: float
    #: The episode document: the match is in the title, description or podcast title.
    metadata: bool = False


@dataclass(frozen=True, slots=True)
class EpisodeMatch:
    """One episode that matched: its key, tier, score and best passages."""

    ep_key: int
    tier: Tier
    score: float
    passages: tuple[Passage, ...]
    metadata: bool


@dataclass(frozen=True, slots=True)
class _Docs:
    """Sorted unique document numbers and a score for each."""

    ids: IntArray
    scores: FloatArray


#: Per episode key: its best passages and its summed score.
Collapsed = dict[int, tuple[list[Passage], float]]

_NONE = _Docs(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


class _Matcher:
    def __init__(self, view: SearchView, deadline: float,
                 clock: Callable[[], float]) -> None:
        self.view = view
        self.deadline = deadline
        self.clock = clock

    def check_time(self) -> None:
        if self.clock() > self.deadline:
            raise TimeUp

    def node(self, node: Node, field: str) -> _Docs:
        self.check_time()
        if isinstance(node, Term):
            found = self.term(node.stem, field)
            if node.weight == 1.0:
                return found
            return _Docs(found.ids, (found.scores * node.weight).astype(np.float32))
        if isinstance(node, Phrase):
            return self.phrase(node.stems, field)
        if isinstance(node, AllOf):
            return _intersect([self.node(n, field) for n in node.items])
        return _union([self.node(n, field) for n in node.items], np.maximum)

    def term(self, stem: str, field: str) -> _Docs:
        p = self.view.postings(field, stem)
        if not len(p.ids):
            return _NONE
        n, avg = self.view.stats(field)
        df = len(p.ids)
        idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        lengths = self.view.lengths(field)[p.ids]
        norm = p.tf * (BM25_K1 + 1) / (p.tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg))
        boost = FIELD_BOOSTS.get(field, 1.0)
        return _Docs(p.ids, (norm * (idf * boost)).astype(np.float32))

    def phrase(self, stems: Sequence[str], field: str) -> _Docs:
        parts = [self.term(s, field) for s in stems]
        both = _intersect(parts)
        if not len(both.ids):
            return _NONE
        keys = None
        for i, s in enumerate(stems):
            docs, poss = self.view.positions(field, s, both.ids)
            packed = (docs << _POS_BITS) | (poss - i)
            keys = packed if keys is None else keys[np.isin(keys, packed)]
            self.check_time()
        assert keys is not None
        found = np.unique(keys >> _POS_BITS)
        keep = np.isin(both.ids, found, assume_unique=True)
        return _Docs(both.ids[keep], both.scores[keep])

    def group(self, node: Node) -> tuple[_Docs, _Docs]:
        """The group's matches in segments and in episode documents."""
        spoken = self.node(node, TEXT_FIELD)
        meta = _union([self.node(node, f) for f in META_FIELDS], np.add)
        return spoken, meta


def _union(sets: list[_Docs], combine: np.ufunc) -> _Docs:
    sets = [s for s in sets if len(s.ids)]
    if not sets:
        return _NONE
    if len(sets) == 1:
        return sets[0]
    ids = np.concatenate([s.ids for s in sets])
    scores = np.concatenate([s.scores for s in sets])
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return _Docs(ids[starts], combine.reduceat(scores, starts).astype(np.float32))


def _intersect(sets: list[_Docs]) -> _Docs:
    if not sets:
        return _NONE
    sets = sorted(sets, key=lambda s: len(s.ids))
    out = sets[0]
    for s in sets[1:]:
        if not len(out.ids):
            return _NONE
        ids, ia, ib = np.intersect1d(out.ids, s.ids, assume_unique=True, return_indices=True)
        out = _Docs(ids, out.scores[ia] + s.scores[ib])
    return out


def _without(docs: _Docs, excluded: IntArray) -> _Docs:
    if not len(excluded) or not len(docs.ids):
        return docs
    keep = ~np.isin(docs.ids, excluded, assume_unique=True)
    return _Docs(docs.ids[keep], docs.scores[keep])


def match(view: SearchView, groups: Sequence[Node], excluded: Node | None, *,
          time_limit_s: float | None = None,
          clock: Callable[[], float] = time.perf_counter) -> tuple[list[EpisodeMatch], bool]:
    """Every episode that matches, best tier first and best first within a tier.

    Returns the matches and whether time ran out (after :data:`TIME_LIMIT_S` by default; then
    nothing is returned: partial results would be wrong in ways nobody could see).
    """
    limit = TIME_LIMIT_S if time_limit_s is None else time_limit_s
    matcher = _Matcher(view, clock() + limit, clock)
    try:
        return _tiers(matcher, groups, excluded), False
    except TimeUp:
        return [], True


def _tiers(m: _Matcher, groups: Sequence[Node], excluded: Node | None) -> list[EpisodeMatch]:
    per_group = [m.group(g) for g in groups]
    if excluded is not None:
        ex_spoken, ex_meta = m.group(excluded)
        per_group = [(_without(s, ex_spoken.ids), _without(x, ex_meta.ids))
                     for s, x in per_group]
    spoken = [s for s, _ in per_group]
    meta = _intersect([x for _, x in per_group])
    ep = m.view.ep_key
    meta_score = dict(zip(ep[meta.ids].tolist(), meta.scores.tolist(), strict=True))
    meta_doc = dict(zip(ep[meta.ids].tolist(), meta.ids.tolist(), strict=True))
    out: list[EpisodeMatch] = []
    seen: set[int] = set()
    passages = _intersect(spoken)
    out += _ranked(_collapse(ep, passages, single=True), "passage", meta_score, meta_doc, seen)
    m.check_time()
    if len(spoken) > 1:
        near = _near(m.view, spoken)
        out += _ranked(_collapse(ep, near), "near", meta_score, meta_doc, seen)
    partial = _union(spoken, np.maximum)
    found = _collapse(ep, partial)
    metadata_only: Collapsed = {k: found.get(k, ([], 0.0)) for k in meta_score if k not in seen}
    out += _ranked(metadata_only, "metadata", meta_score, meta_doc, seen, spoken_share=0.0)
    m.check_time()
    every = _episodes_with_all(ep, per_group)
    rest = {k: found.get(k, ([], 0.0)) for k in every if k not in seen}
    out += _ranked(rest, "episode", meta_score, meta_doc, seen)
    return out


def _collapse(ep: IntArray, docs: _Docs | tuple[_Docs, IntArray],
              single: bool = False) -> Collapsed:
    """Per episode: its best passages (at most :data:`MAX_PASSAGES`) and its summed score.

    ``docs`` is documents and scores, or for stretches also each stretch's last document.
    """
    d, lasts = (docs, docs.ids) if isinstance(docs, _Docs) else docs
    if not len(d.ids):
        return {}
    keys = ep[d.ids]
    order = np.lexsort((-d.scores, keys))
    keys, firsts, lasts, scores = keys[order], d.ids[order], lasts[order], d.scores[order]
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sizes = np.diff(np.append(starts, len(keys)))
    rank = np.arange(len(keys)) - np.repeat(starts, sizes)
    weight = np.where(rank < SCORED_PASSAGES, PASSAGE_DECAY ** np.minimum(rank, 30), 0.0)
    totals = np.add.reduceat(scores * weight, starts)
    out: Collapsed = {}
    for i, start in enumerate(starts.tolist()):
        end = start + min(int(sizes[i]), MAX_PASSAGES * (1 if single else 4))
        shown = _distinct([Passage(int(f), int(la), float(s)) for f, la, s in
                           zip(firsts[start:end], lasts[start:end], scores[start:end],
                               strict=True)])
        out[int(keys[start])] = (shown, float(totals[i]))
    return out


def _distinct(passages: list[Passage]) -> list[Passage]:
    """The best passages that do not overlap one another, at most :data:`MAX_PASSAGES`."""
    kept: list[Passage] = []
    for p in passages:
        if all(p.last < k.first or p.first > k.last for k in kept):
            kept.append(p)
            if len(kept) == MAX_PASSAGES:
                break
    return kept


def _near(view: SearchView, spoken: list[_Docs]) -> tuple[_Docs, IntArray]:
    """Stretches of up to :data:`NEAR_CUES` segments either way that hold every group.

    Each document of the rarest group anchors a stretch; every other group must have a document
    within the stretch, inside the same episode. Returns the stretches' first documents with
    their scores, and their last documents.
    """
    anchor = min(spoken, key=lambda s: len(s.ids))
    a = anchor.ids
    lo_bound = np.maximum(a - NEAR_CUES, view.ep_first[a])
    hi_bound = np.minimum(a + NEAR_CUES, view.ep_last[a])
    ok = np.ones(len(a), dtype=bool)
    first, last, score = a.copy(), a.copy(), anchor.scores.astype(np.float32)
    for g in spoken:
        if g is anchor:
            continue
        if not len(g.ids):
            return _NONE, np.zeros(0, dtype=np.int64)
        lo = np.searchsorted(g.ids, lo_bound, side="left")
        hi = np.searchsorted(g.ids, hi_bound, side="right")
        ok &= hi > lo
        nearest = np.minimum(lo, len(g.ids) - 1)
        farthest = np.maximum(hi - 1, 0)
        first = np.minimum(first, g.ids[nearest])
        last = np.maximum(last, g.ids[farthest])
        score = score + g.scores[nearest]
    order = np.argsort(first[ok], kind="stable")
    firsts, lasts, scores = first[ok][order], last[ok][order], score[ok][order]
    # One stretch per first document (several anchors can open the same one).
    keep = np.concatenate(([True], firsts[1:] != firsts[:-1])) if len(firsts) else ok[:0]
    return _Docs(firsts[keep], scores[keep]), lasts[keep]


def _episodes_with_all(ep: IntArray, per_group: list[tuple[_Docs, _Docs]]) -> list[int]:
    """Episodes in which every group matches somewhere (segments or metadata)."""
    common: IntArray | None = None
    for spoken, meta in per_group:
        keys = np.union1d(ep[spoken.ids], ep[meta.ids])
        common = keys if common is None else np.intersect1d(common, keys, assume_unique=True)
        if not len(common):
            return []
    return [] if common is None else common.tolist()


def _ranked(found: Collapsed, tier: Tier, meta_score: dict[int, float],
            meta_doc: dict[int, int], seen: set[int], *,
            spoken_share: float = 1.0) -> list[EpisodeMatch]:
    """Episodes not ranked in a better tier, best first; metadata adds to the spoken score."""
    out = []
    for key, (passages, score) in found.items():
        if key in seen:
            continue
        seen.add(key)
        meta = meta_score.get(key)
        total = spoken_share * score + (meta or 0.0) * (META_SHARE if spoken_share else 1.0)
        shown = tuple(passages)
        if meta is not None and len(shown) < MAX_PASSAGES:
            # The title/description excerpt leads when nothing spoken matched every word.
            excerpt = Passage(meta_doc[key], meta_doc[key], meta, metadata=True)
            shown = (excerpt, *shown) if tier == "metadata" else (*shown, excerpt)
        out.append(EpisodeMatch(key, tier, total, shown, meta is not None))
    out.sort(key=lambda e: -e.score)
    return out
