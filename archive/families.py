"""Word families for searching: the stems of a word's inflections and of its derivations.

Snowball stems some forms of one word apart (``regel``/``regler``, ``ljudbok``/``ljudböcker``,
``ersatt``/``ersättning``), and a reader treats a verb and its nouns as one topic
(``upphandla``/``upphandling``, ``rapport``/``rapportera``). The query compiler
(:mod:`~poddarkiv.archive.query.compile`) looks each word's family up here and keeps the stems
the index holds: inflections count as the word itself, derivations weigh less. Only queries
are expanded; the index keeps plain stems (:func:`~poddarkiv.archive.analysis.stem`).
"""

from __future__ import annotations

import functools

from poddarkiv.archive.analysis import stem

__all__ = ["derived_stems", "inflection_stems"]

#: Endings tried on a query word, because Snowball stems some forms of a word differently
#: (``entreprenad`` → ``entrepren`` but ``entreprenader`` → ``entreprenad``).
_INFLECTIONS = ("", "er", "ar", "or", "en", "et", "s", "a", "e", "n", "na", "erna", "arna")
_CONSONANTS = frozenset("bcdfghjklmnpqrstvwxz")
#: Derivations of one verb or noun that a reader treats as the same topic: ``upphandla``,
#: ``upphandling``, ``upphandlande``, ``upphandlad``, ``upphandlare``.
_DERIVATIONS = ("", "a", "ing", "ingar", "ning", "ande", "ad", "ade", "at", "are")
#: Endings that make a noun of a verb (``upphandl|ing``, ``organis|ation`` from ``organisera``).
_NOUN_ENDINGS = (("ning", ""), ("ing", ""), ("ation", "er"))
#: What a noun takes before the -a of its -era verb (``rapport`` → ``rapport|er|a``).
_VERB_ER = "er"
#: Stem endings of the strong verb sätta's participle (``ersat``), infinitive (``ersät``) and
#: noun (``ersättning``), each with the words of the other two.
_STRONG_STEMS = (("sat", ("sätta", "sättning")), ("sät", ("satt", "sättning")),
                 ("sättning", ("satt", "sätta")))
#: Only after a prefix or a first part: ``satt`` alone is also the past of ``sitta``.
_MIN_STRONG_HEAD = 2
#: Stems this long or longer get the e of -el/-er/-en back after two consonants (``enkl``).
_MIN_RESTORED_E_STEM = 4
#: Roots shorter than this are not derived from (``handl`` would bridge handla and handling).
_MIN_DERIVATION_ROOT = 6
#: The place or trade of an activity: ``tvätt`` → ``tvätteri``, ``tryck`` → ``tryckeri``.
_PLACE_ENDING = "eri"
#: Roots shorter than this take no ``-eri`` (``gall`` and ``galleri`` are not one family).
_MIN_PLACE_ROOT = 5
#: Nouns whose plural changes the vowel, so that Snowball stems the two apart (``ljudbok``,
#: ``ljudböcker``): the last part of a compound, singular → plural.
_UMLAUT_PLURALS = {
    "bok": "böcker", "fot": "fötter", "rot": "rötter", "natt": "nätter", "land": "länder",
    "tand": "tänder", "son": "söner", "bonde": "bönder", "ledamot": "ledamöter",
    "strand": "stränder", "brand": "bränder", "stad": "städer", "hand": "händer",
    "man": "män", "bror": "bröder", "dotter": "döttrar",
}
_UMLAUT_ENDINGS = tuple({e for s, p in _UMLAUT_PLURALS.items() for e in (s, p, p + "na")})
#: Of these, the ones whose other form alone is another common word (``händer`` "happens",
#: ``städer``/``städa``, ``bröder``/``bröd``) change only as the last part of a compound.
_UMLAUT_IN_COMPOUNDS_ONLY = frozenset({"stad", "hand", "man", "bror"})
#: A compound's first part is at least this long (``storstad``, ``ljudbok``).
_MIN_UMLAUT_HEAD = 3


def _e_forms(word: str) -> set[str]:
    """The word with the unstressed e of -el/-er/-en dropped or restored.

    Swedish drops it before an ending (``regel`` → ``regler``, ``nyckel`` → ``nycklar``), and
    Snowball leaves the two forms with different stems (``regel``, ``regl``).
    """
    out = {word}
    if len(word) >= 5 and word[-2] == "e" and word[-1] in "lrn" and word[-3] in _CONSONANTS:
        out.add(word[:-2] + word[-1])
    if len(word) >= 4 and word[-1] in "lrn" and word[-2] in _CONSONANTS \
            and word[-3] not in _CONSONANTS:
        out.add(word[:-1] + "e" + word[-1])
    return out


