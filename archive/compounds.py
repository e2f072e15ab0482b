"""Swedish compound splitting from a lexicon.

Swedish writes compounds as one word (``upphandlingsregler`` = ``upphandling`` + ``s`` +
``regler``), so a search for ``regler`` misses them unless the index also holds the parts. The
splitter knows words by their Snowball stems: the shipped list (``data/swedish-stems.txt.gz``,
derived from the hunspell-sv dictionary, see ``data/README.md``) plus the corpus's own vocabulary,
added with :meth:`CompoundSplitter.add_words`.

A word is split into parts that cover it exactly, each at least :data:`MIN_PART_CHARS` long, with
an optional linking ``s`` (*fogemorfem*) after a part. Among the ways to cover a word, the one with
the fewest parts wins, then the one whose shortest part is longest, which prefers
``upphandling|s|regler`` over ``upp|handlingsregler``. Derivational suffixes (``skap``, ``het``)
and stop words are never parts: ``partnerskap`` stays whole.
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources

__all__ = [
    "MAX_PARTS",
    "MIN_KNOWN_SPLIT_CHARS",
    "MIN_PART_CHARS",
    "MIN_WORD_CHARS",
    "CompoundSplitter",
    "linked",
    "shipped_stems",
    "unlinked",
]

#: Parts, and their stems, shorter than this are never split off: three-letter stems (``kom``,
#: ``kap``, ``ing``) match too many word endings (``kom|munerna``, ``partners|kapet``).
MIN_PART_CHARS = 4
#: Words shorter than this are never split.
MIN_WORD_CHARS = 9
#: At most this many parts per word; longer chains are usually mis-splits.
MAX_PARTS = 4
#: Known words (by stem) shorter than this split only without a linking s (``tjänsterna`` is not
#: ``tjän|s|terna``); longer ones are nearly always real compounds (``förvaltningsrätten``).
MIN_KNOWN_SPLIT_CHARS = 12
#: Later parts of a known word need stems at least this long.
STRICT_TAIL_STEM_CHARS = 5
#: Words longer than this are not split (runaway recognition output, URLs).
MAX_WORD_CHARS = 40
#: Cached splits per splitter before the cache is cleared.
CACHE_SIZE = 200_000

_WORDLIST = "swedish-stems.txt.gz"
#: Endings of inflected forms that Snowball leaves on short words (``kapet``, ``terna``).
_INFLECTED_ENDINGS = ("et", "en", "na", "ar", "er", "or", "an", "de", "te")

#: Endings that are suffixes or inflections, not words of their own, though some are in the list.
NEVER_PARTS = frozenset({
    "skap", "het", "heter", "ning", "ningar", "else", "ande", "ende", "are", "arna", "erna",
    "orna", "ligt", "lig", "liga", "isk", "iska", "dom", "sam", "samt", "bar", "aktig", "ism",
    "ist", "era", "erar", "ering", "tion", "ens", "ets", "ars", "ers", "nad", "ast", "ade",
    "ena", "ans", "ors", "nde", "nden",
})


@cache
def shipped_stems() -> frozenset[str]:
    """The shipped Swedish word list, as Snowball stems (loaded once)."""
    data = resources.files("poddarkiv.archive").joinpath("data", _WORDLIST).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


class CompoundSplitter:
    """Splits Swedish compounds into known words; thread-safe, with a bounded cache.

    ``stem`` is the stemmer (the analyzer's cached Snowball stemmer); ``stops`` are words that
    are never parts.
    """

    def __init__(self, stems: frozenset[str], *, stem: Callable[[str], str],
                 stops: Iterable[str] = ()) -> None:
        self._base = stems
        self._extra: set[str] = set()
        self._stem = stem
        self._never = NEVER_PARTS | frozenset(stops)
        self._cache: dict[str, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self._version = 0

    @property
    def version(self) -> int:
        """Grows each time :meth:`add_words` learns a stem, so callers can drop cached splits."""
        return self._version

    def __len__(self) -> int:
        return len(self._base) + len(self._extra)

    def _known_stem(self, stem: str) -> bool:
        return stem in self._base or stem in self._extra

    def knows(self, word: str, min_stem: int = MIN_PART_CHARS) -> bool:
        """Whether ``word`` (lowercase, folded) is known, with a stem of ``min_stem``+ letters."""
        if word in self._never:
            return False
        stem = self._stem(word)
        if word.endswith("s") and stem == word[:-1]:
            # A linking or genitive s (``partner|s``) is handled by the splitter itself, so that
            # ``partnerskap`` does not read as ``partners`` + ``kap``.
            return False
        return len(stem) >= min_stem and stem not in self._never and self._known_stem(stem)

    def add_words(self, words: Iterable[str]) -> int:
        """Add corpus words (lowercase, folded); return how many stems were new."""
        new = {self._stem(w) for w in words if len(w) > MIN_PART_CHARS and w.isalpha()}
        new = {s for s in new if not self._known_stem(s)}
        if new:
            with self._lock:
                self._extra |= new
                self._cache.clear()
                self._version += 1
        return len(new)

    def split(self, word: str) -> tuple[str, ...]:
        """The parts of ``word`` (lowercase, folded), or ``()`` when it is not a compound."""
        if len(word) < MIN_WORD_CHARS or len(word) > MAX_WORD_CHARS or not word.isalpha():
            return ()

        hit = self._cache.get(word)
        if hit is not None:
            return hit
        whole = self._stem(word)
        # A known word is split only where no linking s is needed and the later parts are longer
        # (``skol|datorer``, not ``tjän|s|terna`` or ``entre|prenad``); long known words are nearly
        # always real compounds and split freely.
        strict = len(whole) < MIN_KNOWN_SPLIT_CHARS and self._known_stem(whole)
        parts = self._best_cover(word, linking=not strict,
                                 min_tail=STRICT_TAIL_STEM_CHARS if strict else MIN_PART_CHARS)
        if strict and not parts:
            parts = self._linked_pair(word)
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[word] = parts
        return parts

    def _linked_pair(self, word: str) -> tuple[str, ...]:
        """A known word that is two known words joined by a linking s, the second one in its
        base form: ``stat|s|stöd``, ``rätt|s|fall`` (but not ``tjän|s|terna``: ``terna`` is
        inflected). Short known words split only this way."""
        for i in range(MIN_PART_CHARS, len(word) - MIN_PART_CHARS):
            head, link, tail = word[:i], word[i], word[i + 1:]
            if link != "s" or head.endswith("s") or tail != self._stem(tail) \
                    or tail.endswith(_INFLECTED_ENDINGS):
                continue
            if self.knows(head) and self.knows(tail):
                return (head, tail)
        return ()

    def _best_cover(self, word: str, *, linking: bool, min_tail: int) -> tuple[str, ...]:
        memo: dict[str, tuple[str, ...] | None] = {}

        def cover(rest: str, budget: int) -> tuple[str, ...] | None:
            key = f"{budget}:{rest}"
            if key in memo:
                return memo[key]
            best: tuple[str, ...] | None = (rest,) if self.knows(rest, min_tail) else None
            if budget > 1:
                for i in range(MIN_PART_CHARS, len(rest) - MIN_PART_CHARS + 1):
                    head = rest[:i]
                    if not self.knows(head, min_tail):
                        continue
                    for tail in _tails(rest[i:], linking):
                        sub = cover(tail, budget - 1)
                        if sub is not None:
                            best = _better(best, (head, *sub))
            memo[key] = best
            return best

        found = None
        for i in range(MIN_PART_CHARS, len(word) - MIN_PART_CHARS + 1):
            head = word[:i]
            if not self.knows(head):
                continue
            for tail in _tails(word[i:], linking):
                sub = cover(tail, MAX_PARTS - 1)
                if sub is not None:
                    found = _better(found, (head, *sub))
        return found or ()


def linked(rest: str) -> tuple[str, ...]:
    """What follows a compound's part, as it is and without a linking ``s``
    (``upphandling|s|regler``)."""
    return (rest, rest[1:]) if rest.startswith("s") else (rest,)


def unlinked(front: str) -> tuple[str, ...]:
    """What comes before a compound's last part, as it is and without a linking ``s``."""
    return (front, front[:-1]) if front.endswith("s") else (front,)


def _tails(rest: str, linking: bool) -> list[str]:
    """The remainder as it is, and without a linking ``s``, where long enough to be a part."""
    return [t for t in (linked(rest) if linking else (rest,)) if len(t) >= MIN_PART_CHARS]


def _better(a: tuple[str, ...] | None, b: tuple[str, ...]) -> tuple[str, ...]:
    """Fewest parts first, then the longest shortest part, then the longest head."""
    if a is None:
        return b
    ka = (len(a), -min(map(len, a)), -len(a[0]))
    kb = (len(b), -min(map(len, b)), -len(b[0]))
    return b if kb < ka else a
