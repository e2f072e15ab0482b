"""Run a search on a Whoosh searcher: collect, group per episode, page, highlight.

Hits are collected once, with at most :data:`MAX_PASSAGES` segments per episode (Whoosh's
collapse), at most :data:`MAX_COLLECT` documents and at most :data:`SEARCH_TIME_LIMIT_S`
seconds; only the episodes on the requested page have their passages read and highlighted.
When exact matching finds fewer than :data:`FEW_EPISODES` episodes, rare words are matched
approximately as well, and a "Menade du …?" suggestion is built from the index's own words.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from whoosh import query as wq
from whoosh.collectors import CollapseCollector, TimeLimit, WrappingCollector
from whoosh.searching import Searcher

from poddarkiv.archive.analysis import STOP_WORDS
from poddarkiv.archive.compounds import CompoundSplitter
from poddarkiv.archive.highlight import highlight
from poddarkiv.archive.index.schema import SPELL_FIELD, day_number
from poddarkiv.archive.query.compile import CompiledQuery, compile_query
from poddarkiv.archive.query.fuzzy import near_words
from poddarkiv.archive.query.parse import parse_query
from poddarkiv.archive.query.synonyms import Synonyms
from poddarkiv.archive.search import EpisodeHit, PassageHit, SearchPage, SearchRequest

__all__ = ["FEW_EPISODES", "MAX_COLLECT", "MAX_PASSAGES", "EpisodeInfo", "run_search"]

#: Documents collected per search; deeper results are not paged to.
MAX_COLLECT = 1_000
#: Passages kept per episode.
MAX_PASSAGES = 3
#: Searching stops after this long and answers with what it has.
SEARCH_TIME_LIMIT_S = 0.8
#: Fewer episodes than this turn on fuzzy matching and suggestions.
FEW_EPISODES = 3
#: Words in fewer documents than this are "rare" and may be matched approximately.
RARE_DOC_FREQ = 3
#: Suggestions: at most this many edits.
SUGGEST_MAX_EDITS = 2

TIMED_OUT_MESSAGE = ("Sökningen avbröts efter en knapp sekund, så alla träffar kom inte med. "
                     "Lägg till fler ord för en snabbare och mer träffsäker sökning.")


@dataclass(frozen=True, slots=True)
class EpisodeInfo:
    """What a hit shows about its episode, read once per searcher from the episode documents."""

    episode_id: str
    feed_id: str
    title: str
    feed_title: str
    published: datetime | None
    themes: tuple[str, ...]


@dataclass(slots=True)
class _Group:
    key: int  # schema.episode_key
    first_doc: int
    score: float
    segments: list[tuple[float, int]]
    metadata: bool = False

    def episode_id(self, searcher: Searcher, infos: Mapping[int, EpisodeInfo]) -> str:
        info = infos.get(self.key)
        return info.episode_id if info else str(searcher.stored_fields(self.first_doc)
                                                ["episode_id"])


def _filters(request: SearchRequest) -> list[wq.Query]:
    out: list[wq.Query] = []
    if request.podcast:
        out.append(wq.Term("feed_id", request.podcast))
    if request.theme:
        out.append(wq.Term("ep_themes", request.theme.lower()))
    if request.date_from or request.date_to:
        lo = day_number(request.date_from) if request.date_from else None
        hi = day_number(request.date_to) if request.date_to else None
        out.append(wq.NumericRange("day", lo, hi))
    return out


class _Deadline(WrappingCollector):  # type: ignore[misc]
    """Whoosh's ``TimeLimitCollector`` without its timer thread or signal.

    cProfile showed its ``threading.Timer`` (one thread per search) costing 2-3 ms, more than a
    selective search itself; SIGALRM cannot be used outside the main thread. This checks the
    clock every :data:`_CHECK_EVERY` matches instead, as it hands them on, so it can sit under a
    ``CollapseCollector`` (whose collapsing happens in its own ``collect_matches``).
    """

    def __init__(self, child: Any, timelimit_s: float) -> None:
        self.child = child
        self.timelimit_s = timelimit_s

    def prepare(self, top_searcher: Any, q: Any, context: Any) -> None:
        self.child.prepare(top_searcher, q, context)
        self.deadline = time.monotonic() + self.timelimit_s

    def matches(self) -> Iterator[int]:
        deadline = self.deadline
        for n, sub_docnum in enumerate(self.child.matches()):
            if n % _CHECK_EVERY == 0 and time.monotonic() > deadline:
                raise TimeLimit
            yield sub_docnum


_CHECK_EVERY = 256


def _collect(searcher: Searcher, q: wq.Query, request: SearchRequest) -> tuple[list[_Group], bool]:
    """Hits grouped per episode in rank order, and whether time ran out."""
    sortedby = None if request.sort == "relevance" else "day"
    # optimize=False: Whoosh's block-quality skipping can loop forever on an OR query once
    # the top list is full (UnionMatcher.skip_to_quality tests a + b <= q, then asks a to skip
    # blocks <= q - b; float rounding makes the second false, so nothing moves), and there
    # _Deadline never gets control. Seen on many equally scored segments.
    top = searcher.collector(limit=MAX_COLLECT, sortedby=sortedby,
                             reverse=request.sort == "newest", optimize=False)
    # The deadline goes under the collapse: above it, it would collect past the collapsing.
    tlc = CollapseCollector(_Deadline(top, SEARCH_TIME_LIMIT_S), "ep_key",
                            limit=MAX_PASSAGES + 1)
    timed_out = False
    try:
        searcher.search_with_collector(q, tlc)
    except TimeLimit:
        timed_out = True
    results = tlc.results()
    if not results.top_n:  # also: an empty index's reader has no columns
        return [], timed_out
    reader = searcher.reader()
    key_col = reader.column_reader("ep_key")
    is_ep_col = reader.column_reader("is_ep")
    groups: dict[int, _Group] = {}
    for rank, (score, docnum) in enumerate(results.top_n):
        key = key_col[docnum]
        score = float(score) if sortedby is None else float(-rank)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(key, docnum, score, [])
        if is_ep_col[docnum]:
            group.metadata = True
        elif len(group.segments) < MAX_PASSAGES:
            group.segments.append((score, docnum))
    return list(groups.values()), timed_out


def _passages(searcher: Searcher, group: _Group, episode_id: str, compiled: CompiledQuery,
              request: SearchRequest, splitter: CompoundSplitter,
              seen: dict[str, bool]) -> tuple[PassageHit, ...]:
    out = []
    segments = group.segments or _any_word_segments(searcher, episode_id, compiled)
    for score, docnum in segments:
        fields = searcher.stored_fields(docnum)
        text = fields.get("text", "")
        snippet = highlight(text, compiled.stems, compiled.prefixes, splitter=splitter,
                            mark=request.highlight, seen=seen)
        out.append(PassageHit(float(fields.get("start", 0.0)), float(fields.get("end", 0.0)),
                              text, snippet, score, int(fields.get("seg", -1))))
    if request.sort != "relevance":
        out.sort(key=lambda p: p.start)
    return tuple(out)


def _any_word_segments(searcher: Searcher, episode_id: str,
                       compiled: CompiledQuery) -> list[tuple[float, int]]:
    """For an episode that matched on its title or description only: passages with any of the
    query's words, so the hit still shows where in the episode they are spoken."""
    stems = [s for s in sorted(compiled.stems) if s not in STOP_WORDS]
    if not stems:
        return []
    q = wq.And([wq.Term("episode_id", episode_id),
                wq.Or([wq.Term("text", s) for s in stems])])
    results = searcher.search(q, limit=MAX_PASSAGES)
    return [(float(score), docnum) for score, docnum in results.top_n]


