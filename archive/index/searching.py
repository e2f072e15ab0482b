"""Run a search over the decoded index: match, filter, order, page, read and highlight.

Matching (:mod:`~poddarkiv.archive.index.matching`) finds every episode, in tiers, with its best
passages; only the episodes on the requested page have their passages read from Whoosh's stored
fields and highlighted. When exact matching finds nothing, rare words are matched approximately
as well (a typo in any letter); when it finds fewer than :data:`FEW_EPISODES` episodes, a
"Menade du …?" suggestion is built from the index's own words for the words it does not know.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from poddarkiv.archive.analysis import STOP_WORDS, tokenize
from poddarkiv.archive.compounds import CompoundSplitter
from poddarkiv.archive.highlight import SNIPPET_CHARS, Marker
from poddarkiv.archive.index.episode_infos import EpisodeInfo, EpisodeInfos
from poddarkiv.archive.index.tiers import EpisodeMatch, Matches, Passage, match
from poddarkiv.archive.index.view import SearchView
from poddarkiv.archive.query.compile import compile_query
from poddarkiv.archive.query.fuzzy import near_words
from poddarkiv.archive.query.nodes import CompiledQuery
from poddarkiv.archive.query.parse import ParsedQuery, parse_query
from poddarkiv.archive.query.synonyms import Synonyms
from poddarkiv.archive.search import (
    EpisodeHit,
    Note,
    PassageHit,
    PassageKind,
    SearchPage,
    SearchRequest,
)

__all__ = ["FEW_EPISODES", "run_search"]

#: Fewer episodes than this turn on fuzzy matching and suggestions.
FEW_EPISODES = 3
#: Words in fewer documents than this are "rare" and may be matched approximately.
RARE_DOC_FREQ = 3
#: Suggestions: at most this many edits.
SUGGEST_MAX_EDITS = 2
#: Between the cues of a stretch that are shown, where cues without matched words were left out.
ELISION = " … "
#: Words shorter than this are never replaced by a suggestion.
SUGGEST_MIN_CHARS = 4


@dataclass(frozen=True, slots=True)
class _Context:
    view: SearchView
    request: SearchRequest
    compiled: CompiledQuery
    splitter: CompoundSplitter
    table: EpisodeInfos
    #: Marks the query's words in every passage of the page (each raw word judged once).
    marker: Marker

    @property
    def infos(self) -> Mapping[int, EpisodeInfo]:
        return self.table.by_key


def _wanted(info: EpisodeInfo, request: SearchRequest) -> bool:
    if request.podcast and info.feed_id != request.podcast:
        return False
    if request.theme and request.theme.lower() not in info.themes:
        return False
    if request.date_from or request.date_to:
        if info.published is None:
            return False
        day = info.published.date()
        if (request.date_from and day < request.date_from) or \
                (request.date_to and day > request.date_to):
            return False
    return True


def _kept(found: Matches, request: SearchRequest, table: EpisodeInfos) -> Matches:
    """The matches of known episodes that the request's filters (podcast, theme, dates) keep."""
    keys = table.known(found.key_set())
    if request.filtered:
        infos = table.by_key
        keys = np.asarray([k for k in keys.tolist() if _wanted(infos[k], request)],
                          dtype=np.int64)
    if len(keys) == found.total:
        return found
    return found.restricted(np.sort(keys))


def _find(view: SearchView, parsed: ParsedQuery, request: SearchRequest,
          splitter: CompoundSplitter, synonyms: Synonyms, table: EpisodeInfos,
          ) -> tuple[Matches, CompiledQuery, bool, bool]:
    """The matches, the query they came from, whether fuzzily, whether time ran out."""
    compiled = compile_query(parsed, view, splitter=splitter, synonyms=synonyms)
    found, timed_out = match(view, compiled.groups, compiled.excluded)
    matches = _kept(found, request, table)
    # Only when nothing matched: a rare word that did match is what the reader asked for,
    # and widening it to its near spellings would bury it.
    if matches.total or not (rare := _rare(view, compiled)):
        return matches, compiled, False, timed_out
    fuzzy_c = compile_query(parsed, view, splitter=splitter, synonyms=synonyms, fuzzy=rare)
    more, timed_out_f = match(view, fuzzy_c.groups, fuzzy_c.excluded)
    more_matches = _kept(more, request, table)
    if more_matches.total > matches.total:
        return more_matches, fuzzy_c, True, timed_out_f
    return matches, compiled, False, timed_out


def run_search(view: SearchView, request: SearchRequest, *, splitter: CompoundSplitter,
               synonyms: Synonyms, episodes: Callable[[], EpisodeInfos],
               clock: Callable[[], float] = time.perf_counter) -> SearchPage:
    """Search, order and page; every query problem becomes a note, never an exception."""
    t0 = clock()
    request = request.clamped()
    parsed = parse_query(request.q)
    notes = list(parsed.notes)
    if parsed.empty:
        return SearchPage(request, notes=tuple(notes), elapsed_ms=(clock() - t0) * 1000)
    table = episodes()
    matches, compiled, fuzzy, timed_out = _find(view, parsed, request, splitter, synonyms,
                                                table)
    if compiled.empty:
        return SearchPage(request, notes=tuple(notes), elapsed_ms=(clock() - t0) * 1000)
    suggestion = _suggest(view, request, compiled) if matches.total < FEW_EPISODES else None
    if timed_out:
        notes.append(Note("timed_out"))
    if not matches.total and len(compiled.groups) > 1:
        notes.append(Note("no_episode_has_all_words"))
    elif not (matches.total or compiled.excluded or timed_out or request.filtered):
        # One word (or phrase) that no episode holds: what to try instead.
        notes.append(Note("no_episode_has_it"))
    marker = Marker(compiled.stems, compiled.prefixes, splitter=splitter)
    ctx = _Context(view, request, compiled, splitter, table, marker)
    return _page(ctx, matches, suggestion, tuple(notes), fuzzy, t0, clock)


