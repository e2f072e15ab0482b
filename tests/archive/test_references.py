"""References by rules: a table of Swedish examples, and of near misses that must not match."""

from __future__ import annotations

import pytest

from poddarkiv.archive.models import Episode
from poddarkiv.archive.references import REFERENCE_KINDS, extract_references, find_references
from tests.archive.knowledge_sample import transcript_of

# (text, the (kind, key) references it names, in order of appearance)
EXAMPLES = [
    # Statutes: SFS numbers and the names of the procurement acts.
    ("Det följer av lagen (2016:1145) om offentlig upphandling.", [("lag", "2016:1145")]),
    ("Enligt SFS 2008:962 får kommunen välja.", [("lag", "2008:962")]),
    ("LOU gäller, inte LUF eller LUK.",
     [("lag", "2016:1145"), ("lag", "2016:1146"), ("lag", "2016:1147")]),
    ("Kommunen införde LOV i hemtjänsten.", [("lag", "2008:962")]),
    ("LOU:s regler och LOU-reglerna", [("lag", "2016:1145"), ("lag", "2016:1145")]),
    ("Lagen om valfrihetssystem är frivillig.", [("lag", "2008:962")]),
    ("enligt lagen om offentlig upphandling", [("lag", "2016:1145")]),
    ("Kommunallagen säger", [("lag", "2017:725")]),
    ("SFS 2019:1 är en förordning", [("lag", "2019:1")]),
    # EU acts: directives (year/number) and regulations (old "nr number/year", new year/number).
    ("upphandlingsdirektivet 2014/24/EU", [("eu", "direktiv-2014-24")]),
    ("det gamla direktivet 2004/18/EG", [("eu", "direktiv-2004-18")]),
    ("rättsmedelsdirektivet 89/665/EEG", [("eu", "direktiv-1989-665")]),
    ("kommissionens förordning (EU) nr 360/2012 om stöd av mindre betydelse",
     [("eu", "forordning-2012-360")]),
    ("förordning (EU) 2023/2832", [("eu", "forordning-2023-2832")]),
    # Court cases: EU court numbers, reported Swedish cases, case numbers with their court.
    ("EU-domstolen i mål C-113/13, Spezzino",
     [("organisation", "eu-domstolen"), ("mal", "c-113-13")]),
    # A non-breaking hyphen, as word processors write it.
    ("domen i C\u201150/14 (CASTA)", [("mal", "c-50-14")]),
    ("HFD 2019 ref. 12 klargjorde", [("mal", "hfd-2019-ref-12")]),
    ("RÅ 2009 ref. 78", [("mal", "ra-2009-ref-78")]),
    ("Kammarrätten i Jönköping, mål nr 1234-22",
     [("organisation", "kammarratten-i-jonkoping"),
      ("mal", "kammarratten-i-jonkoping-mal-nr-1234-22")]),
    ("Förvaltningsrätten i Göteborg avgjorde målnummer 5678-2021",
     [("organisation", "forvaltningsratten-i-goteborg"),
      ("mal", "forvaltningsratten-i-goteborg-mal-nr-5678-2021")]),
    ("i mål nr 99-23", [("mal", "mal-nr-99-23")]),
    # Organisations and courts as bodies, municipalities and regions.
    ("Konkurrensverket mot Alingsås kommun",
     [("organisation", "konkurrensverket"), ("organisation", "alingsas-kommun")]),
    ("Upphandlingsmyndigheten och SKR", [("organisation", "upphandlingsmyndigheten"),
                                         ("organisation", "skr")]),
    ("Sveriges Kommuner och Regioner", [("organisation", "skr")]),
    ("Forum och Famna skrev", [("organisation", "forum"), ("organisation", "famna")]),
    ("Högsta förvaltningsdomstolen", [("organisation", "hogsta-forvaltningsdomstolen")]),
    ("HFD har inte prövat frågan", [("organisation", "hogsta-forvaltningsdomstolen")]),
    ("Region Skåne och Giva Sverige", [("organisation", "region-skane"),
                                       ("organisation", "giva-sverige")]),
    ("Europeiska kommissionen", [("organisation", "europeiska-kommissionen")]),
]

# Text that looks like a reference and is not one.
NEAR_MISSES = [
    "Barnen har sommarlov och får lov att leka.",    # lov is not LOV
    "Lou Reed och LOVE",                              # neither is Lou or LOVE
    "Utredningen SOU 2019:56 föreslog en ny lag.",    # SOU, not SFS
    "I prop. 2015/16:195 och Ds 2020:1",              # preparatory works
    "Klockan 20:15 och resultatet 3:1",               # times and scores
    "AFS 2020:1 gäller arbetsmiljön",                 # another authority's series
    "C-vitamin, T-shirt och E-18",                    # not EU cases
    "2014/24 är halva numret",                        # no EU/EG suffix
    "ett forum för dialog, och Forum för levande historia",  # forum, and an agency
    "Varje kommun och En kommun",                     # not names of municipalities
    "telefon 1234-22 och 24/7",                       # numbers without "mål nr"
    "kammarrätten prövar det",                        # a court without its seat
]


@pytest.mark.parametrize(("text", "expected"), EXAMPLES, ids=[e[0][:40] for e in EXAMPLES])
def test_examples(text: str, expected: list[tuple[str, str]]) -> None:
    found = [(f.reference.kind, f.reference.key) for f in find_references(text)]
    assert found == expected


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses(text: str) -> None:
    assert find_references(text) == []


def test_every_name_of_lou_is_one_reference_with_its_official_text() -> None:
    refs = {f.reference for f in find_references(
        "LOU, lagen om offentlig upphandling, SFS 2016:1145")}
    assert len(refs) == 1
    (lou,) = refs
    assert lou.label == "Lagen om offentlig upphandling (LOU)"
    assert lou.url == "https://lagen.nu/2016:1145"


def test_eu_acts_and_cases_link_to_eur_lex_and_curia() -> None:
    directive, case = (f.reference for f in find_references("2014/24/EU och C-113/13"))
    assert directive.url and "CELEX:32014L0024" in directive.url
    assert case.url and "num=C-113/13" in case.url


def test_kinds_are_known() -> None:
    texts = " ".join(text for text, _ in EXAMPLES)
    assert {f.reference.kind for f in find_references(texts)} == set(REFERENCE_KINDS)


def test_spans_point_at_the_text() -> None:
    text = "Enligt LOU och 2014/24/EU."
    for hit in find_references(text):
        assert text[hit.start:hit.end] == hit.text


def test_mentions_once_per_segment_with_times() -> None:
    episode = Episode(id="e", feed_id="f", guid="g", title="Om LOU",
                      description="Vi nämner Konkurrensverket.")
    transcript = transcript_of("e", "LOU och åter LOU, alltså 2016:1145.", "Inget här.",
                               "Konkurrensverket igen.")
    mentions = extract_references(episode, transcript)
    where = [(m.reference.key, m.segment, m.start_s) for m in mentions]
    assert where == [("2016:1145", None, None), ("konkurrensverket", None, None),
                     ("2016:1145", 0, 0.0), ("konkurrensverket", 2, 10.0)]
    assert mentions[1].context == "Vi nämner Konkurrensverket."
    assert mentions[3].context == "Konkurrensverket igen."
