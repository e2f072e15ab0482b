"""Related episodes: more-like-this over transcripts and episode metadata."""

from __future__ import annotations

from itertools import islice

from whoosh import query as wq
from whoosh.searching import Searcher

from poddarkiv.archive.analysis import STOP_WORDS

__all__ = ["KEY_TERMS", "related_episodes"]

#: Terms taken from the episode to find others like it.
KEY_TERMS = 20
#: Documents of the episode read for its key terms (long episodes: the first ones).
MAX_SOURCE_DOCS = 300
#: Hits examined to find related episodes.
MAX_CANDIDATES = 500


def _key_terms(searcher: Searcher, docnums: list[int]) -> list[tuple[str, float]]:
    """Distinctive terms of the episode's transcript, or of its title when it has none.

    Passages the recogniser was unsure of are left out (misheard words make poor key terms),
    unless nothing else is left.
    """
    reader = searcher.reader()
    is_ep, doubt = reader.column_reader("is_ep"), reader.column_reader("doubt")
    segments = [d for d in docnums if not is_ep[d]]
    segments = [d for d in segments if not doubt[d]] or segments
    if segments:
        found = searcher.key_terms(segments, "text", numterms=KEY_TERMS * 2)
    else:
        title = (searcher.stored_fields(docnums[0]).get("meta") or {}).get("title", "")
        found = _title_terms(searcher, title) if title else []
    return [(t, w) for t, w in found if t not in STOP_WORDS and len(t) > 2][:KEY_TERMS]


def _title_terms(searcher: Searcher, title: str) -> list[tuple[str, float]]:
    try:
        terms: list[tuple[str, float]] = searcher.key_terms_from_text("text", title,
                                                                      numterms=KEY_TERMS)
    except ZeroDivisionError:
        # whoosh/classify.py Bo1Model.normalizer divides by the best term's score, 0 when no
        # word of the title is spoken in any transcript (always so before the first one).
        return []
    return terms


def related_episodes(searcher: Searcher, episode_id: str, *, limit: int = 5) -> list[str]:
    """Up to ``limit`` ids of other episodes sharing this one's most distinctive words."""
    docnums = list(islice(searcher.docs_for_query(wq.Term("episode_id", episode_id)),
                          MAX_SOURCE_DOCS))
    terms = _key_terms(searcher, docnums) if docnums and limit > 0 else []
    if not terms:
        return []
    q = wq.Or([wq.Term(f, t, boost=max(w, 0.01)) for t, w in terms
               for f in ("text", "title", "description")])
    # A mask, not wq.AndNot: Whoosh 2.7.4's AndNotMatcher lets the first match through when the
    # excluded term's postings start earlier (they do: the episode's own document comes first),
    # so an episode was listed as related to itself.
    results = searcher.search(q, limit=MAX_CANDIDATES, collapse="ep_key", collapse_limit=3,
                              mask=wq.Term("episode_id", episode_id))
    key_col = searcher.reader().column_reader("ep_key")
    scores: dict[int, float] = {}
    first: dict[int, int] = {}
    for score, docnum in results.top_n:
        key = key_col[docnum]
        scores[key] = scores.get(key, 0.0) + float(score)
        first.setdefault(key, docnum)
    ranked = sorted(scores, key=lambda k: -scores[k])[:limit]
    return [str(searcher.stored_fields(first[k])["episode_id"]) for k in ranked]
