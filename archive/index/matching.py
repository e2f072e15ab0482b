"""Match a compiled query's nodes against the decoded index: documents and their scores.

Everything here is array work over a :class:`~poddarkiv.archive.index.view.SearchView`; no
Whoosh matcher runs. A node is matched in one field at a time and answers :class:`Docs`: sorted
document numbers with a BM25 score each (k1 1.2, b 0.75, field boosts from the schema). Terms
are looked up, alternatives united (best score), parts intersected (scores added), and phrases
checked position by position. :mod:`~poddarkiv.archive.index.tiers` combines the answers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from poddarkiv.archive.index.arrays import FloatArray, IntArray, member
from poddarkiv.archive.index.postings import TermPostings
from poddarkiv.archive.index.schema import DESCRIPTION_BOOST, PODCAST_BOOST, TITLE_BOOST
from poddarkiv.archive.index.view import META_FIELDS, TEXT_FIELD, SearchView
from poddarkiv.archive.query.nodes import AllOf, Node, Phrase, Term
from poddarkiv.archive.records import quick_init

__all__ = ["NONE", "TIME_LIMIT_S", "Docs", "Matcher", "TimeUp", "intersect", "narrowed", "union",
           "without"]

BM25_K1 = 1.2
BM25_B = 0.75
FIELD_BOOSTS = {"title": TITLE_BOOST, "description": DESCRIPTION_BOOST, "podcast": PODCAST_BOOST}
#: Matching stops adding work after this long (a query of many prefixes on a huge archive).
TIME_LIMIT_S = 2.0
#: ``(document, position)`` pairs are packed into one integer: positions below 2**20.
_POS_BITS = 20


class TimeUp(Exception):
    """Matching ran past :data:`TIME_LIMIT_S`."""


@quick_init
@dataclass(frozen=True, slots=True)
class Docs:
    """Sorted unique document numbers and a score for each."""

    ids: IntArray
    scores: FloatArray


NONE = Docs(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))


@dataclass(frozen=True, slots=True)
class _Unscored:
    """A term of an :class:`AllOf` whose scores are worked out only where they are needed."""

    term: Term
    postings: TermPostings

    @property
    def ids(self) -> IntArray:
        return self.postings.ids


class Matcher:
    def __init__(self, view: SearchView, deadline: float,
                 clock: Callable[[], float]) -> None:
        self.view = view
        self.deadline = deadline
        self.clock = clock

    def check_time(self) -> None:
        if self.clock() > self.deadline:
            raise TimeUp

    def node(self, node: Node, field: str) -> Docs:
        self.check_time()
        if isinstance(node, Term):
            found = self.term(node.stem, field)
            if node.weight == 1.0:
                return found
            return Docs(found.ids, (found.scores * node.weight).astype(np.float32))
        if isinstance(node, Phrase):
            return self.phrase(node.stems, field)
        if isinstance(node, AllOf):
            return self.all_of(node.items, field)
        return union([self.node(n, field) for n in node.items], np.maximum)

    def all_of(self, items: Sequence[Node], field: str) -> Docs:
        """Documents that hold every item, their scores added, as :func:`intersect` adds them.

        A term this view has not scored yet is scored only in the documents that the smaller
        items leave, not in all of its own: a compound's frequent part (``ström`` in
        ``strömbynäs``, 4,800 segments at 1,000 hours) cost its first search 0.16 ms, most of
        it reading each document's length and weight from arrays over every document.
        """
        parts: list[Docs | _Unscored] = []
        for n in items:
            if isinstance(n, Term) and self.view.has(field, n.stem) and \
                    self.view.recall(("bm25", field, n.stem)) is None:
                parts.append(_Unscored(n, self.view.postings(field, n.stem)))
            else:
                parts.append(self.node(n, field))
        parts.sort(key=lambda part: len(part.ids))
        first = parts[0]

        def scores_at(part: Docs | _Unscored, at: IntArray) -> FloatArray:
            if isinstance(part, Docs):
                return part.scores[at]
            p, weight = part.postings, part.term.weight
            found = self._scores(p.ids[at], p.tf[at], len(p.ids), field)
            return found if weight == 1.0 else (found * weight).astype(np.float32)

        return narrowed(self.node(first.term, field) if isinstance(first, _Unscored) else first,
                        parts[1:], scores_at)

    def term(self, stem: str, field: str) -> Docs:
        """The term's documents with their BM25 scores (computed once per view)."""
        if not self.view.has(field, stem):
            return NONE
        found: Docs = self.view.memo(("bm25", field, stem), lambda: self._bm25(stem, field))
        return found

    def _bm25(self, stem: str, field: str) -> Docs:
        p = self.view.postings(field, stem)
        if not len(p.ids):
            return NONE
        return Docs(p.ids, self._scores(p.ids, p.tf, len(p.ids), field))

    def _scores(self, ids: IntArray, tf: FloatArray, df: int, field: str) -> FloatArray:
        """BM25 of a term in ``df`` documents, in the documents ``ids`` (with ``tf``)."""
        n, avg = self.view.stats(field)
        idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        lengths = self.view.lengths(field)[ids]
        norm = tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg))
        boost = FIELD_BOOSTS.get(field, 1.0)
        if field == TEXT_FIELD:  # an uncertain passage ranks below a certain one
            norm = norm * self.view.weight[ids]
        found: FloatArray = (norm * (idf * boost)).astype(np.float32)
        return found

    def phrase(self, stems: Sequence[str], field: str) -> Docs:
        parts = [self.term(s, field) for s in stems]
        both = intersect(parts)
        if not len(both.ids):
            return NONE
        keys = None
        for i, s in enumerate(stems):
            docs, poss = self.view.positions(field, s, both.ids)
            packed = (docs << _POS_BITS) | (poss - i)
            # Both are sorted: documents ascending, positions ascending within a document.
            keys = packed if keys is None else keys[member(packed, keys)]
            self.check_time()
        assert keys is not None
        found = np.unique(keys >> _POS_BITS)
        keep = member(found, both.ids)
        return Docs(both.ids[keep], both.scores[keep])

    def group(self, node: Node) -> tuple[Docs, Docs]:
        """The group's matches in segments and in episode documents (once per view: a group
        is usually one word with its variants, and words recur across searches)."""
        self.check_time()
        found: tuple[Docs, Docs] = self.view.memo(("group", node), lambda: self._group(node))
        return found

    def _group(self, node: Node) -> tuple[Docs, Docs]:
        spoken = self.node(node, TEXT_FIELD)
        meta = union([self.node(node, f) for f in META_FIELDS], np.add)
        return spoken, meta


