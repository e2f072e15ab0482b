"""The index as one searcher sees it, decoded: global document numbers, deletions masked.

A :class:`SearchView` is built once per Whoosh searcher (that is, once per commit) from the
per-segment :class:`~poddarkiv.archive.index.postings.LeafData`, which outlive it. It answers the
questions the matcher asks (a term's postings, positions, field lengths and statistics, which
episode a document belongs to) and the ones the query compiler asks through
:class:`~poddarkiv.archive.query.nodes.Lexicon` (is a stem indexed, prefix expansion, the
spelling vocabulary).
"""

from __future__ import annotations

import functools
import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Sequence
from typing import Any, TypeVar

import numpy as np
from whoosh.searching import Searcher

from poddarkiv.archive.index.arrays import FloatArray, IntArray, member
from poddarkiv.archive.index.packed import pack_terms
from poddarkiv.archive.index.postings import LeafData, Positions, TermPostings, packed_bytes
from poddarkiv.archive.index.schema import SPELL_FIELD
from poddarkiv.archive.index.stored import stored_reader

__all__ = ["META_FIELDS", "TEXT_FIELD", "SearchView"]

TEXT_FIELD = "text"
#: The episode document's searchable fields.
META_FIELDS = ("title", "description", "podcast")
#: Global postings kept per view (the per-segment cache holds the rest).
_VIEW_TERMS = 256
#: Other per-term results kept per view (:meth:`SearchView.memo`); most are a few arrays of a
#: rare term's documents.
_VIEW_MEMO = 4_096
#: Answers to "is this stem indexed?" kept per view.
_VIEW_INDEXED = 65_536
T = TypeVar("T")
_LAST_CHAR = chr(0x10FFFF)


