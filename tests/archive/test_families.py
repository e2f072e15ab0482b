"""Word families: the stems a query word is searched by, besides its own."""

from __future__ import annotations

import pytest

from poddarkiv.archive.analysis import stem
from poddarkiv.archive.families import derived_stems, inflection_stems


def test_inflection_stems_cover_forms_snowball_stems_apart() -> None:
    # Snowball: entreprenad -> entrepren, entreprenader -> entreprenad.
    assert stem("entreprenad") != stem("entreprenader")
    assert stem("entreprenader") in inflection_stems("entreprenad")


@pytest.mark.parametrize(("singular", "plural"), [
    ("ljudbok", "ljudböckerna"), ("bok", "böcker"), ("storstad", "storstäder"),
    ("land", "länder"), ("ombudsman", "ombudsmän"), ("fot", "fötterna"),
])
def test_an_umlaut_plural_is_an_inflection_of_its_singular(singular: str, plural: str) -> None:
    assert stem(singular) != stem(plural)
    assert stem(plural) in inflection_stems(singular)
    assert stem(singular) in inflection_stems(plural)


@pytest.mark.parametrize(("word", "common"), [("hand", "händer"), ("stad", "städer"),
                                             ("bror", "bröder")])
def test_an_umlaut_plural_that_is_another_common_word_alone_is_left_out(
        word: str, common: str) -> None:
    # händer also means "happens", städer shares its stem with städa, bröder with bröd.
    assert stem(common) not in inflection_stems(word)


@pytest.mark.parametrize(("activity", "place"), [("tvätt", "tvätteriet"),
                                                 ("tryck", "tryckeri")])
def test_the_place_of_an_activity_is_derived_from_it(activity: str, place: str) -> None:
    assert stem(place) in derived_stems(activity)
    assert stem(activity) in derived_stems(place)


def test_short_roots_take_no_place_ending() -> None:
    assert stem("galleri") not in derived_stems("gall")


@pytest.mark.parametrize(("noun", "verb_form"), [
    ("rapport", "rapportera"), ("rapport", "rapporteringen"), ("kontroll", "kontrollerade")])
def test_a_noun_and_its_era_verb_are_one_family(noun: str, verb_form: str) -> None:
    assert stem(verb_form) in derived_stems(noun) | inflection_stems(noun)
    assert stem(noun) in derived_stems(verb_form) | inflection_stems(verb_form)


@pytest.mark.parametrize(("one", "other"), [
    ("ersatt", "ersättning"), ("ersätta", "ersatta"), ("nedsatta", "nedsättningen"),
    ("översatt", "översättning")])
def test_satt_and_sätt_forms_of_one_verb_are_one_family(one: str, other: str) -> None:
    assert stem(other) in derived_stems(one)
    assert stem(one) in derived_stems(other)


@pytest.mark.parametrize(("plural", "singular"), [
    ("nycklar", "nyckel"), ("cirklar", "cirkel"), ("exemplen", "exempel"), ("enkla", "enkel")])
def test_the_e_dropped_after_two_consonants_is_put_back_as_a_derived_form(
        plural: str, singular: str) -> None:
    assert stem(singular) in derived_stems(plural)
    assert stem(plural) in inflection_stems(singular)  # the other way it always was one word


def test_a_verb_whose_restored_e_makes_another_word_is_only_derived_from_it() -> None:
    # handla (act, buy) and handel (trade) are kin, not one word.
    assert stem("handel") not in inflection_stems("handla")
    assert stem("handel") in derived_stems("handla")


def test_satt_alone_is_not_made_a_form_of_sätta() -> None:
    # "Han satt" is the past of sitta.
    assert stem("sätta") not in derived_stems("satt")
