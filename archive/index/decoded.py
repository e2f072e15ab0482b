"""The decoded segments of one index, the view of its current searcher, and the warm-up.

A :class:`DecodedIndex` keeps what was decoded of each Whoosh segment
(:class:`~poddarkiv.archive.index.postings.LeafData`) for as long as the segment lives, builds
the :class:`~poddarkiv.archive.index.view.SearchView` of each new searcher from them, and warms
them (:meth:`DecodedIndex.warm`): the frequent terms' postings and positions decoded, every
rarer term packed, the term lists read, so that no search pays for them.
"""

from __future__ import annotations

import threading
from typing import Any

from whoosh.searching import Searcher

from poddarkiv.archive.index.postings import CACHE_BYTES, LeafData, cache_bytes, forget_segments
from poddarkiv.archive.index.view import TEXT_FIELD, SearchView

__all__ = ["WARM_MAX_TERMS", "WARM_MIN_DOCS", "DecodedIndex"]

#: :meth:`DecodedIndex.warm` decodes terms in at least this many segments, at most this many.
WARM_MIN_DOCS = 2_000
WARM_MAX_TERMS = 2_000
#: ... and the positions of terms in at least this many segments, most frequent first, while
#: the decoded cache holds less than :data:`WARM_POSITIONS_SHARE` of its bound: a phrase's
#: first search would otherwise decode them (15 ms for a term in 20,000 segments, 180 ms for one
#: in 300,000), and a rarer term's take a few milliseconds.
WARM_POSITIONS_MIN_DOCS = 10_000
WARM_POSITIONS_SHARE = 0.5
#: Every rarer term is packed (:meth:`SearchView.pack_terms`) while the packed terms take less
#: than this share of the decoded cache's bound (besides it): the first search of a rare word
#: then decodes nothing (6 MiB and about a second at 1,000 hours).
WARM_PACKED_SHARE = 0.25


class DecodedIndex:
    """The decoded segments of one index, and the view of its current searcher; thread-safe.

    Segments are known by generation and id, so what was decoded of a segment is reused by
    every later searcher until a merge or a rebuild retires the segment.
    """

    def __init__(self) -> None:
        self._leaves: dict[str, LeafData] = {}
        self._view: SearchView | None = None
        self._lock = threading.Lock()
        #: The segments a :meth:`warm` has seen.
        self._warmed: frozenset[str] = frozenset()

    def view_of(self, searcher: Searcher, generation: str) -> SearchView:
        """The decoded view of ``searcher`` (built once per searcher)."""
        view = self._view
        if view is not None and view.searcher is searcher:
            return view

        def leaf_data(leaf: Any) -> LeafData:
            segment_id = f"{generation}/{leaf.segment().segment_id()}"
            with self._lock:
                data = self._leaves.get(segment_id)
                if data is None:
                    data = self._leaves[segment_id] = LeafData(leaf, segment_id)
                else:
                    data.rebind(leaf)
                return data

        view = SearchView(searcher, leaf_data)
        live = {f"{generation}/{leaf.segment().segment_id()}"
                for leaf, _ in searcher.reader().leaf_readers() if leaf.doc_count_all()}
        with self._lock:
            self._view = view
            for gone in set(self._leaves) - live:
                del self._leaves[gone]
        forget_segments(live)
        return view

    def forget_memo(self) -> None:
        """Drop the current view's per-term results (for benchmarks of a first search)."""
        view = self._view
        if view is not None:
            view.forget_memo()

    def warm(self, searcher: Searcher, generation: str, *, min_docs: int = WARM_MIN_DOCS,
             limit: int = WARM_MAX_TERMS) -> int:
        """Decode the postings of the most frequent spoken terms now, pack every rarer term's,
        and decode the positions of the most frequent, so no search pays for them; returns
        how many terms' postings were decoded one by one.

        Only segments not warmed before are packed, and nothing is done when every segment
        was: call it again after a commit (the site does, in the background) and a merged or
        new segment is warmed like the first ones.
        """
        view = self.view_of(searcher, generation)
        reader = searcher.reader()
        live = view.segment_ids()
        if TEXT_FIELD not in reader.schema or live <= self._warmed:
            return 0
        terms = [(t.decode("utf-8"), reader.doc_frequency(TEXT_FIELD, t))
                 for t in reader.lexicon(TEXT_FIELD)]
        frequent = sorted((t for t in terms if t[1] >= min_docs), key=lambda t: -t[1])[:limit]
        for term, _ in frequent:
            view.postings(TEXT_FIELD, term)
        view.warm_lexicon()
        view.pack_terms({t for t, _ in frequent}, int(CACHE_BYTES * WARM_PACKED_SHARE))
        budget = CACHE_BYTES * WARM_POSITIONS_SHARE
        for term, docs in frequent:
            if docs < WARM_POSITIONS_MIN_DOCS or cache_bytes() >= budget:
                break
            view.warm_positions(TEXT_FIELD, term)
        # Only now: a warm-up that failed half-way is done again by the next call.
        self._warmed = live
        return len(frequent)
