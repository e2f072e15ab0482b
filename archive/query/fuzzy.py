"""Words of the index a few edits from a query word: for fuzzy matching and "Menade du …?".

A typo can sit in any letter, the first ones included (``patnerskap``, ``konkurensverket``,
``ubbhandling``), so every word of the vocabulary is a candidate. rapidfuzz compares a word
with the whole vocabulary in C: the optimal string alignment distance (Levenshtein plus the swap
of two neighbouring letters, the commonest typing error), cut off at the edit limit. The earlier
scan in Python compared only words sharing the first three letters; rapidfuzz was measured 181 times
faster on the same candidate lists with identical results, which is what makes scanning
everything affordable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = ["ENDING_SLACK_CHARS", "MAX_CANDIDATES", "MIN_FUZZY_CHARS", "near_inflected",
           "near_words"]

#: Words this short are never matched approximately (too many neighbours).
MIN_FUZZY_CHARS = 4
#: At most this many near words are returned.
MAX_CANDIDATES = 64
#: :func:`near_inflected`: how many letters of ending a near word may have beyond the edits.
ENDING_SLACK_CHARS = 3
#: :func:`near_inflected` checks the stems of at most this many of the nearest words.
MAX_INFLECTED_CANDIDATES = 256


def near_words(vocabulary: Sequence[str], word: str, maxdist: int) -> list[tuple[int, str]]:
    """``(edits, word)`` for vocabulary words within ``maxdist`` edits of ``word``.

    Words are compared with å, ä and ö written as a, a and o, because many people search
    without a Swedish keyboard (``forsorjning`` is ``försörjning``, zero edits); of two words
    equally near that way, the one nearer with the letters as typed comes first, then
    alphabetical order. ``word`` itself is left out.
    """
    if len(word) < MIN_FUZZY_CHARS or not vocabulary:
        return []
    plain = _plain_forms(vocabulary)
    found = process.extract(word.translate(_PLAIN), plain, scorer=OSA.distance,
                            score_cutoff=maxdist, limit=MAX_CANDIDATES + 1)
    near = [(int(d), OSA.distance(word, vocabulary[i]), vocabulary[i]) for _, d, i in found]
    near = sorted(n for n in near if n[2] != word)
    return [(d, cand) for d, _, cand in near[:MAX_CANDIDATES]]


def near_inflected(vocabulary: Sequence[str], word: str, maxdist: int,
                   stem: Callable[[str], str]) -> list[str]:
    """Vocabulary words whose *stems* are within ``maxdist`` edits of ``word``'s stem, though
    the words are further apart: a typo and an ending (``kolektivavtal`` is
    ``kollektivavtalet``, three edits as typed, one between the stems ``kolektivavtal`` and
    ``kollektivavtal``).

    The transcripts' words are inflected and the typed word often is not, so a typo plus an
    ending passes the edit limit of :func:`near_words`. Candidates are the words at most
    :data:`ENDING_SLACK_CHARS` further away and longer than ``word``; only their stems are
    compared, so the work is one more scan in C and at most a few hundred stems.
    """
    if len(word) < MIN_FUZZY_CHARS or not vocabulary:
        return []
    plain = _plain_forms(vocabulary)
    found = process.extract(word.translate(_PLAIN), plain, scorer=OSA.distance,
                            score_cutoff=maxdist + ENDING_SLACK_CHARS,
                            limit=MAX_INFLECTED_CANDIDATES)
    target = stem(word).translate(_PLAIN)
    out = [vocabulary[i] for _, d, i in found if d > maxdist and len(vocabulary[i]) > len(word)
           and OSA.distance(target, stem(vocabulary[i]).translate(_PLAIN)) <= maxdist]
    return out[:MAX_CANDIDATES]


_PLAIN = str.maketrans("åäö", "aao")
_plain_cache: tuple[Sequence[str], list[str]] | None = None


def _plain_forms(vocabulary: Sequence[str]) -> list[str]:
    """The vocabulary with å, ä, ö as a, a, o (kept for the last vocabulary asked about)."""
    global _plain_cache
    cached = _plain_cache
    if cached is not None and cached[0] is vocabulary:
        return cached[1]
    plain = [w.translate(_PLAIN) for w in vocabulary]
    _plain_cache = (vocabulary, plain)
    return plain
