"""Whoosh's postings decoded into arrays, once per term and index segment.

Whoosh stays the index on disk and the source of truth; this module reads it in bulk. Searching
through Whoosh's matchers costs Python work per posting (``next``/``skip_to``, a BM25 call that
reads the document's field length, a sort key, block decoding): at 1,000 hours of speech a
two-word search took 130 ms at the median and a frequent word ran into the time limit. Here a
term's postings are decoded block by block into a NumPy array of document numbers and one of
term frequencies, and the per-document columns the search needs (episode key, kind, field
lengths) into arrays, so that intersecting, scoring and grouping are array operations
(:mod:`~poddarkiv.archive.index.matching`).

A Whoosh segment never changes once written (only its deletions do), so what is decoded is kept
per segment (:class:`LeafData`) and survives commits: after a new episode is indexed only the
new segment's terms are decoded. Decoded terms are held in a cache bounded by
:data:`CACHE_BYTES`; positions (for phrases) are decoded on demand and cached the same way.

The reading touches Whoosh 2.7.4's block format (``W3LeafMatcher``'s ``_data``), which is why
the package pins that version and :mod:`~poddarkiv.archive.index.patches` checks it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from whoosh.codec import whoosh3
from whoosh.matching import wrappers
from whoosh.util.numeric import byte_to_length

from poddarkiv.archive.index.arrays import BoolArray, FloatArray, IntArray
from poddarkiv.archive.index.positions import position_deltas

if TYPE_CHECKING:
    from poddarkiv.archive.index.packed import PackedTerms

__all__ = ["CACHE_BYTES", "LeafData", "Positions", "TermPostings", "cache_bytes", "packed_bytes"]

#: Decoded postings and positions kept per process (bytes), across all segments. At 1,000 hours
#: (650,000 segments) every term of a day's searching fits well within this.
CACHE_BYTES = 384 * 2**20

_EMPTY_I = np.zeros(0, dtype=np.int64)
_EMPTY_F = np.zeros(0, dtype=np.float32)
#: Whoosh stores a field length as one byte; this table turns the byte back into a length.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


@dataclass(frozen=True, slots=True)
class TermPostings:
    """One term's postings in one field: sorted document numbers and term frequencies."""

    ids: IntArray
    tf: FloatArray

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.tf.nbytes)


EMPTY_POSTINGS = TermPostings(_EMPTY_I, _EMPTY_F)


@dataclass(frozen=True, slots=True)
class Positions:
    """One term's positions: document ``ids[i]`` has ``flat[offsets[i]:offsets[i + 1]]``
    (32-bit integers where they fit)."""

    ids: npt.NDArray[np.signedinteger[Any]]
    offsets: npt.NDArray[np.signedinteger[Any]]
    flat: npt.NDArray[np.signedinteger[Any]]

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.offsets.nbytes + self.flat.nbytes)


EMPTY_POSITIONS = Positions(_EMPTY_I, np.zeros(1, dtype=np.int64), _EMPTY_I)


