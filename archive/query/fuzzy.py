"""Words of the index a few edits from a query word: for fuzzy matching and "Menade du …?".

Whoosh's ``terms_within`` builds a Levenshtein automaton per word; cProfile showed that at about
12 ms a query, several times the rest of a search. Here candidates are the index's unstemmed
words sharing the first :data:`PREFIX_CHARS` letters and a similar length, at most
:data:`MAX_SCANNED` of them, checked with a bounded edit distance.
"""

from __future__ import annotations

from whoosh.reading import IndexReader

from poddarkiv.archive.index.schema import SPELL_FIELD

__all__ = ["MAX_SCANNED", "PREFIX_CHARS", "bounded_distance", "near_words"]

#: Recognition errors rarely touch the first letters; sharing them keeps the scan short.
PREFIX_CHARS = 3
#: At most this many candidate words are compared.
MAX_SCANNED = 3_000


def bounded_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance of ``a`` and ``b``, or ``limit + 1`` once it must exceed ``limit``.

    Only the diagonal band of width ``limit`` is computed, and a row whose every cell is over
    the limit stops it (Whoosh's ``damerau_levenshtein`` fills the whole matrix).
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    over = limit + 1
    prev = [j if j <= limit else over for j in range(len(b) + 1)]
    for i, ca in enumerate(a, 1):
        lo, hi = max(1, i - limit), min(len(b), i + limit)
        cur = [over] * (len(b) + 1)
        cur[0] = i if i <= limit else over
        for j in range(lo, hi + 1):
            cost = prev[j - 1] + (ca != b[j - 1])
            cur[j] = min(cost, prev[j] + 1, cur[j - 1] + 1, over)
        if min(cur[lo - 1:hi + 1]) > limit:
            return over
        prev = cur
    return prev[-1]


def near_words(reader: IndexReader, word: str, maxdist: int) -> list[tuple[int, str]]:
    """``(edits, word)`` for indexed words within ``maxdist`` edits of ``word``, closest first."""
    if SPELL_FIELD not in reader.schema or len(word) <= PREFIX_CHARS:
        return []
    out = []
    for i, btext in enumerate(reader.expand_prefix(SPELL_FIELD, word[:PREFIX_CHARS])):
        if i >= MAX_SCANNED:
            break
        cand = btext.decode("utf-8")
        if cand == word or abs(len(cand) - len(word)) > maxdist:
            continue
        d = bounded_distance(word, cand, maxdist)
        if d <= maxdist:
            out.append((d, cand))
    out.sort()
    return out