def union(sets: list[Docs], combine: np.ufunc) -> Docs:
    sets = [s for s in sets if len(s.ids)]
    if not sets:
        return NONE
    if len(sets) == 1:
        return sets[0]
    ids = np.concatenate([s.ids for s in sets])
    scores = np.concatenate([s.scores for s in sets])
    order = np.argsort(ids, kind="stable")
    ids, scores = ids[order], scores[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    return Docs(ids[starts], combine.reduceat(scores, starts).astype(np.float32))


def intersect(sets: list[Docs]) -> Docs:
    """Documents in every set, their scores added; the smallest set is walked first."""
    if not sets:
        return NONE
    sets = sorted(sets, key=lambda s: len(s.ids))
    return narrowed(sets[0], sets[1:], lambda s, at: s.scores[at])


class _Sorted(Protocol):
    """Anything with sorted document numbers."""

    @property
    def ids(self) -> IntArray: ...


S = TypeVar("S", bound=_Sorted)


def narrowed(out: Docs, parts: Sequence[S],
             scores_at: Callable[[S, IntArray], FloatArray]) -> Docs:
    """``out`` kept to the documents that every part holds, each part's scores there
    (``scores_at``, given the positions in the part) added, part by part."""
    for part in parts:
        if not len(out.ids):
            return NONE
        # Both are sorted: look the smaller set up in the larger by bisection, O(m log n),
        # instead of np.intersect1d's sort of both, O((m + n) log(m + n)).
        pos = np.minimum(np.searchsorted(part.ids, out.ids), len(part.ids) - 1)
        hit = part.ids[pos] == out.ids
        out = Docs(out.ids[hit], out.scores[hit] + scores_at(part, pos[hit]))
    return out


def without(docs: Docs, excluded: IntArray) -> Docs:
    if not len(excluded) or not len(docs.ids):
        return docs
    keep = ~member(excluded, docs.ids)
    return Docs(docs.ids[keep], docs.scores[keep])

