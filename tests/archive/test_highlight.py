"""archive.highlight: which words of a passage a query marks, and what that costs."""

from __future__ import annotations

from pathlib import Path

import pytest

from poddarkiv.archive import highlight
from poddarkiv.archive.analysis import analyze_word, new_splitter, tokenize
from poddarkiv.archive.highlight import Marker

DATA = Path(__file__).parents[1] / "data"


def marked(marker: Marker, text: str) -> list[str]:
    return [text[a:b] for a, b in marker.spans(text)]


def test_a_word_is_marked_by_its_stem_a_compound_part_or_a_prefix() -> None:
    text = "Stödet till föreningar, statsstöd och stödjande insatser."
    assert marked(Marker({"stöd"}), text) == ["Stödet", "statsstöd"]
    assert marked(Marker(set(), ["stödj"]), text) == ["stödjande"]
    assert marked(Marker({"regl"}), "Regler och upphandlingsregler, regelbundet.") == [
        "Regler", "upphandlingsregler"]


def test_stop_words_are_marked_only_when_the_query_has_nothing_else() -> None:
    text = "Det är och blir stöd."
    assert marked(Marker({"och", "stöd"}), text) == ["stöd"]
    assert marked(Marker({"och"}), text) == ["och"]
    assert marked(Marker(set()), text) == []


def test_a_new_word_is_analysed_only_when_a_wanted_stem_occurs_in_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    analysed: list[str] = []
    real = highlight.token_info

    def spy(raw: str, splitter: object) -> object:
        analysed.append(raw)
        return real(raw, splitter)  # type: ignore[arg-type]

    monkeypatch.setattr(highlight, "token_info", spy)
    # Made-up words, so that no other test has analysed them already.
    marker = Marker({"zqupphandl"})
    text = "Qwertyord om zqupphandlande, qwertyzyx och zqupphandlingsxyz."
    assert marked(marker, text) == ["zqupphandlande"]
    assert "Qwertyord" not in analysed and "qwertyzyx" not in analysed
    assert [w for w in analysed if w.startswith("zq")] == ["zqupphandlande", "zqupphandlingsxyz"]


def test_every_stem_and_part_of_a_word_occurs_in_the_word() -> None:
    # What the shortcut above rests on: stemming cuts endings and compounds split into pieces.
    splitter = new_splitter()
    texts = [p.read_text(encoding="utf-8") for p in (DATA / "relevance").rglob("*")
             if p.is_file() and p.suffix in {".vtt", ".txt", ".json"}]
    words = {w for t in texts for w, _, _ in tokenize(t)}
    splitter.add_words(words)
    assert len(words) > 1_000
    for word in words:
        info = analyze_word(word, splitter=splitter)
        assert info.word.startswith(info.stem), word
        assert all(part in info.word for part in info.parts), word


@pytest.mark.parametrize("text", [
    "Stödet till föreningar, statsstöd och stödjande insatser.",
    "EU:s stöd, stöd:s och a:b:stöd; stöd:stöd och ett _stöd_ eller 2024stöd.",
    "Idéburna Stödföreningar och Straße-stöd, ça stöd, İstanbulstöd.",
    "Stödet\nstöd\tSTÖD stöd… «stöd» stöd-stöd",
])
def test_a_text_is_marked_alike_whether_or_not_it_folds_in_place(text: str) -> None:
    # The fast path searches the folded text for wanted pieces; the slow path judges every
    # token. Both must mark the same words.
    fast = Marker({"stöd", "stödj"}, ["före"])
    slow = Marker({"stöd", "stödj"}, ["före"])
    slow._occurrences = None
    assert fast.spans(text) == slow.spans(text)
    assert fast.spans(text)
