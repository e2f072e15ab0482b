"""Search inside one episode: the transcript's passages that hold every word asked for.

``/avsnitt/ID?i=upphandling`` lists the matching passages above the transcript and marks the
words in them; it is a plain GET form, so it works without JavaScript. Words are matched the way
the archive's search matches them (:class:`poddarkiv.archive.highlight.Marker`: the same
folding, stemming, inflections and compound parts, so ``regel`` finds ``reglerna`` and ``stöd``
finds ``statsstöd``), and each word asked for also matches longer words it begins (``upphandl``
finds ``upphandlingen``). The marked passage is rendered by the search page's one renderer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from poddarkiv.archive.analysis import STOP_WORDS, analyze_word, tokenize
from poddarkiv.archive.families import inflection_stems
from poddarkiv.archive.highlight import Marker
from poddarkiv.archive.models import Segment
from poddarkiv.archive.search import Snippet
from poddarkiv.site import urls
from poddarkiv.site.serialize import snippet_html

__all__ = ["MAX_FIND_CHARS", "MAX_FIND_HITS", "find_in_episode"]

#: The longest in-episode query read (characters) and the most passages listed.
MAX_FIND_CHARS = 200
MAX_FIND_HITS = 200

#: One query word: the stems it matches, and itself as a prefix.
_Wanted = tuple[frozenset[str], tuple[str]]


def _wanted(query: str) -> list[_Wanted]:
    """Each content word of ``query`` (stop words too when there is nothing else)."""
    words = [w for w, _, _ in tokenize(query)]
    content = [w for w in words if w not in STOP_WORDS] or words
    out = []
    for word in dict.fromkeys(content):
        info = analyze_word(word)
        out.append((frozenset({info.stem} | inflection_stems(info.word)), (info.word,)))
    return out


def _marks(text: str, markers: Sequence[Marker]) -> tuple[tuple[int, int], ...] | None:
    """The spans of the wanted words in ``text``, or ``None`` when one of them is missing."""
    spans: set[tuple[int, int]] = set()
    for marker in markers:
        found = marker.spans(text)
        if not found:
            return None
        spans.update(found)
    return tuple(sorted(spans))


def find_in_episode(episode_id: str, segments: Sequence[Segment],
                    raw: str | None) -> dict[str, Any] | None:
    """The passages of ``segments`` matching every word of ``raw`` (``None`` if no query)."""
    query = " ".join((raw or "")[:MAX_FIND_CHARS].split())
    wanted = _wanted(query)
    if not wanted:
        return None
    markers = [Marker(stems, prefix) for stems, prefix in wanted]
    found = []
    for i, s in enumerate(segments):
        text = s.text.strip()
        marks = _marks(text, markers)
        if marks is not None:
            found.append({"segment": i, "start": round(s.start, 3), "text": text,
                          "text_html": snippet_html(Snippet(text, marks)),
                          "url": urls.episode(episode_id, t=s.start, query={"i": query})})
    return {"q": query, "total": len(found), "passages": found[:MAX_FIND_HITS]}