def _suggest(searcher: Searcher, request: SearchRequest, compiled: CompiledQuery) -> str | None:
    """The query with words the index does not know replaced by close words it does know."""
    reader = searcher.reader()
    q = request.q
    changed = False
    for word, stem in compiled.words:
        if word in STOP_WORDS or reader.doc_frequency("text", stem) > 0 or len(word) < 3:
            continue
        near = near_words(reader, word, SUGGEST_MAX_EDITS)
        if near:
            fewest = near[0][0]
            best = max((w for d, w in near if d == fewest),
                       key=lambda w: reader.doc_frequency(SPELL_FIELD, w))
            q = _replace_word(q, word, best)
            changed = True
    return q if changed else None


def _replace_word(q: str, word: str, new: str) -> str:
    from poddarkiv.archive.analysis import tokenize

    for folded, start, end in tokenize(q):
        if folded == word:
            return q[:start] + new + q[end:]
    return q


def _rare(searcher: Searcher, compiled: CompiledQuery) -> frozenset[str]:
    reader = searcher.reader()
    return frozenset(w for w, s in compiled.words if w not in STOP_WORDS and len(w) >= 4
                     and reader.doc_frequency("text", s) < RARE_DOC_FREQ)


def run_search(searcher: Searcher, request: SearchRequest, *, splitter: CompoundSplitter,
               synonyms: Synonyms, episodes: Callable[[], Mapping[int, EpisodeInfo]],
               clock: Callable[[], float] = time.perf_counter) -> SearchPage:
    """Search, group and page; every query problem becomes ``message``, never an exception."""
    t0 = clock()
    request = request.clamped()
    parsed = parse_query(request.q)
    notes = list(parsed.notes)
    compiled = compile_query(parsed, searcher.reader(), splitter=splitter, synonyms=synonyms)
    if compiled.query is None:
        return SearchPage(request, message=" ".join(notes) or None,
                          elapsed_ms=(clock() - t0) * 1000)
    filters = _filters(request)
    q = wq.And([compiled.query, *filters]) if filters else compiled.query
    groups, timed_out = _collect(searcher, q, request)
    fuzzy = False
    if len(groups) < FEW_EPISODES and (rare := _rare(searcher, compiled)):
        fuzzy_c = compile_query(parsed, searcher.reader(), splitter=splitter, synonyms=synonyms,
                                fuzzy=rare)
        assert fuzzy_c.query is not None
        fq = wq.And([fuzzy_c.query, *filters]) if filters else fuzzy_c.query
        more, timed_out_f = _collect(searcher, fq, request)
        if len(more) > len(groups):
            groups, compiled, fuzzy, timed_out = more, fuzzy_c, True, timed_out_f
    suggestion = _suggest(searcher, request, compiled) if len(groups) < FEW_EPISODES else None
    if timed_out:
        notes.append(TIMED_OUT_MESSAGE)
    return _page(searcher, request, groups, compiled, splitter, episodes(), suggestion,
                 " ".join(notes) or None, fuzzy, t0, clock)


def _page(searcher: Searcher, request: SearchRequest, groups: list[_Group],
          compiled: CompiledQuery, splitter: CompoundSplitter, infos: Mapping[int, EpisodeInfo],
          suggestion: str | None, message: str | None, fuzzy: bool, t0: float,
          clock: Callable[[], float]) -> SearchPage:
    total = len(groups)
    pages = math.ceil(total / request.per_page) if total else 0
    page = max(1, min(request.page, pages or 1))
    shown = groups[(page - 1) * request.per_page:page * request.per_page]
    hits = []
    seen: dict[str, bool] = {}
    for g in shown:
        info = infos.get(g.key)
        eid = g.episode_id(searcher, infos)
        hits.append(EpisodeHit(
            eid, info.feed_id if info else "", info.title if info else eid,
            info.feed_title if info else "", info.published if info else None, g.score,
            _passages(searcher, g, eid, compiled, request, splitter, seen), g.metadata))
    themes: Counter[str] = Counter()
    for g in groups:
        info = infos.get(g.key)
        if info:
            themes.update(info.themes)
    return SearchPage(request, tuple(hits), total, page, pages, suggestion, message,
                      dict(themes.most_common()), (clock() - t0) * 1000, fuzzy)
