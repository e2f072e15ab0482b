"""Swedish analysis: folding, stemming, stop words, compounds and synonyms."""

from __future__ import annotations

import pickle

import pytest

from poddarkiv.archive.analysis import (
    STOP_WORDS,
    analyze_word,
    default_splitter,
    fold,
    fold_aligned,
    spelling_words,
    stem,
    tokenize,
)
from poddarkiv.archive.compounds import CompoundSplitter, shipped_stems
from poddarkiv.archive.index.analyzer import SwedishAnalyzer
from poddarkiv.archive.query.synonyms import Synonyms, load_synonyms


def _index_tokens(text: str) -> list[tuple[str, int]]:
    return [(t.text, t.pos) for t in SwedishAnalyzer()(text, positions=True, mode="index")]


# -- folding and tokens ----------------------------------------------------------------------


def test_e_acute_folds_but_a_ring_a_umlaut_o_umlaut_stay() -> None:
    assert fold("Idéburet") == "ideburet"
    assert fold("ÅÄÖ åäö") == "åäö åäö"
    assert stem(fold("idéburen")) == stem("ideburen")


@pytest.mark.parametrize("text", ["Idéburet Offentligt", "ÅÄÖ åäö", "EU:s stöd", "Kelvin \u212a"])
def test_text_that_folds_in_place_folds_as_fold_does(text: str) -> None:
    assert fold_aligned(text) == fold(text)
    assert len(fold(text)) == len(text)


@pytest.mark.parametrize("text", ["Straße", "Ça va", "İstanbul", "Σοφία", "cafe\u0301"])
def test_text_that_does_not_fold_in_place_says_so(text: str) -> None:
    assert fold_aligned(text) is None


def test_genitive_after_a_colon_is_dropped() -> None:
    assert [w for w, _, _ in tokenize("EU:s regler och LOU:n")] == ["eu", "regler", "och", "lou"]


def test_tokens_keep_their_character_offsets() -> None:
    text = "Hej, Alingsås!"
    assert [(w, text[a:b]) for w, a, b in tokenize(text)] == [("hej", "Hej"),
                                                              ("alingsås", "Alingsås")]


# -- stemming ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("partnerskapet", "partnerskap"),   # Snowball leaves the neuter definite -et
    ("skolans", "skola"),               # ... and the definite -an after a genitive s
    ("sponsorn", "sponsor"),
    ("kommunerna", "kommun"),
    ("upphandlingar", "upphandling"),
])
def test_inflected_forms_share_a_stem(a: str, b: str) -> None:
    assert stem(a) == stem(b)


# -- stop words and positions ----------------------------------------------------------------


def test_stop_words_are_indexed_with_their_positions() -> None:
    tokens = _index_tokens("inte det enklaste")
    assert (stem("inte"), 0) in tokens and (stem("det"), 1) in tokens
    assert {"inte", "det", "och", "så"} <= STOP_WORDS


def test_analyze_word_says_when_a_word_is_a_stop_word() -> None:
    assert analyze_word("och").is_stop
    assert not analyze_word("partnerskap").is_stop


# -- compounds --------------------------------------------------------------------------------


@pytest.mark.parametrize(("word", "parts"), [
    ("upphandlingsregler", ("upphandling", "regler")),
    ("upphandlingsreglerna", ("upphandling", "reglerna")),
    ("förvaltningsrätten", ("förvaltning", "rätten")),
    ("konkurrensverket", ("konkurrens", "verket")),
    ("sjukvårdspersonal", ("sjukvård", "personal")),
    ("civilsamhället", ("civil", "samhället")),
    ("skoldatorer", ("skol", "datorer")),
    ("byggentreprenader", ("bygg", "entreprenader")),
])
def test_real_compounds_split_into_their_words(word: str, parts: tuple[str, ...]) -> None:
    assert default_splitter().split(word) == parts