def _umlaut_forms(word: str) -> set[str]:
    """The word in the other number when it ends in a noun with an umlaut plural:
    ``ljudbok`` → ``ljudböcker``, ``ljudböcker``/``ljudböckerna`` → ``ljudbok``."""
    out: set[str] = set()
    if not word.endswith(_UMLAUT_ENDINGS):  # one test in C for the common case
        return out
    for singular, plural in _UMLAUT_PLURALS.items():
        for have, other in ((singular, plural), (plural, singular), (plural + "na", singular)):
            if not word.endswith(have):
                continue
            head = word[:-len(have)]
            if len(head) >= _MIN_UMLAUT_HEAD or \
                    (not head and singular not in _UMLAUT_IN_COMPOUNDS_ONLY):
                out.add(head + other)
    return out


@functools.lru_cache(maxsize=65_536)
def inflection_stems(word: str) -> frozenset[str]:
    """Stems of a folded word's likely inflected forms, its own stem included (cached: a query
    word asks for some fifty stems, a third of compiling a one-word query)."""
    base = stem(word)
    forms = _e_forms(word) | _e_forms(base) | _umlaut_forms(word)
    return frozenset(stem(x + ending) for x in forms for ending in _INFLECTIONS)


@functools.lru_cache(maxsize=65_536)
def derived_stems(word: str) -> frozenset[str]:
    """Stems of the word's derivational family (``upphandling`` → ``upphandl``, the stem of
    ``upphandla``/``upphandlande``/``upphandlad``), its inflections excluded."""
    base = stem(word)
    roots = {base}
    for ending, replacement in _NOUN_ENDINGS:
        if base.endswith(ending):
            roots.add(base[:-len(ending)] + replacement)
    roots = {r for r in roots if len(r) >= _MIN_DERIVATION_ROOT}
    found = {stem(r + ending) for r in roots for ending in _DERIVATIONS}
    found |= _place_family(base) | _era_family(roots) | _strong_family(base)
    found |= _restored_e(base)
    return frozenset(found - inflection_stems(word))


def _restored_e(base: str) -> frozenset[str]:
    """The inflections of the word with the e of -el/-er/-en put back between two consonants
    and the last letter: ``nycklar``/``cirklar``/``exemplen``/``enkla`` → ``nyckel``,
    ``cirkel``, ``exempel``, ``enkel``. :func:`_e_forms` does not (it would also make
    ``handel`` of ``handla``), so these count as derived, not as the same word."""
    if len(base) < _MIN_RESTORED_E_STEM or base[-1] not in "lrn" or \
            base[-2] not in _CONSONANTS or base[-3] not in _CONSONANTS:
        return frozenset()
    return inflection_stems(base[:-1] + "e" + base[-1])


def _strong_family(base: str) -> set[str]:
    """A strong verb's participle, infinitive and noun, whose vowels differ so that Snowball
    stems them apart: ``ersatt``/``ersatta`` ↔ ``ersätta`` ↔ ``ersättning``
    (``nedsatt``, ``översatt``, ``tillsatt``, ``funktionsnedsatta`` alike)."""
    for ending, others in _STRONG_STEMS:
        head = base[:-len(ending)]
        if base.endswith(ending) and len(head) >= _MIN_STRONG_HEAD:
            return {stem(head + other) for other in others}
    return set()


def _era_family(roots: set[str]) -> set[str]:
    """A noun and the verb made of it with -era, both ways: ``rapport`` → ``rapportera``,
    ``rapportering`` (whose forms have those two stems); ``rapportera``/``rapportering`` →
    ``rapport``; ``kontroll`` ↔ ``kontrollera``."""
    out: set[str] = set()
    for root in roots:
        if not root.endswith(_VERB_ER):
            out |= {stem(root + _VERB_ER + "a"), stem(root + _VERB_ER + "ing")}
        elif len(root) - len(_VERB_ER) >= _MIN_DERIVATION_ROOT:
            out.add(stem(root[:-len(_VERB_ER)]))
    return out


def _place_family(base: str) -> set[str]:
    """``tvätt`` ↔ ``tvätteri`` (the stems of the activity and of its place or trade)."""
    if base.endswith(_PLACE_ENDING) and len(base) - len(_PLACE_ENDING) >= _MIN_PLACE_ROOT:
        root = base[:-len(_PLACE_ENDING)]
        return {stem(root + ending) for ending in ("", "a", "ning")}
    # No Snowball ending ends in i, so the stem of tvätteri is tvätteri: no stemming needed.
    return {base + _PLACE_ENDING} if len(base) >= _MIN_PLACE_ROOT else set()
