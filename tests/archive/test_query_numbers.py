"""Numbers typed as digits find them spelled out, and the other way round.

A publisher's transcript says ``trehundratusen euro`` and ``artonde paragrafen``; a listener
types ``300 000 euro`` and ``18:e paragrafen``. Whisper writes digits; a listener who heard the
number types the word.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.query.numbers import (
    cardinal_words,
    digit_groups,
    number_value,
    ordinal_words,
    parse_ordinal,
)
from poddarkiv.archive.query.parse import Clause, parse_query
from poddarkiv.archive.search import SearchRequest

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal")


@pytest.mark.parametrize(("n", "word"), [
    (450, "fyrahundrafemtio"), (300_000, "trehundratusen"), (700_000, "sjuhundratusen"),
    (2014, "tjugohundrafjorton"), (2014, "tvåtusenfjorton"), (1990, "nittonhundranittio"),
    (140, "hundrafyrtio"), (140, "etthundrafyrtio"), (21, "tjugoett"), (21, "tjugoen"),
    (1000, "ettusen"), (12, "tolv"), (80, "åttio"),
])
def test_a_number_is_spelled_as_swedish_writes_it_and_read_back(n: int, word: str) -> None:
    assert word in cardinal_words(n)
    assert number_value(word) == n


@pytest.mark.parametrize("word", ["en", "ett", "tiotal", "fyrtiotal", "trettiotalet",
                                  "trettondagar", "sexa", "entusen", "femte", "partnerskap"])
def test_words_that_are_not_one_spelled_number_have_no_value(word: str) -> None:
    assert number_value(word) is None


def test_numbers_outside_one_word_are_not_spelled() -> None:
    assert cardinal_words(0) == ()
    assert cardinal_words(1_000_000) == ()


@pytest.mark.parametrize(("raw", "n", "word"), [
    ("1:a", 1, "första"), ("2:a", 2, "andra"), ("18:e", 18, "artonde"), ("4e", 4, "fjärde"),
    ("21:a", 21, "tjugoförsta"), ("30:e", 30, "trettionde"),
])
def test_ordinals_typed_with_digits_are_read(raw: str, n: int, word: str) -> None:
    assert parse_ordinal(raw) == n
    assert ordinal_words(n) == (word,)


@pytest.mark.parametrize("raw", ["18", "0:e", "e", "123:e", "1:b"])
def test_other_tokens_are_not_ordinals(raw: str) -> None:
    assert parse_ordinal(raw) is None


def test_thousands_are_grouped_from_ten_thousand_on_as_swedish_writes_them() -> None:
    assert digit_groups(300_000) == ("300", "000")
    assert digit_groups(1_500_000) == ("1", "500", "000")
    assert digit_groups(2014) == ("2014",)


def test_the_parser_joins_digit_groups_into_one_number() -> None:
    assert parse_query("300 000 euro").clauses == (Clause("word", ("300000",)),
                                                   Clause("word", ("euro",)))
    assert parse_query("1 500 000").clauses == (Clause("word", ("1500000",)),)
    # A year followed by a count stays two numbers.
    assert [c.words for c in parse_query("2014 500").clauses] == [("2014",), ("500",)]


def test_the_parser_reads_an_ordinal_as_its_digits_or_its_word() -> None:
    (group, rest) = parse_query("18:e paragrafen").groups
    assert [c.words for c in group] == [("18",), ("artonde",)]
    assert rest == (Clause("word", ("paragrafen",)),)


# -- through the index -------------------------------------------------------------------------


def _episode(eid: str, *lines: str) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title="Ett avsnitt",
                 published=datetime(2024, 1, 1, tzinfo=UTC))
    segs = tuple(Segment(i * 5.0, (i + 1) * 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveIndex]:
    """Numbers spelled out in one episode, in digits in another, and a distractor."""
    with ArchiveIndex.open(tmp_path_factory.mktemp("numbers") / "index") as ix:
        ix.index_many([
            _episode("ord", "Taket höjdes till trehundratusen euro.",
                     "Det står i artonde paragrafen, från tjugohundrafjorton."),
            _episode("siffror", "Ersättningen är 450 kronor per timme.",
                     "Gränsen är 700 000 kronor sedan 2022."),
            _episode("annat", "Fyra kronor och tre euro, ungefär.", "Paragrafen är ny."),
        ])
        yield ix


@pytest.mark.parametrize(("q", "expected"), [
    ("300 000 euro", "ord"), ("18:e paragrafen", "ord"), ("2014", "ord"),
    ("fyrahundrafemtio kronor", "siffror"), ("sjuhundratusen kronor", "siffror"),
    ("tjugohundratjugotvå", "siffror"),
])
def test_a_number_finds_its_other_spelling(archive: ArchiveIndex, q: str, expected: str) -> None:
    page = archive.search(SearchRequest(q=q))
    assert [h.episode_id for h in page.hits] == [expected]


def test_an_ordinal_does_not_match_the_cardinal_word(archive: ArchiveIndex) -> None:
    assert archive.search(SearchRequest(q="4:e kronor")).hits == ()


@pytest.mark.parametrize("q", ["¹", "²³ 000", "٣:e", "1:a¹"])
def test_digits_of_other_scripts_are_plain_words(archive: ArchiveIndex, q: str) -> None:
    assert archive.search(SearchRequest(q=q)).hits == ()
