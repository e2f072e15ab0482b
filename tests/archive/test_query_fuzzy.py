"""Near spellings: a typo and an inflection ending together still find the word."""

from __future__ import annotations

from pathlib import Path

from poddarkiv.archive.analysis import stem
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.query.fuzzy import near_inflected, near_words
from tests.archive.test_query_compile import found, one_line_episode

VOCABULARY = ["kollektivavtalet", "kollektivet", "fjärrvärmens", "fjärran", "värme", "avtalet"]


def test_a_typo_and_an_ending_are_too_far_apart_as_typed() -> None:
    assert near_words(VOCABULARY, "kolektivavtal", 2) == []


def test_a_typo_and_an_ending_are_near_between_stems() -> None:
    assert near_inflected(VOCABULARY, "kolektivavtal", 2, stem) == ["kollektivavtalet"]
    assert near_inflected(VOCABULARY, "fjärvärme", 2, stem) == ["fjärrvärmens"]


def test_words_near_as_typed_are_left_to_near_words() -> None:
    assert near_inflected(["kollektivavtal", "kollektivavtalet"], "kolektivavtal", 2, stem) \
        == ["kollektivavtalet"]


def test_a_misspelt_word_finds_the_inflected_form_the_transcript_holds(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many([
            one_line_episode("avtal", "Lön och arbetstid som motsvarar kollektivavtalet."),
            one_line_episode("annat", "Lön och arbetstid diskuterades inte alls."),
        ])
        assert found(ix, "kolektivavtal lön") == {"avtal"}
