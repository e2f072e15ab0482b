"""Search inside one episode: the transcript's passages that hold every word asked for.

``/avsnitt/ID?i=upphandling`` lists the matching passages above the transcript and marks the
words in them; it is a plain GET form, so it works without JavaScript. Words are compared the
way the archive folds them (:func:`poddarkiv.archive.normalise.words`), and each word asked for
also matches longer words it begins (``upphandl`` finds ``upphandlingen``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from poddarkiv.archive.models import Segment
from poddarkiv.archive.normalise import words
from poddarkiv.site import urls

__all__ = ["MAX_FIND_CHARS", "MAX_FIND_HITS", "find_in_episode", "mark_words"]

#: The longest in-episode query read (characters) and the most passages listed.
MAX_FIND_CHARS = 200
MAX_FIND_HITS = 200


def _matches(segment_words: Sequence[str], wanted: Sequence[str]) -> bool:
    return all(any(w.startswith(q) for w in segment_words) for q in wanted)


def mark_words(text: str, wanted: Sequence[str]) -> Markup:
    """``text`` escaped, with each word that begins with a wanted word in ``<mark>``."""
    out: list[str] = []
    for token in text.split(" "):
        folded = words(token)
        hit = any(w.startswith(q) for w in folded for q in wanted)
        out.append(f"<mark>{escape(token)}</mark>" if hit and token else str(escape(token)))
    return Markup(" ".join(out))


def find_in_episode(episode_id: str, segments: Sequence[Segment],
                    raw: str | None) -> dict[str, Any] | None:
    """The passages of ``segments`` matching every word of ``raw`` (``None`` if no query)."""
    query = " ".join((raw or "")[:MAX_FIND_CHARS].split())
    wanted = words(query)
    if not wanted:
        return None
    found = [{"segment": i, "start": round(s.start, 3), "text": s.text.strip(),
              "text_html": mark_words(s.text.strip(), wanted),
              "url": urls.episode(episode_id, t=s.start, query={"i": query})}
             for i, s in enumerate(segments) if _matches(words(s.text), wanted)]
    return {"q": query, "total": len(found),
            "passages": found[:MAX_FIND_HITS]}
