"""Text normalisation: accents fold except å, ä and ö; slugs are ASCII; show notes lose HTML."""

from __future__ import annotations

import pytest

from poddarkiv.archive.normalise import fold, html_to_text, plain_text, slugify, words


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


def test_plain_text_keeps_inline_words_together() -> None:
    assert plain_text("<p>Om <b>LOU</b>.</p><p>Och &amp; mer</p>") == "Om LOU. Och & mer"


def test_html_to_text_keeps_blocks_as_lines_and_leaves_scripts_out() -> None:
    markup = ("<h2>Avsnitt 3</h2><p>Om <i>LOU</i>&nbsp;och IOP.</p><script>x()</script>"
              "<ul><li>A</li><li>B</li></ul>")
    assert html_to_text(markup).splitlines() == ["Avsnitt 3", "", "Om LOU och IOP.", "", "A", "",
                                                 "B"]


def test_text_without_markup_is_only_unescaped() -> None:
    assert html_to_text("Fråga &amp; svar\nrad två") == "Fråga & svar\nrad två"
