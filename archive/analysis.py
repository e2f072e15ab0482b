"""Swedish text analysis for the index and for queries.

Built on what ``whoosh.analysis.LanguageAnalyzer("sv")`` does (Snowball Swedish stemming, the
Snowball stop list) with four changes:

* **Stop words stay in the index.** Positions are kept for every word, so phrase queries made of
  stop words (``"inte det"``, ``"och så"``) still match; queries drop stop words from plain
  word lists instead (:mod:`~poddarkiv.archive.query.compile`).
* **Accents fold** (``é`` → ``e``: ``idéburen`` = ``ideburen``), while ``å``, ``ä`` and ``ö`` are
  letters of their own. ``æ``/``ø`` fold to ``ä``/``ö`` for Danish and Norwegian names.
* **Compounds** are split by :class:`~poddarkiv.archive.compounds.CompoundSplitter` and their
  parts indexed at the compound's position, so ``regler`` finds ``upphandlingsregler``.
* **Genitive after a colon** (``EU:s``, ``LOU:n``) is dropped: the word is ``eu``.

Stemming is cached: the Snowball stemmer is pure Python and dominates indexing time otherwise.
A query word's inflections and derivations (its family) are :mod:`~poddarkiv.archive.families`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from whoosh.lang.stopwords import stoplists

from poddarkiv.archive.compounds import CompoundSplitter, shipped_stems
from poddarkiv.archive.stemmer import swedish_stem

__all__ = [
    "STOP_WORDS",
    "TOKEN_PATTERN",
    "WordInfo",
    "analyze_word",
    "default_splitter",
    "fold",
    "fold_aligned",
    "new_splitter",
    "spellable",
    "spelling_words",
    "stem",
    "token_info",
    "token_infos",
    "token_word",
    "tokenize",
    "word_of",
]

#: Words with an optional ``:suffix`` (``EU:s``); the suffix is dropped by the filter.
TOKEN_PATTERN = re.compile(r"\w+(?::\w+)?")
#: Snowball's Swedish stop list (114 words), as Whoosh ships it.
STOP_WORDS: frozenset[str] = frozenset(stoplists["sv"])
#: Particles and prefixes that form lexicalised words (``framställning``) and are never parts.
_PARTICLES = frozenset({
    "fram", "bort", "ner", "genom", "före", "hem", "kring", "bak", "emot", "inne", "sam", "miss",
    "fort", "iväg", "ute", "uppe", "nere", "borta", "hemma", "samman", "tillbaka", "ihop", "isär",
    "förbi", "omkring", "bakom", "framför", "ovan", "utom", "inför", "ombord", "ifrån",
})
#: Stems cached before the cache is cleared (a large vocabulary is ~200k words).
STEM_CACHE_SIZE = 500_000

# The common accents at C speed; the rest go through Unicode decomposition.
_ACCENTS = dict(zip("éèêëáàâãíìîïóòôõúùûüýæø", "eeeeaaaaiiiioooouuuuyäö", strict=True))
_FOLD = str.maketrans({**_ACCENTS, "ß": "ss"})
_FOLD_CASED = str.maketrans({**_ACCENTS, **{k.upper(): v.upper() for k, v in _ACCENTS.items()},
                             "ß": "ss"})
_KEEP = frozenset("åäöÅÄÖ")
#: Definite endings Snowball leaves on (after it took a genitive s, or after -or/-er).
_DEFINITE_ENDINGS = ("et", "an", "n")
_MIN_DEFINITE_STEM = 4
_STEM_CACHE: dict[str, str] = {}


def fold(text: str, *, lower: bool = True) -> str:
    """Lowercase (unless ``lower=False``) and fold accents, keeping å, ä and ö:
    ``Idéburet`` → ``ideburet``.

    Every other letter loses its marks (``ç``, ``ñ``, ``ž``, ``ł``…), ``æ``/``ø`` become
    ``ä``/``ö`` (Danish and Norwegian names) and ``ß`` becomes ``ss``. The one fold of the
    archive: the index, queries, themes and key terms all use it.
    """
    folded = text.lower().translate(_FOLD) if lower else text.translate(_FOLD_CASED)
    if folded.isascii():
        return folded
    folded = unicodedata.normalize("NFC", folded)
    return "".join(ch if ch.isascii() or ch in _KEEP else _strip_marks(ch) for ch in folded)


def fold_aligned(text: str) -> str | None:
    """:func:`fold` of ``text`` when every character folds to exactly one without Unicode
    decomposition (each word then sits at the same place in both), else ``None``. That is the
    common case of Swedish text, where a caller may search the folded text once instead of
    folding it word by word."""
    folded = text.lower()
    if len(folded) == len(text) and (folded.isascii() or _ONLY_KEPT.fullmatch(folded)):
        return folded  # nothing to translate (a table look-up per character costs more)
    folded = folded.translate(_FOLD)
    if len(folded) != len(text) or not _ONLY_KEPT.fullmatch(folded):
        return None
    return folded


#: Text whose only non-ASCII letters are the ones :func:`fold` keeps.
_ONLY_KEPT = re.compile(r"[\x00-\x7f\xe5\xe4\xf6]*")


def _strip_marks(ch: str) -> str:
    base = unicodedata.normalize("NFD", ch)
    return "".join(c for c in base if not unicodedata.combining(c)) or ch


def stem(word: str) -> str:
    """The Swedish stem of a lowercase, folded word (cached).

    Snowball's, plus a step it lacks: a definite ending it left (``-et``, ``-an``, ``-n``) goes
    when what is left is a known word: ``partnerskapet`` → ``partnerskap``, ``skolans`` →
    ``skol``, ``sponsorn`` → ``spons`` (as ``sponsor``).
    """
    hit = _STEM_CACHE.get(word)
    if hit is None:
        if len(_STEM_CACHE) >= STEM_CACHE_SIZE:
            _STEM_CACHE.clear()
        hit = _STEM_CACHE[word] = _definite_off(swedish_stem(word))
    return hit


@functools.lru_cache(maxsize=STEM_CACHE_SIZE)
def _definite_off(snowball: str) -> str:
    """Snowball's stem without a definite ending it left (see :func:`stem`); cached by that
    stem, which a word's inflected forms share (some five forms a stem, 0.6 µs each)."""
    for ending in _DEFINITE_ENDINGS:
        if snowball.endswith(ending) and len(snowball) - len(ending) >= _MIN_DEFINITE_STEM:
            shorter = swedish_stem(snowball[:-len(ending)])
            if len(shorter) >= _MIN_DEFINITE_STEM and shorter in shipped_stems():
                return str(shorter)
    return snowball


def word_of(raw: str) -> str:
    """A raw token as a folded word, without a genitive after a colon."""
    word = fold(raw)
    colon = word.find(":")
    return word[:colon] if colon > 0 else word


def tokenize(text: str) -> Iterator[tuple[str, int, int]]:
    """``(folded word, start char, end char)`` for each word of ``text``."""
    for m in TOKEN_PATTERN.finditer(text):
        yield token_word(m.group()), m.start(), m.end()


def token_word(raw: str) -> str:
    """:func:`word_of` for a raw token, cached (highlighting folds every word it shows)."""
    word = _WORD_CACHE.get(raw)
    if word is None:
        if len(_WORD_CACHE) >= STEM_CACHE_SIZE:
            _WORD_CACHE.clear()
        word = _WORD_CACHE[raw] = word_of(raw)
    return word


#: Raw token → folded word, for :func:`tokenize` (highlighting tokenizes every passage shown).
_WORD_CACHE: dict[str, str] = {}


def spellable(word: str) -> bool:
    """Whether "Menade du …?" may suggest ``word`` (no stop words, no numbers)."""
    return _spellable(word)


def _spellable(word: str) -> bool:
    return word not in STOP_WORDS and not word.isdigit()


def spelling_words(texts: Iterable[str]) -> set[str]:
    """The distinct folded, unstemmed words of ``texts`` that "Menade du …?" may suggest.

    Stop words and numbers are left out. These are the words the analyzer yields with
    ``no_morph``.
    """
    words = {word_of(m) for text in texts for m in TOKEN_PATTERN.findall(text)}
    return {w for w in words if _spellable(w)}


_SPLITTER: CompoundSplitter | None = None


def new_splitter() -> CompoundSplitter:
    """A splitter over the shipped word list, ready to learn an index's own vocabulary."""
    return CompoundSplitter(shipped_stems(), stem=stem, stops=STOP_WORDS | _PARTICLES)


def default_splitter() -> CompoundSplitter:
    """The process-wide splitter over the shipped word list only (loaded on first use)."""
    global _SPLITTER
    if _SPLITTER is None:
        _SPLITTER = new_splitter()
    return _SPLITTER


@dataclass(frozen=True, slots=True)
class WordInfo:
    """How the index sees one query word."""

    word: str
    stem: str
    is_stop: bool
    #: Stems of the compound's parts, ``()`` when the word is not a compound.
    parts: tuple[str, ...] = ()


def analyze_word(word: str, *, splitter: CompoundSplitter | None = None) -> WordInfo:
    """Analyse one folded query word as the index analysed it (cached per splitter state)."""
    splitter = splitter or default_splitter()
    key = (word, id(splitter), splitter.version)
    hit = _INFO_CACHE.get(key)
    if hit is None:
        folded = word_of(word)
        parts = tuple(stem(p) for p in splitter.split(folded))
        hit = WordInfo(folded, stem(folded), folded in STOP_WORDS, parts)
        if len(_INFO_CACHE) >= STEM_CACHE_SIZE:
            _INFO_CACHE.clear()
        _INFO_CACHE[key] = hit
    return hit


#: ``(word, splitter id, splitter version)`` → analysis; highlighting asks for every word shown.
_INFO_CACHE: dict[tuple[str, int, int], WordInfo] = {}


def token_info(raw: str, splitter: CompoundSplitter) -> WordInfo:
    """:func:`analyze_word` of a raw token (``EU:s``, ``Idéburna``), cached by the raw token
    for the splitter's current state (:func:`token_infos` is the cache, for loops)."""
    infos = token_infos(splitter)
    hit = infos.get(raw)
    if hit is None:
        if len(infos) >= STEM_CACHE_SIZE:
            infos.clear()
        hit = infos[raw] = analyze_word(token_word(raw), splitter=splitter)
    return hit


def token_infos(splitter: CompoundSplitter) -> dict[str, WordInfo]:
    """Raw token → :func:`token_info`, for the splitter's current state; read it, never write
    it. Highlighting looks up every word of every passage it shows: one look-up here costs a
    fraction of folding and analysing the word again."""
    state = (id(splitter), splitter.version)
    if _RAW_STATE[0] != state:
        _RAW_INFO.clear()
        _RAW_STATE[0] = state
    return _RAW_INFO


_RAW_INFO: dict[str, WordInfo] = {}
_RAW_STATE: list[tuple[int, int] | None] = [None]
