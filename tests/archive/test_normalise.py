"""Text normalisation: accents fold except å, ä and ö; slugs are ASCII; show notes lose HTML."""

from __future__ import annotations

import pytest

from poddarkiv.archive.normalise import fold, slugify, words


@pytest.mark.parametrize(("text", "folded"), [
    ("Idéburet", "ideburet"),
    ("Åsa Ärlig Östlund", "åsa ärlig östlund"),
    ("Müller og Søren Æbelø", "muller og sören äbelö"),
])
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_fold_can_keep_case() -> None:
    assert fold("LOU och Idé", lower=False) == "LOU och Ide"


def test_words_split_on_hyphens_and_colons() -> None:
    assert words("IOP-avtalet enligt EU:s regler") == ["iop", "avtalet", "enligt", "eu", "s",
                                                       "regler"]


@pytest.mark.parametrize(("text", "slug"), [
    ("Förvaltningsrätten i Göteborg", "forvaltningsratten-i-goteborg"),
    ("Mål C-113/13", "mal-c-113-13"),
    ("  Anna  Andersson ", "anna-andersson"),
])
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug
