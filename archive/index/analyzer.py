"""The Whoosh analyzer of every Swedish text field, built on :mod:`~poddarkiv.archive.analysis`.

The analysis itself (folding, stemming, compound parts, spelling words) lives in
:mod:`~poddarkiv.archive.analysis`, which knows nothing of Whoosh; this module wraps it in
Whoosh's tokenizer and filter interface.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Analyzer, Filter, RegexTokenizer, Token

from poddarkiv.archive.analysis import (
    STEM_CACHE_SIZE,
    TOKEN_PATTERN,
    default_splitter,
    spellable,
    stem,
    word_of,
)
from poddarkiv.archive.compounds import CompoundSplitter

__all__ = ["SwedishAnalyzer", "SwedishFilter"]


class SwedishFilter(Filter):  # type: ignore[misc]
    """Folds, stems (cached) and adds compound parts at the compound's position.

    With ``no_morph`` (Whoosh's spelling words) it yields folded surface words, stop words left
    out, so "Menade du …?" suggests real words.
    """

    is_morph = True

    def __init__(self, splitter: CompoundSplitter | None = None) -> None:
        self._splitter = splitter
        self._memo: dict[str, tuple[str, ...]] | None = None
        self._memo_key = (0, -1)

    @property
    def splitter(self) -> CompoundSplitter:
        return self._splitter or default_splitter()

    def __getstate__(self) -> dict[str, Any]:
        # Whoosh pickles the schema into every commit's TOC: leave the lexicon out.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._splitter = None
        self._memo = None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def _terms(self) -> dict[str, tuple[str, ...]]:
        """The memo of analysed tokens, emptied when the splitter learns words.

        Raw token → ``(stem, *part stems)``; NUL + raw token → ``(spelling word,)`` or ``()``.
        """
        splitter = self.splitter
        memo = self._memo
        if memo is None or self._memo_key != (id(splitter), splitter.version) \
                or len(memo) >= STEM_CACHE_SIZE:
            memo = self._memo = {}
            self._memo_key = (id(splitter), splitter.version)
        return memo

    def __call__(self, tokens: Iterator[Token], **kwargs: Any) -> Iterator[Token]:
        # Indexing analyses every word of every segment, so each raw token's stem and compound
        # parts are worked out once (cProfile: a fifth of the build went to folding, stemming
        # and splitting the same words again).
        memo = self._terms()
        split = self.splitter.split
        for t in tokens:
            raw = t.text
            if getattr(t, "no_morph", False):
                surface = memo.get("\0" + raw)
                if surface is None:
                    word = word_of(raw)
                    surface = memo["\0" + raw] = (word,) if spellable(word) else ()
                if surface:
                    t.text = surface[0]
                    yield t
                continue
            terms = memo.get(raw)
            if terms is None:
                word = word_of(raw)
                terms = memo[raw] = (stem(word), *(stem(p) for p in split(word)))
            t.text = terms[0]
            yield t
            if t.mode == "index":
                for part in terms[1:]:
                    t.text = part
                    yield t


class SwedishAnalyzer(Analyzer):  # type: ignore[misc]
    """Tokenizer plus :class:`SwedishFilter`: the analyzer of every Swedish text field."""

    def __init__(self, splitter: CompoundSplitter | None = None) -> None:
        self.tokenizer = RegexTokenizer(TOKEN_PATTERN)
        self.filter = SwedishFilter(splitter)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def has_morph(self) -> bool:
        return True

    def __call__(self, value: str, no_morph: bool = False, **kwargs: Any) -> Iterator[Token]:
        # Whoosh's tokenizers copy keyword arguments onto the token.
        tokens: Iterator[Token] = self.filter(self.tokenizer(value, no_morph=no_morph, **kwargs))
        return tokens