@pytest.mark.parametrize("word", [
    "upphandling", "partnerskap", "partnerskapet", "kommunerna", "organisationer",
    "verksamheten", "frivilliga", "tjänsterna", "betalning", "ersättning", "föreningarna",
    "leverantörer", "överklagas", "entreprenad", "miljoner",
])
def test_ordinary_words_are_not_split(word: str) -> None:
    assert default_splitter().split(word) == ()


def test_compound_parts_are_indexed_at_the_compounds_position() -> None:
    tokens = _index_tokens("nya upphandlingsregler gäller")
    assert ("upphandling", 1) in tokens
    assert (stem("regler"), 1) in tokens
    assert (stem("upphandlingsregler"), 1) in tokens
    assert ("gäll", 2) in tokens or (stem("gäller"), 2) in tokens


def test_the_splitter_learns_corpus_words() -> None:
    splitter = CompoundSplitter(shipped_stems(), stem=stem)
    assert splitter.split("podkastbranschen") == ()
    assert splitter.add_words(["podkast", "podkast"]) == 1
    assert splitter.split("podkastbranschen") == ("podkast", "branschen")


def test_the_analyzer_splits_anew_once_its_splitter_learns_a_word() -> None:
    # The analyzer remembers each word's stem and parts; what the splitter learns must show.
    splitter = CompoundSplitter(shipped_stems(), stem=stem)
    analyzer = SwedishAnalyzer(splitter)

    def terms() -> list[str]:
        return [t.text for t in analyzer("podkastbranschen podkastbranschen", mode="index")]

    whole = stem("podkastbranschen")
    assert terms() == [whole, whole]
    splitter.add_words(["podkast"])
    assert terms() == [whole, stem("podkast"), stem("branschen")] * 2


def test_shipped_word_list_is_large_and_holds_the_sample_vocabulary() -> None:
    stems = shipped_stems()
    assert len(stems) > 300_000
    assert {"upphandling", "partnerskap", stem("regler"), "stat"} <= stems


def test_the_analyzer_pickles_without_its_lexicon() -> None:
    # Whoosh pickles the schema into every commit; 350k stems must not go with it.
    assert len(pickle.dumps(SwedishAnalyzer(default_splitter()))) < 2_000


def test_spelling_words_are_unstemmed_and_without_stop_words() -> None:
    words = [t.text for t in SwedishAnalyzer()("Idéburna partnerskap och EU:s regler",
                                                 no_morph=True)]
    assert words == ["ideburna", "partnerskap", "eu", "regler"]


def test_spelling_words_are_the_analyzers_unstemmed_words_once_each() -> None:
    texts = ["Idéburna partnerskap och EU:s regler från 2016.", "Partnerskap, igen och igen."]
    analysed = {t.text for text in texts for t in SwedishAnalyzer()(text, no_morph=True)}
    assert spelling_words(texts) == analysed == {"ideburna", "partnerskap", "eu", "regler",
                                                 "igen"}


# -- synonyms ---------------------------------------------------------------------------------


def test_shipped_synonyms_know_the_acronyms_of_the_field() -> None:
    syn = load_synonyms()
    for acronym in ("iop", "lou", "lov", "luf", "luk", "skr", "sgei"):
        assert len(syn.expand((acronym,))) >= 2, acronym
    iop = syn.expand(("iop",))
    assert tuple(stem(fold(w)) for w in ["idéburet", "offentligt", "partnerskap"]) in iop


def test_synonyms_match_regardless_of_inflection_and_accents() -> None:
    syn = Synonyms.parse("iop | idéburet offentligt partnerskap\n")
    phrase = tuple(stem(w) for w in ["ideburna", "offentliga", "partnerskapet"])
    assert syn.expand(phrase)[1:] == (("iop",),)


def test_synonym_file_tolerates_comments_blank_and_single_lines() -> None:
    syn = Synonyms.parse("# comment\n\nensam\nlou | lagen om offentlig upphandling # LOU\n")
    assert len(syn.groups) == 1
    assert syn.expand(("ensam",)) == ()