def _page(ctx: _Context, matches: Matches, suggestion: str | None,
          notes: tuple[Note, ...], fuzzy: bool, t0: float,
          clock: Callable[[], float]) -> SearchPage:
    request = ctx.request
    total = matches.total
    pages = math.ceil(total / request.per_page) if total else 0
    page = max(1, min(request.page, pages or 1))
    start, stop = (page - 1) * request.per_page, page * request.per_page
    if request.sort == "relevance":
        shown = matches.ranked(start, stop)
    else:
        shown = matches.of(_by_date(matches.keys().tolist(), ctx.infos,
                                    newest=request.sort == "newest")[start:stop])
    hits = tuple(_hit(ctx, m) for m in shown)
    return SearchPage(request, hits, total, page, pages, suggestion,
                      theme_counts=ctx.table.theme_counts(matches.key_set()),
                      elapsed_ms=(clock() - t0) * 1000, fuzzy=fuzzy, notes=notes)


def _by_date(keys: list[int], infos: Mapping[int, EpisodeInfo], *, newest: bool) -> list[int]:
    """Episodes by publication date (undated ones last), then by tier order."""
    dated = [k for k in keys if infos[k].published is not None]
    undated = [k for k in keys if infos[k].published is None]
    dated.sort(key=lambda k: infos[k].published, reverse=newest)  # type: ignore[arg-type,return-value]
    return dated + undated


def _hit(ctx: _Context, m: EpisodeMatch) -> EpisodeHit:
    info = ctx.table.by_key[m.ep_key]
    shown = [_passage(ctx, info, p, m.tier) for p in m.passages]
    passages = tuple(p for p in shown if p is not None)
    if ctx.request.sort != "relevance":
        passages = tuple(sorted(passages, key=lambda p: (p.kind != "transcript", p.start)))
    return EpisodeHit(info.episode_id, info.feed_id, info.title or info.episode_id,
                      info.feed_title, info.published, m.score, passages, m.metadata, m.tier,
                      m.passage_total)


def _passage(ctx: _Context, info: EpisodeInfo, p: Passage, tier: str) -> PassageHit | None:
    marker, mark = ctx.marker, ctx.request.highlight
    if p.metadata:
        kind: PassageKind = "description" if info.description and \
            marker.spans(info.description) else "title"
        text = info.description if kind == "description" else info.title
        return PassageHit(0.0, 0.0, text, marker.snippet(text, mark=mark), p.score, -1, kind)
    if p.first == p.last:  # one segment, as most passages are
        cue = ctx.view.stored(p.first)
        cues = [cue] if "text" in cue else []
    else:
        cues = [f for f in (ctx.view.stored(d) for d in range(p.first, p.last + 1))
                if "text" in f]
    if len(cues) > 2:
        # A stretch: its first and last cues hold matched words; of those between, only the
        # ones that do are shown, the rest elided.
        cues = [cues[0], *(f for f in cues[1:-1] if marker.spans(f["text"])), cues[-1]]
    if not cues:
        return None
    text = ELISION.join(str(f["text"]) for f in cues) if len(cues) > 1 else str(cues[0]["text"])
    return PassageHit(float(cues[0].get("start", 0.0)), float(cues[-1].get("end", 0.0)),
                      text, marker.snippet(text, mark=mark, max_chars=SNIPPET_CHARS * len(cues)),
                      p.score, int(cues[0].get("seg", -1)), "transcript", tier == "near")


def _rare(view: SearchView, compiled: CompiledQuery) -> frozenset[str]:
    return frozenset(w for w, s in compiled.words if w not in STOP_WORDS and len(w) >= 4
                     and view.doc_frequency(s) < RARE_DOC_FREQ)


def _suggest(view: SearchView, request: SearchRequest, compiled: CompiledQuery) -> str | None:
    """The query with words the index does not know replaced by close words it does know."""
    q = request.q
    changed = False
    for word, stem in compiled.words:
        if word in STOP_WORDS or len(word) < SUGGEST_MIN_CHARS or view.indexed(stem):
            continue
        best = _closest(view, view.vocabulary(), word)
        if best:
            q = _replace_word(q, word, best)
            changed = True
    return q if changed else None


def _closest(view: SearchView, vocabulary: Sequence[str], word: str) -> str | None:
    near = near_words(vocabulary, word, SUGGEST_MAX_EDITS)
    if not near:
        return None
    fewest = near[0][0]
    return max((w for d, w in near if d == fewest), key=view.spelling_frequency)


def _replace_word(q: str, word: str, new: str) -> str:
    for folded, start, end in tokenize(q):
        if folded == word:
            return q[:start] + new + q[end:]
    return q