class SearchView:
    """Decoded arrays over every live document of one searcher; thread-safe."""

    def __init__(self, searcher: Searcher, leaf_data: Callable[[Any], LeafData]) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        parts = []
        for leaf, offset in self.reader.leaf_readers():
            if not leaf.doc_count_all():
                continue
            data = leaf_data(leaf)
            alive = np.ones(data.doc_count, dtype=bool)
            if leaf.has_deletions():
                alive[np.fromiter(leaf._perdoc.deleted_docs(), dtype=np.int64)] = False
            parts.append((data, int(offset), alive))
        self._parts = parts
        #: Per segment: no document of it is deleted.
        self._whole = [bool(alive.all()) for _, _, alive in parts]
        leaves = self.reader.leaf_readers()
        self._stored_readers = [stored_reader(leaf) for leaf, _ in leaves]
        self._leaf_starts = [int(offset) for _, offset in leaves]
        self.doc_count = sum(d.doc_count for d, _, _ in parts) if parts else 0
        self.ep_key = _concat([d.ep_key for d, _, _ in parts], np.int64)
        self.is_ep = _concat([d.is_ep for d, _, _ in parts], np.bool_)
        self.alive = _concat([a for _, _, a in parts], np.bool_)
        #: What each document's search score is multiplied by (its transcript confidence).
        self.weight: FloatArray = 1.0 - _concat([d.doubt for d, _, _ in parts],
                                               np.int64).astype(np.float32) / 100
        self._offsets = [o for _, o, _ in parts]
        self.ep_first, self.ep_last = _episode_bounds(self.ep_key)
        self._terms: dict[tuple[str, str], TermPostings] = {}
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._indexed: dict[str, bool] = {}
        self._lengths: dict[str, FloatArray] = {}
        self._stats: dict[str, tuple[int, float]] = {}
        self._vocabulary: list[str] | None = None
        self._lock = threading.Lock()

    # -- postings ------------------------------------------------------------------------

    def has(self, field: str, term: str) -> bool:
        """Whether any segment holds ``term`` in ``field`` (deleted documents included): most
        variants of a new query word are in no field but one, and answering that from the
        segments' term sets costs a tenth of looking the postings up (3.4 µs)."""
        return any(term in data.terms(field) for data, _, _ in self._parts)

    def postings(self, field: str, term: str) -> TermPostings:
        """The term's live postings with global document numbers."""
        key = (field, term)
        hit = self._terms.get(key)
        if hit is not None:
            return hit
        ids, tfs = [], []
        for (data, offset, alive), whole in zip(self._parts, self._whole, strict=True):
            p = data.postings(field, term)
            if not len(p.ids):
                continue
            if whole:  # nothing deleted: the segment's arrays as they are
                ids.append(p.ids + offset if offset else p.ids)
                tfs.append(p.tf)
            else:
                keep = alive[p.ids]
                ids.append(p.ids[keep] + offset)
                tfs.append(p.tf[keep])
        found = TermPostings(_concat(ids, np.int64), _concat(tfs, np.float32))
        with self._lock:
            if len(self._terms) >= _VIEW_TERMS:
                self._terms.clear()
            self._terms[key] = found
        return found

    def warm_lexicon(self) -> None:
        """Read every segment's term lists now, in order and spelt backwards (prefix and
        suffix look-ups; 30,000 terms take about 0.1 s), and its documents' lengths of each
        field with their statistics (2 ms a field at 1,000 hours, which the first search to
        score a word in a title or description would pay)."""
        for data, _, _ in self._parts:
            for field in (TEXT_FIELD, *META_FIELDS):
                data.reversed_terms(field)
                data.length_stats(field, episodes=field in META_FIELDS)

    def segment_ids(self) -> frozenset[str]:
        """The ids of the segments this view reads (those with documents)."""
        return frozenset(data.segment_id for data, _, _ in self._parts)

    def pack_terms(self, skip: Collection[str], max_bytes: int) -> int:
        """Pack the postings of every term of every searchable field in each segment, but the
        spoken terms ``skip`` (cached one by one), while what is packed takes less than
        ``max_bytes`` (:mod:`~poddarkiv.archive.index.packed`); returns how many were packed."""
        count = 0
        for data, _, _ in self._parts:
            for field in (TEXT_FIELD, *META_FIELDS):
                if field in data.packed_fields():
                    continue
                left = data.sorted_terms(field) if field != TEXT_FIELD else \
                    [t for t in data.sorted_terms(field) if t not in skip]
                packed = pack_terms(left, functools.partial(data.decode, field),
                                    max_bytes=max(0, max_bytes - packed_bytes()))
                data.use_packed(field, packed)
                count += len(packed.terms)
        return count

    def warm_positions(self, field: str, term: str) -> None:
        """Decode the term's positions in every segment now (see
        :meth:`~poddarkiv.archive.index.decoded.DecodedIndex.warm`)."""
        for data, _, _ in self._parts:
            data.positions(field, term)

    def positions(self, field: str, term: str, among: IntArray) -> tuple[IntArray, IntArray]:
        """``(doc, position)`` pairs of the term in the documents ``among`` (sorted, global)."""
        docs, poss = [], []
        for (data, offset, _) in self._parts:
            lo, hi = np.searchsorted(among, [offset, offset + data.doc_count])
            if lo == hi:
                continue
            d, p = _gather(data.positions(field, term), among[lo:hi] - offset)
            docs.append(d + offset)
            poss.append(p)
        return _concat(docs, np.int64), _concat(poss, np.int64)

    def stored(self, doc: int) -> dict[str, Any]:
        """The stored fields of the global document ``doc``.

        Read from the segment directly (:func:`~poddarkiv.archive.index.stored.stored_reader`):
        Whoosh's ``stored_fields`` also checks every field against the schema, a fifth of the
        time of a page of ten episodes, and this index's stored fields are the schema's (a
        schema change rebuilds the index).
        """
        i = bisect_right(self._leaf_starts, doc) - 1
        return self._stored_readers[i](doc - self._leaf_starts[i])

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, remembered for this view: per-term work that every query using the term
        would otherwise repeat, such as its BM25 scores or its compiled variants. The least
        recently used go first once :data:`_VIEW_MEMO` are held (forgetting all at once, as
        before, made every search after the bound a first search: a one-word search holds
        about a dozen entries, and the benchmark's 200 queries overflowed 1,024)."""
        with self._lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                found: T = self._memo[key]
                return found
        value = make()
        with self._lock:
            self._memo[key] = value
            while len(self._memo) > _VIEW_MEMO:
                self._memo.popitem(last=False)
        return value

    def recall(self, key: Hashable) -> Any:
        """What :meth:`memo` remembers under ``key``, or ``None`` (computing nothing)."""
        with self._lock:
            found = self._memo.get(key)
            if found is not None:
                self._memo.move_to_end(key)
            return found

    def forget_memo(self) -> None:
        """Forget what :meth:`memo` remembered (the decoded postings stay)."""
        with self._lock:
            self._memo.clear()

    # -- statistics ----------------------------------------------------------------------

    def lengths(self, field: str) -> FloatArray:
        """Every document's length of ``field`` (tokens)."""
        hit = self._lengths.get(field)
        if hit is None:
            hit = _concat([d.lengths(field) for d, _, _ in self._parts], np.float32)
            self._lengths[field] = hit
        return hit

    def stats(self, field: str) -> tuple[int, float]:
        """``(documents that can hold the field, their average length)``, live ones only."""
        hit = self._stats.get(field)
        if hit is None:
            episodes = field in META_FIELDS
            count, total = 0, 0.0
            for (data, _, alive), whole in zip(self._parts, self._whole, strict=True):
                # A segment without deletions answers from what it worked out once: a new view
                # (every commit) then costs a sum over segments, not a pass over every document
                # for each field (2 ms each at 1,000 hours, paid by a search).
                n, mean = data.length_stats(field, episodes=episodes,
                                            alive=None if whole else alive)
                count += n
                total += n * mean
            hit = self._stats[field] = (count, max(total / count if count else 1.0, 1.0))
        return hit

    def episode_docs(self) -> IntArray:
        """Document numbers of the live episode documents."""
        found: IntArray = np.flatnonzero(self.alive & self.is_ep)
        return found

    # -- the query compiler's lexicon ------------------------------------------------------

    def indexed(self, stem: str) -> bool:
        """Whether ``stem`` occurs in any searchable field of any live segment (remembered for
        this view: compiling one query word asks it a dozen times, for each variant)."""
        found = self._indexed.get(stem)
        if found is None:
            found = any(stem in data.terms(f) for data, _, _ in self._parts
                        for f in (TEXT_FIELD, *META_FIELDS))
            with self._lock:
                if len(self._indexed) >= _VIEW_INDEXED:
                    self._indexed.clear()
                self._indexed[stem] = found
        return found

    def doc_frequency(self, stem: str) -> int:
        """In how many documents (any searchable field) ``stem`` occurs, deleted ones counted."""
        return sum(int(self.reader.doc_frequency(f, stem)) for f in (TEXT_FIELD, *META_FIELDS))

    def expand_prefix(self, prefix: str, limit: int) -> list[str]:
        """Indexed stems starting with ``prefix``, at most ``limit`` per field."""
        return self.memo(("prefix", prefix, limit), lambda: self._expand(prefix, limit))

    def expand_suffix(self, suffix: str, limit: int) -> list[str]:
        """Indexed stems ending with ``suffix``, at most ``limit`` per field."""
        return self.memo(("suffix", suffix, limit),
                         lambda: [t[::-1] for t in self._expand(suffix[::-1], limit,
                                                               reverse=True)])

    def _expand(self, prefix: str, limit: int, *, reverse: bool = False) -> list[str]:
        """Terms starting with ``prefix``; with ``reverse``, reversed terms (so the terms
        ending with the reversed ``prefix``)."""
        found: set[str] = set()
        for field in (TEXT_FIELD, *META_FIELDS):
            in_field: set[str] = set()
            for data, _, _ in self._parts:
                terms = data.reversed_terms(field) if reverse else data.sorted_terms(field)
                start = bisect_left(terms, prefix)
                # Every term that starts with the prefix sorts before the prefix followed by
                # the last code point: one more bisection, and the run is a slice.
                stop = bisect_left(terms, prefix + _LAST_CHAR, start,
                                   min(start + limit, len(terms)))
                in_field.update(terms[start:stop])
            found |= set(sorted(in_field)[:limit])
        return sorted(found)

    def vocabulary(self) -> Sequence[str]:
        """The transcripts' distinct unstemmed words (what "Menade du …?" may suggest)."""
        if self._vocabulary is None:
            words: list[str] = []
            if SPELL_FIELD in self.reader.schema:
                words = [b.decode("utf-8") for b in self.reader.lexicon(SPELL_FIELD)]
            self._vocabulary = words
        return self._vocabulary

    def spelling_frequency(self, word: str) -> int:
        """In how many episodes' transcripts ``word`` occurs."""
        if SPELL_FIELD not in self.reader.schema:
            return 0
        return int(self.reader.doc_frequency(SPELL_FIELD, word))


def _concat(arrays: list[Any], dtype: Any) -> Any:
    if not arrays:
        return np.zeros(0, dtype=dtype)
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _episode_bounds(ep_key: IntArray) -> tuple[IntArray, IntArray]:
    """For each document, the first and last document number of its run of ``ep_key``.

    An episode's documents are written together in one commit, in transcript order, and removed
    together, so within the index they form one run (segments never split it).
    """
    n = len(ep_key)
    if not n:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(ep_key[1:] != ep_key[:-1]) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change - 1, [n - 1]))
    lengths = ends - starts + 1
    return np.repeat(starts, lengths), np.repeat(ends, lengths)


def _gather(pos: Positions, local: IntArray) -> tuple[IntArray, IntArray]:
    """``(doc, position)`` pairs of ``pos`` for the local documents ``local``."""
    idx = np.searchsorted(pos.ids, local[member(pos.ids, local)])
    starts = pos.offsets[idx]
    counts = pos.offsets[idx + 1] - starts
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    run_starts = np.repeat(np.cumsum(counts) - counts, counts)
    flat_idx = np.repeat(starts, counts) + (np.arange(total) - run_starts)
    docs: IntArray = np.repeat(pos.ids[idx], counts).astype(np.int64)
    return docs, pos.flat[flat_idx].astype(np.int64)
