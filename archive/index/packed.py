"""Many terms' postings packed into three arrays, for the terms too rare to cache one by one.

Decoding a term from Whoosh costs 30-200 µs whatever its size (a look-up in its on-disk term
table, a matcher, a pickled and compressed block), and a word's first search decodes each of
its variants in four fields: most of the first search of a rare word at 1,000 hours. Decoded
once at warm-up into a :class:`PackedTerms` per segment and field, a rare term's postings are
two array slices away. Rare terms hold few postings: at 1,000 hours (bench/search.py's corpus)
the 29,761 spoken terms in fewer than 2,000 segments hold 475,000 postings, 5.7 MiB packed
(5.9 MiB with the title, description and podcast fields), where a cache entry per term would
cost as much again in per-array overhead.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from poddarkiv.archive.index.arrays import FloatArray, IntArray
from poddarkiv.archive.index.postings import TermPostings

__all__ = ["PackedTerms", "pack_terms"]


@dataclass(frozen=True, slots=True)
class PackedTerms:
    """Term ``terms[i]`` (sorted) has documents ``ids[offsets[i]:offsets[i + 1]]`` and the
    same slice of term frequencies ``tf``."""

    terms: list[str]
    offsets: list[int]
    ids: IntArray
    tf: FloatArray

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.tf.nbytes) + 8 * len(self.offsets)

    def get(self, term: str) -> TermPostings | None:
        """The term's postings, or ``None`` when it is not packed here."""
        i = bisect_left(self.terms, term)
        if i == len(self.terms) or self.terms[i] != term:
            return None
        lo, hi = self.offsets[i], self.offsets[i + 1]
        return TermPostings(self.ids[lo:hi], self.tf[lo:hi])


def pack_terms(terms: Iterable[str], decode: Callable[[str], TermPostings], *,
               max_bytes: int) -> PackedTerms:
    """The postings of ``terms`` (sorted), decoded one by one, until they would take more than
    ``max_bytes``: the terms after that are left out (and decoded when searched for)."""
    kept: list[str] = []
    offsets = [0]
    ids: list[IntArray] = []
    tfs: list[FloatArray] = []
    used = 0
    for term in terms:
        found = decode(term)
        used += found.nbytes + 8
        if used > max_bytes:
            break
        kept.append(term)
        offsets.append(offsets[-1] + len(found.ids))
        ids.append(found.ids)
        tfs.append(found.tf)
    return PackedTerms(kept, offsets,
                       np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64),
                       np.concatenate(tfs) if tfs else np.zeros(0, dtype=np.float32))
