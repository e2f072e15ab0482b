"""Snippets: a passage's text, cut around the words that matched, with their spans.

A word is marked when its stem, or a compound part's stem, is one the query looked for, or when
it starts with one of the query's prefixes. Long passages are cut to a window around the first
mark. The result is a :class:`~poddarkiv.archive.search.Snippet` (text and spans, no markup);
the site renders it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Sequence

from poddarkiv.archive.analysis import (
    STOP_WORDS,
    TOKEN_PATTERN,
    default_splitter,
    fold_aligned,
    token_info,
    token_infos,
    token_word,
)
from poddarkiv.archive.compounds import CompoundSplitter
from poddarkiv.archive.search import Snippet

__all__ = ["SNIPPET_CHARS", "Marker"]

#: Snippets longer than this (characters) are cut around the first match.
SNIPPET_CHARS = 240
_CONTEXT_BEFORE_CHARS = 60


class Marker:
    """The words one query marks, found in any text; each raw word is judged once.

    A word is marked when its stem, or a compound part's stem, is one the query looked for, or
    when it starts with one of the query's prefixes. One marker serves every passage of a
    search, its stems made ready once: a raw word met again costs one dictionary look-up (this
    halved highlighting a page of ten episodes).

    A word never analysed before is analysed only if one of the query's stems or prefixes
    occurs in it: a stem is what is left of a word when endings are cut, and a compound's parts
    are pieces of it, so a word in which no wanted stem occurs cannot match. Analysing every new
    word of the passages shown (compound splitting and stemming) was most of a first search of
    a rare word at 1,000 hours.
    """

    def __init__(self, stems: Collection[str], prefixes: Sequence[str] = (), *,
                 splitter: CompoundSplitter | None = None) -> None:
        wanted = frozenset(stems)
        # Stop words in a phrase or synonym are not worth a mark of their own everywhere.
        self._stems = wanted if wanted <= STOP_WORDS else wanted - STOP_WORDS
        self._starts = tuple(prefixes)
        self._splitter = splitter or default_splitter()
        self._seen: dict[str, bool] = {}
        self._ready = False
        self._may_match: Callable[[str], object] | None = None
        self._occurrences: Callable[[str], Iterable[re.Match[str]]] | None = None

    def _make_ready(self) -> None:
        """Compile the pattern of wanted pieces, on the first text to mark: compiling it is
        a tenth of a word's first search, and a page without highlighting marks nothing."""
        pieces = _minimal({*self._stems, *self._starts} - {""})
        pattern = re.compile("|".join(map(re.escape, pieces))) if pieces else None
        self._may_match = pattern.search if pattern else None
        # Where wanted pieces occur in a folded text; only when every piece is made of word
        # characters, so that each occurrence lies inside one word.
        self._occurrences = pattern.finditer \
            if pattern and all(_WORDY.fullmatch(p) for p in pieces) else None
        self._ready = True

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` character spans of the words in ``text`` that the query matched."""
        if not self._ready:
            self._make_ready()
        may_match = self._may_match
        if may_match is None:
            return []
        seen, stems, starts, splitter = self._seen, self._stems, self._starts, self._splitter
        known = token_infos(splitter)
        spans = []
        for m in self._candidates(text):
            raw = m[0]
            hit = seen.get(raw)
            if hit is None:
                info = known.get(raw)
                if info is None and may_match(token_word(raw)):
                    info = token_info(raw, splitter)
                hit = seen[raw] = info is not None and (
                    info.stem in stems or (bool(info.parts) and not stems.isdisjoint(info.parts))
                    or (bool(starts) and info.word.startswith(starts)))
            if hit:
                spans.append(m.span())
        return spans

    def _candidates(self, text: str) -> Iterable[re.Match[str]]:
        """The tokens of ``text`` that may match: those in which a wanted piece occurs, found
        in one search of the folded text; every token when the text does not fold in place
        or a token's start is in doubt (a run after ``word:``, which may be its genitive).

        Judging each token in Python was most of highlighting a page; most tokens of a
        passage hold no wanted piece, and such a token never matches (see :class:`Marker`).
        """
        occurrences = self._occurrences
        folded = fold_aligned(text) if occurrences is not None else None
        if folded is None or occurrences is None:
            return TOKEN_PATTERN.finditer(text)
        tokens = []
        covered = 0
        for found in occurrences(folded):
            start = found.start()
            if start < covered:
                continue
            while start and (folded[start - 1].isalnum() or folded[start - 1] == "_"):
                start -= 1
            if start >= 2 and text[start - 1] == ":" and _WORDY.match(text, start - 2):
                return TOKEN_PATTERN.finditer(text)
            token = TOKEN_PATTERN.match(text, start)
            if token is not None:
                tokens.append(token)
                covered = token.end()
        return tokens

    def snippet(self, text: str, *, mark: bool = True,
                max_chars: int = SNIPPET_CHARS) -> Snippet:
        """``text`` cut to ``max_chars`` around the first match, with the matched words'
        spans (none when ``mark`` is false)."""
        spans = self.spans(text) if mark else []
        if len(text) <= max_chars:  # most passages: nothing to cut
            return Snippet(text, tuple(spans))
        lo, hi = _window(text, spans, max_chars)
        marks = tuple((start - lo, end - lo) for start, end in spans if start >= lo and end <= hi)
        return Snippet(text[lo:hi], marks, lo > 0, hi < len(text))


def _minimal(pieces: set[str]) -> list[str]:
    """``pieces`` without those that hold another (a text holding ``upphandlingsregl`` holds
    ``regl``), longest first: a shorter pattern compiles faster on a word's first search."""
    kept: list[str] = []
    for piece in sorted(pieces, key=len):
        if not any(k in piece for k in kept):
            kept.append(piece)
    return sorted(kept, key=len, reverse=True)


#: One or more word characters, as :data:`TOKEN_PATTERN` counts them.
_WORDY = re.compile(r"\w+")


def _window(text: str, spans: list[tuple[int, int]], max_chars: int) -> tuple[int, int]:
    if len(text) <= max_chars:
        return 0, len(text)
    first = spans[0][0] if spans else 0
    start = max(0, first - _CONTEXT_BEFORE_CHARS)
    space = text.rfind(" ", 0, start + 1)
    start = space + 1 if start and space >= 0 else start
    end = min(len(text), start + max_chars)
    space = text.find(" ", end)
    end = len(text) if space < 0 or space - end > 20 else space
    return start, end

