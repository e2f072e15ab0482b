"""Related episodes: more-like-this over transcripts and episode metadata."""

from __future__ import annotations

from itertools import islice

from poddarkiv.archive.analysis import STOP_WORDS
from poddarkiv.archive.schema import EPISODE, SEGMENT
from whoosh import query as wq
from whoosh.searching import Searcher

__all__ = ["KEY_TERMS", "related_episodes"]

#: Terms taken from the episode to find others like it.
KEY_TERMS = 20
#: Documents of the episode read for its key terms (long episodes: the first ones).
MAX_SOURCE_DOCS = 300
#: Hits examined to find related episodes.
MAX_CANDIDATES = 500


def related_episodes(searcher: Searcher, episode_id: str, *, limit: int = 5) -> list[str]:
    """Up to ``limit`` ids of other episodes sharing this one's most distinctive words."""
    kind = searcher.reader().column_reader("kind")
    docnums = list(islice(searcher.docs_for_query(wq.Term("episode_id", episode_id)),
                          MAX_SOURCE_DOCS))
    if not docnums or limit <= 0:
        return []
    terms: list[tuple[str, float]] = []
    for field, docs in (("text", [d for d in docnums if kind[d] == SEGMENT]),
                        ("title", [d for d in docnums if kind[d] == EPISODE])):
        if docs:
            found = searcher.key_terms(docs, field, numterms=KEY_TERMS * 2)
            terms += [(t, w) for t, w in found if t not in STOP_WORDS and len(t) > 2]
    if not terms:
        return []
    terms.sort(key=lambda tw: -tw[1])
    q = wq.Or([wq.Term(f, t, boost=max(w, 0.01)) for t, w in terms[:KEY_TERMS]
               for f in ("text", "title", "description")])
    q = wq.AndNot(q, wq.Term("episode_id", episode_id))
    results = searcher.search(q, limit=MAX_CANDIDATES, collapse="episode_id", collapse_limit=3)
    scores: dict[str, float] = {}
    episode_col = searcher.reader().column_reader("episode_id")
    for score, docnum in results.top_n:
        eid = episode_col[docnum]
        scores[eid] = scores.get(eid, 0.0) + float(score)
    ranked: list[str] = sorted(scores, key=lambda e: -scores[e])
    return ranked[:limit]
