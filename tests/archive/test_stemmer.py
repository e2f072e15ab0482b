"""archive.stemmer: the same stems as Whoosh's Swedish Snowball stemmer, word for word."""

from __future__ import annotations

import random

import pytest
from whoosh.lang.snowball.swedish import SwedishStemmer

from poddarkiv.archive.compounds import shipped_stems
from poddarkiv.archive.stemmer import swedish_stem

#: Every ending a step of the algorithm looks at, and the inflections queries add.
ENDINGS = ("", "heterna", "hetens", "heter", "heten", "anden", "arnas", "ernas", "ornas",
           "andes", "andet", "arens", "arna", "erna", "orna", "ande", "arne", "aste", "aren",
           "ades", "erns", "ade", "are", "ern", "ens", "het", "ast", "ad", "en", "ar", "er",
           "or", "as", "es", "at", "a", "e", "s", "et", "n", "na", "ing", "lig", "ligt", "ig",
           "els", "fullt", "löst", "dd", "gd", "nn", "dt", "gt", "kt", "tt", "ts", "os")


def test_the_shipped_words_with_every_ending_stem_as_whoosh_stems_them() -> None:
    whoosh = SwedishStemmer().stem
    words = [w + e for w in sorted(shipped_stems())[::40] for e in ENDINGS]
    assert len(words) > 400_000
    assert [w for w in words if swedish_stem(w) != whoosh(w)] == []


def test_random_letter_strings_stem_as_whoosh_stems_them() -> None:
    whoosh = SwedishStemmer().stem
    rng = random.Random(5)
    words = ["".join(rng.choice("aeiouyäåöbdfgklmnrstv") for _ in range(rng.randint(1, 12)))
             for _ in range(50_000)]
    assert [w for w in words if swedish_stem(w) != whoosh(w)] == []


@pytest.mark.parametrize(("word", "stem"), [
    ("upphandlingarna", "upphandling"), ("föreningens", "förening"), ("regler", "regl"),
    ("möjligheterna", "möj"), ("hus", "hus"), ("", ""), ("STÖDET", "stödet"),
    ("ärligt", "ärl"), ("kraftfullt", "kraftfull"), ("problemlöst", "problemlös"),
])
def test_known_stems(word: str, stem: str) -> None:
    assert swedish_stem(word) == stem