class _Cache:
    """A least-recently-used cache bounded by the bytes of what it holds; thread-safe."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self._items: OrderedDict[Any, TermPostings | Positions] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> TermPostings | Positions | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
            return hit

    def put(self, key: Any, value: TermPostings | Positions) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = value
            self.used += value.nbytes
            while self.used > self.limit and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.used -= old.nbytes

    def drop(self, keep: set[str]) -> None:
        """Forget every entry whose segment (the key's first item) is not in ``keep``."""
        with self._lock:
            for key in [k for k in self._items if k[0] not in keep]:
                self.used -= self._items.pop(key).nbytes


#: One cache for the process: segments are identified by their id, unique per index.
_CACHE = _Cache(CACHE_BYTES)


#: Bytes of each segment's packed terms (:meth:`LeafData.use_packed`), by segment id.
_PACKED_BYTES: dict[str, int] = {}


def cache_bytes() -> int:
    """Bytes of decoded postings and positions held now, packed terms included."""
    return _CACHE.used + packed_bytes()


def packed_bytes() -> int:
    """Bytes of packed terms held now (:meth:`LeafData.use_packed`)."""
    return sum(_PACKED_BYTES.values())


def forget_segments(keep: set[str]) -> None:
    """Drop what was decoded for segments other than ``keep`` (after a merge or a rebuild)."""
    _CACHE.drop(keep)
    for gone in [s for s in _PACKED_BYTES if s not in keep]:
        _PACKED_BYTES.pop(gone, None)


def _raw_matcher(leaf: Any, field: str, btext: bytes) -> Any:
    matcher = leaf.postings(field, btext)
    # Deleted documents are masked by the caller, per searcher; decode the raw postings.
    while isinstance(matcher, wrappers.FilterMatcher):
        matcher = matcher.child
    return matcher


def _blocks(matcher: Any) -> Any:
    """Each block's ``(ids, weights, values)`` as Whoosh stored it (ids delta-encoded)."""
    if not isinstance(matcher, whoosh3.W3LeafMatcher):
        # Inlined postings (a term in one document) come as a plain list matcher.
        ids, weights, values = [], [], []
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            values.append(matcher.value())
            matcher.next()
        yield np.diff(np.asarray(ids, dtype=np.int64), prepend=0), weights, values
        return
    while True:
        matcher._read_data()
        yield matcher._data
        if matcher._lastblock:
            return
        matcher._next_block()


def _weights(raw: Any, count: int) -> FloatArray:
    if raw is None:
        return np.ones(count, dtype=np.float32)
    if isinstance(raw, float | int):
        return np.full(count, raw, dtype=np.float32)
    return np.asarray(raw, dtype=np.float32)


class LeafData:
    """What is decoded of one Whoosh segment: per-document arrays, and terms on demand."""

    def __init__(self, leaf: Any, segment_id: str) -> None:
        self.segment_id = segment_id
        self.doc_count = int(leaf.doc_count_all())
        self._leaf = leaf
        self.ep_key = self._column(leaf, "ep_key", ">i8", np.int64)
        self.is_ep = self._column(leaf, "is_ep", ">u1", np.int64).astype(bool)
        self.doubt = self._column(leaf, "doubt", ">u1", np.int64)
        self._lengths: dict[str, FloatArray] = {}
        self._stats: dict[tuple[str, bool], tuple[int, float]] = {}
        self._terms: dict[str, frozenset[str]] = {}
        self._sorted: dict[str, list[str]] = {}
        self._reversed: dict[str, list[str]] = {}
        self._packed: dict[str, PackedTerms] = {}

    def rebind(self, leaf: Any) -> None:
        """Read later terms through ``leaf`` (the same segment, opened by a newer searcher)."""
        self._leaf = leaf

    def _column(self, leaf: Any, name: str, dtype: str, as_type: Any) -> IntArray:
        out = np.zeros(self.doc_count, dtype=as_type)
        if not leaf.has_column(name):
            return out
        reader = leaf.column_reader(name, translate=False)
        raw = reader._dbfile.get(reader._basepos, reader._count * reader._fixedlen)
        values = np.frombuffer(raw, dtype=dtype)
        out[:len(values)] = values
        return out

    def lengths(self, field: str) -> FloatArray:
        """Each document's length of ``field`` in tokens (as Whoosh rounds it into one byte)."""
        hit = self._lengths.get(field)
        if hit is None:
            perdoc = self._leaf._perdoc
            reader = perdoc._cached_reader(f"_{field}_len", whoosh3.LENGTHS_COLUMN)
            codes = np.zeros(self.doc_count, dtype=np.uint8)
            if reader is not None:
                raw = reader._dbfile.get(reader._basepos, reader._count)
                codes[:len(raw)] = np.frombuffer(raw, dtype=np.uint8)
            hit = self._lengths[field] = _LENGTHS[codes]
        return hit

    def length_stats(self, field: str, *, episodes: bool,
                     alive: BoolArray | None = None) -> tuple[int, float]:
        """How many episode documents (``episodes``) or segment documents of this segment
        there are, and their mean length of ``field``: of all of them (worked out once), or
        of those ``alive`` says are not deleted."""
        key = (field, episodes)
        hit = self._stats.get(key) if alive is None else None
        if hit is None:
            docs = self.is_ep if episodes else ~self.is_ep
            docs = docs if alive is None else docs & alive
            n = int(docs.sum())
            hit = (n, float(self.lengths(field)[docs].mean()) if n else 0.0)
            if alive is None:
                self._stats[key] = hit
        return hit

    def terms(self, field: str) -> frozenset[str]:
        """Every term of ``field`` in this segment (read once: a set answers "is it indexed?"
        far faster than Whoosh's on-disk hash table, which a query asks dozens of times)."""
        hit = self._terms.get(field)
        if hit is None:
            hit = self._terms[field] = frozenset(self.sorted_terms(field))
        return hit

    def sorted_terms(self, field: str) -> list[str]:
        """Every term of ``field`` in this segment, in order (for prefix look-ups by bisection)."""
        hit = self._sorted.get(field)
        if hit is None:
            words = (self._leaf.lexicon(field) if field in self._leaf.schema else ())
            hit = self._sorted[field] = [b.decode("utf-8") for b in words]
        return hit

    def reversed_terms(self, field: str) -> list[str]:
        """Every term of ``field`` in this segment spelt backwards, in order (for look-ups of
        the terms that end with a word)."""
        hit = self._reversed.get(field)
        if hit is None:
            hit = self._reversed[field] = sorted(t[::-1] for t in self.sorted_terms(field))
        return hit

    def postings(self, field: str, term: str) -> TermPostings:
        """The term's postings in this segment (deleted documents included)."""
        packed = self._packed.get(field)
        if packed is not None and (hit := packed.get(term)) is not None:
            return hit
        found = self._cached("p", field, term, self._decode, EMPTY_POSTINGS)
        assert isinstance(found, TermPostings)
        return found

    def decode(self, field: str, term: str) -> TermPostings:
        """The term's postings read from Whoosh now (not cached)."""
        return self._decode(self._blocks(field, term))

    def _blocks(self, field: str, term: str) -> Any:
        return _blocks(_raw_matcher(self._leaf, field, term.encode("utf-8")))

    def use_packed(self, field: str, packed: PackedTerms) -> None:
        """Answer :meth:`postings` for the terms of ``packed`` from it (see
        :mod:`~poddarkiv.archive.index.packed`)."""
        self._packed[field] = packed
        _PACKED_BYTES[self.segment_id] = sum(p.nbytes for p in self._packed.values())

    def packed_fields(self) -> frozenset[str]:
        """The fields whose rarer terms are packed."""
        return frozenset(self._packed)

    def positions(self, field: str, term: str) -> Positions:
        """The term's positions in each document of this segment that holds it."""
        found = self._cached("x", field, term, self._decode_all_positions, EMPTY_POSITIONS)
        assert isinstance(found, Positions)
        return found

    def _cached(self, kind: str, field: str, term: str, decode: Any,
                empty: TermPostings | Positions) -> TermPostings | Positions:
        """What ``decode(blocks)`` makes of the term's blocks, decoded once per process."""
        key = (self.segment_id, kind, field, term)
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        # The segment's term set, not Whoosh's on-disk table (5 µs a look-up): a new query word
        # looks up each of its variants in every field, and most are in none.
        found = decode(self._blocks(field, term)) if term in self.terms(field) else empty
        _CACHE.put(key, found)
        return found

    @staticmethod
    def _decode(blocks: Any) -> TermPostings:
        ids, tfs = [], []
        for deltas, weights, _ in blocks:
            block = np.cumsum(np.asarray(deltas, dtype=np.int64))
            ids.append(block)
            tfs.append(_weights(weights, len(block)))
        if not ids:
            return EMPTY_POSTINGS
        return TermPostings(np.concatenate(ids), np.concatenate(tfs))

    @staticmethod
    def _decode_all_positions(blocks: Any) -> Positions:
        ids: list[IntArray] = []
        values: list[bytes] = []
        for deltas, _, block_values in blocks:
            ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
            values.extend(block_values)
        if not ids:
            return EMPTY_POSITIONS
        counts, deltas_flat = position_deltas(values)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        # Positions are delta-encoded within each document: a cumulative sum that restarts.
        cum = np.cumsum(deltas_flat)
        starts = offsets[:-1]
        base = np.repeat(np.concatenate(([0], cum))[starts], np.diff(offsets))
        return Positions(_narrow(np.concatenate(ids)), _narrow(offsets), _narrow(cum - base))


def _narrow(values: IntArray) -> npt.NDArray[np.signedinteger[Any]]:
    """``values`` (sorted or small, never negative) in 32 bits where they fit: the positions
    of the frequent terms are kept from start-up (:meth:`SearchView.warm_positions`), and
    this halves them."""
    if len(values) and values.max() >= 2**31:
        return values
    return values.astype(np.int32)
