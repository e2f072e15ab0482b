"""Numbers as digits and as Swedish words: ``2014`` is ``tjugohundrafjorton``, ``18:e`` ``artonde``.

People type digits; a publisher's transcript, and often speech recognition, spells numbers out
as one word (Swedish writes ``fyrahundrafemtio``, ``sjuhundratusen``). The other way round, a
listener who heard ``trehundratusen`` may type it while the transcript says ``300 000``. The
compiler asks this module for the other spellings of a number word and matches them all.

Only whole numbers below a million are spelled (larger ones are said in two words, ``tio
miljoner``, which the query already holds as words).
"""

from __future__ import annotations

import functools
import re

__all__ = [
    "MAX_SPELLED",
    "cardinal_words",
    "digit_groups",
    "is_digits",
    "number_value",
    "ordinal_words",
    "parse_ordinal",
]

#: Numbers from here on are not spelled as one word.
MAX_SPELLED = 1_000_000
#: Ordinals are spelled up to here (dates, chapters, paragraphs, places).
MAX_ORDINAL = 99

_ONES = ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio", "elva",
         "tolv", "tretton", "fjorton", "femton", "sexton", "sjutton", "arton", "nitton")
_TENS = ("", "", "tjugo", "trettio", "fyrtio", "femtio", "sextio", "sjuttio", "åttio", "nittio")
_ORDINAL_ONES = ("", "första", "andra", "tredje", "fjärde", "femte", "sjätte", "sjunde",
                 "åttonde", "nionde", "tionde", "elfte", "tolfte", "trettonde", "fjortonde",
                 "femtonde", "sextonde", "sjuttonde", "artonde", "nittonde")
#: ``1:a``, ``2:a``, ``18:e``, ``3e``: digits with the ordinal ending (a or e), colon optional.
_ORDINAL_TOKEN = re.compile(r"([0-9]{1,2}):?[ae]")
#: The words a spelled number is made of, longest first so that ``sjuttio`` is not ``sju``+….
_PIECES = sorted({*_ONES, *_TENS[2:], "en", "hundra", "tusen"}, key=len, reverse=True)


def _below_thousand(n: int) -> list[str]:
    """Spellings of ``0 < n < 1000``: ``ett``/``en``, ``hundra``/``etthundra``."""
    if n < 20:
        return ["ett", "en"] if n == 1 else [_ONES[n]]
    if n < 100:
        rest = _below_thousand(n % 10) if n % 10 else [""]
        return [_TENS[n // 10] + r for r in rest]
    heads = ["hundra", "etthundra"] if n // 100 == 1 else [_ONES[n // 100] + "hundra"]
    rest = _below_thousand(n % 100) if n % 100 else [""]
    return [h + r for h in heads for r in rest]


def is_digits(word: str) -> bool:
    """Whether ``word`` is a number in the digits 0-9 (not ``²`` or other Unicode digits)."""
    return word.isascii() and word.isdigit()


@functools.lru_cache(maxsize=4096)
def cardinal_words(n: int) -> tuple[str, ...]:
    """How ``n`` is written as one Swedish word, commonest first: ``2014`` → ``tvåtusenfjorton``,
    ``tjugohundrafjorton`` (years are said in hundreds); ``()`` outside ``1..999 999``."""
    if not 0 < n < MAX_SPELLED:
        return ()
    if n < 1000:
        return tuple(_below_thousand(n))
    thousands = ["tusen", "ettusen"] if n // 1000 == 1 else _below_thousand(n // 1000)
    rest = _below_thousand(n % 1000) if n % 1000 else [""]
    out = [t + ("tusen" if n // 1000 > 1 else "") + r for t in thousands for r in rest]
    if n < 10_000 and n // 100 % 10:
        # 1 900 = nittonhundra, 2 014 = tjugohundrafjorton, 1 500 = femtonhundra
        tail = _below_thousand(n % 100) if n % 100 else [""]
        out += [h + "hundra" + t for h in _below_thousand(n // 100) for t in tail]
    elif 2000 < n < 2100:
        out += ["tjugohundra" + t for t in _below_thousand(n % 100)]
    return tuple(dict.fromkeys(out))


@functools.lru_cache(maxsize=1024)
def ordinal_words(n: int) -> tuple[str, ...]:
    """``n`` as a Swedish ordinal: ``1`` → ``första``, ``21`` → ``tjugoförsta``; ``()`` past 99."""
    if not 0 < n <= MAX_ORDINAL:
        return ()
    if n < 20:
        return (_ORDINAL_ONES[n],)
    if n % 10 == 0:
        return (_TENS[n // 10] + "nde",)
    return (_TENS[n // 10] + _ORDINAL_ONES[n % 10],)


def parse_ordinal(raw: str) -> int | None:
    """The number of an ordinal typed with digits (``18:e``, ``1:a``, ``3e``), else ``None``."""
    m = _ORDINAL_TOKEN.fullmatch(raw)
    return int(m.group(1)) if m and int(m.group(1)) > 0 else None


@functools.lru_cache(maxsize=65_536)
def number_value(word: str) -> int | None:
    """The value of a number spelled as one word (``sjuhundratusen`` → 700 000), else ``None``.

    Only words that spell a number the way :func:`cardinal_words` writes it count
    (``tiotal`` is not a number); ``en`` and ``ett`` are articles far more often than ones.
    """
    if word in ("en", "ett") or not word.isalpha() or word[0] not in _FIRST_LETTERS:
        return None
    pieces = _pieces(word)
    if pieces is None:
        return None
    value = _value(pieces)
    return value if value and word in cardinal_words(value) else None


_FIRST_LETTERS = frozenset(p[0] for p in _PIECES)


def _pieces(word: str) -> list[str] | None:
    """The word cut into number words, trying longer pieces first (``ettusen`` is ``ett`` +
    ``tusen`` sharing a t, as Swedish writes it)."""
    if not word:
        return []
    for piece in _PIECES:
        if word.startswith(piece):
            rest = _pieces(word[len(piece):])
            if rest is not None:
                return [piece, *rest]
    if word.startswith("ettusen"):
        return ["ett", "tusen", *(_pieces(word[7:]) or [])] if _pieces(word[7:]) is not None \
            else None
    return None


def _value(pieces: list[str]) -> int:
    """The number the pieces say: hundra and tusen multiply what came before them."""
    total, current = 0, 0
    for piece in pieces:
        if piece == "tusen":
            total += (current or 1) * 1000
            current = 0
        elif piece == "hundra":
            current = (current or 1) * 100
        else:
            small = 1 if piece == "en" else (_ONES.index(piece) if piece in _ONES
                                             else _TENS.index(piece) * 10)
            current += small
    return total + current


#: Swedish groups the thousands of numbers from here on with a space (``300 000``, but ``2014``).
MIN_GROUPED = 10_000


def digit_groups(n: int) -> tuple[str, ...]:
    """``n`` as a transcript writes it in digits, one word, or thousands grouped by a space and
    so indexed as consecutive words: ``300000`` → ``("300", "000")``, ``2014`` → ``("2014",)``."""
    if n < MIN_GROUPED:
        return (str(n),)
    return tuple(f"{n:,}".split(","))
