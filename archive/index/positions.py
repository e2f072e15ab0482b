"""Whoosh's stored positions read as arrays: each posting's count and position deltas.

Whoosh 2.7.4 stores a posting's positions as a 4-byte count and the pickled list of deltas
(``whoosh.formats.Positions``). A phrase's first search waits for a term's positions to be
decoded (:meth:`~poddarkiv.archive.index.postings.LeafData.positions`), so they are read in
bulk: as arrays where every value has the usual small shape, else unpickled a block at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from pickle import loads

import numpy as np

from poddarkiv.archive.index.arrays import IntArray

__all__ = ["position_deltas"]



def _decode_positions(values: Sequence[bytes]) -> list[list[int]]:
    """Each posting's position deltas, from its ``whoosh.formats.Positions`` value: a 4-byte
    count, then the pickled list (protocol 2, ending in STOP).

    The pickles, their STOPs cut, are joined into one that builds a list of them (MARK, the
    bodies, LIST, STOP) and read by one ``loads``: one C call a block instead of a Python call
    a posting, 1.4-1.8 times faster to decode a term's positions (8 terms of 3,000-19,000
    documents, identical arrays), which the first phrase search of a word waits for.
    """
    if all(v.endswith(b".") for v in values):
        found = loads(b"(" + b"".join(v[4:-1] for v in values) + b"l.")
        if isinstance(found, list) and len(found) == len(values):
            return found
    # Not the expected shape: one at a time (a STOP added in case it lacks one; an extra one
    # after the first is never read).
    return [loads(v[4:] + b".") for v in values]


#: ``pickle.dumps(deltas, 2)`` of a list of small integers, after the 4-byte count: PROTO 2,
#: EMPTY_LIST, BINPUT 0; then MARK, ``K`` and a byte per item, APPENDS, STOP (two or more items)
#: or ``K``, the byte, APPEND, STOP (one item).
_PICKLE_HEAD = np.frombuffer(b"\x80\x02]q\x00", dtype=np.uint8)
_K, _MARK, _APPEND, _APPENDS, _STOP = (ord(c) for c in "K(ae.")


def position_deltas(values: Sequence[bytes]) -> tuple[IntArray, IntArray]:
    """Each posting's count of positions and all their deltas, from the postings' values.

    Positions in a segment are small, so nearly every value is a pickled list of one-byte
    integers, whose layout is fixed by its count: those are read as arrays, with every opcode
    checked, without unpickling. For a term in 64,000 segments this step took 6 ms where
    joining and unpickling took about 35 (both under a profiler); the whole decoding is 1.2-1.3
    times faster (reading Whoosh's blocks is the rest), identical on 217 terms of every field.
    Anything else (a delta of 256 or more, a long list) is unpickled.
    """
    lens = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    if not len(values) or lens.min() < 13:
        return _unpickled_deltas(values)
    buf = np.frombuffer(b"".join(values), dtype=np.uint8)
    starts = np.zeros(len(values), dtype=np.int64)
    np.cumsum(lens[:-1], out=starts[1:])
    b = [buf[starts + i].astype(np.int64) for i in range(4)]
    counts = (b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]
    one = counts == 1
    if not (np.array_equal(lens, np.where(one, 13, 12 + 2 * counts))
            and all((buf[starts + 4 + i] == c).all() for i, c in enumerate(_PICKLE_HEAD))
            and (buf[starts + lens - 1] == _STOP).all()
            and (buf[starts + np.where(one, 11, lens - 2)] == np.where(one, _APPEND,
                                                                    _APPENDS)).all()
            and (buf[starts[~one] + 9] == _MARK).all()):
        return _unpickled_deltas(values)
    # Item k of value j: its byte at starts[j] + (10 if one item else 11) + 2k, after a K.
    first = np.repeat(starts + np.where(one, 10, 11), counts)
    within = np.arange(len(first)) - np.repeat(np.cumsum(counts) - counts, counts)
    at = first + 2 * within
    if not (buf[at - 1] == _K).all():
        return _unpickled_deltas(values)
    return counts, buf[at].astype(np.int64)


def _unpickled_deltas(values: Sequence[bytes]) -> tuple[IntArray, IntArray]:
    lists = _decode_positions(values)
    counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    return counts, np.fromiter(chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum()))
