"""What a query word matches beyond itself: parts of compounds the index keeps whole.

Each test indexes a few one-line episodes that differ in exactly the way the test is about and
reads the answer through ``ArchiveIndex.search``, as the site and the CLI do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchRequest

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal")


def one_line_episode(eid: str, *lines: str) -> tuple[Feed, Episode, Transcript, None]:
    """An episode whose transcript is ``lines``, one cue each."""
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title="Ett avsnitt",
                 published=datetime(2024, 1, 1, tzinfo=UTC))
    segs = tuple(Segment(i * 5.0, (i + 1) * 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


def found(ix: ArchiveIndex, q: str) -> set[str]:
    """The ids of the episodes ``q`` finds."""
    return {h.episode_id for h in ix.search(SearchRequest(q=q)).hits}


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[ArchiveIndex]:
    """An empty index; each test adds its own episodes."""
    with ArchiveIndex.open(tmp_path / "index") as ix:
        yield ix


def test_a_three_letter_word_finds_compounds_it_starts(archive: ArchiveIndex) -> None:
    archive.index_many([
        one_line_episode("sang", "Även den lilla cirkeln i syjunta eller körsång."),
        one_line_episode("bar", "Vi plockade körsbär hela dagen."),
    ])
    assert found(archive, "kör") == {"sang"}
    assert found(archive, "syjuntan kör") == {"sang"}


def test_a_head_finds_a_short_known_compound_the_index_keeps_whole(
        archive: ArchiveIndex) -> None:
    # konstgräs is a known word with a short last part, so the index does not split it.
    archive.index_many([one_line_episode("plan", "Vi har för lite tider på konstgräset.")])
    assert found(archive, "konst") == {"plan"}


def test_the_rest_of_a_compound_may_start_with_an_s_of_its_own(archive: ArchiveIndex) -> None:
    # lag|stiftning, not lag + linking s + tiftning.
    archive.index_many([one_line_episode("lag", "Det behövs troligen lagstiftning om det.")])
    assert found(archive, "lag") == {"lag"}


def test_a_compound_no_one_said_finds_its_words_said_apart(archive: ArchiveIndex) -> None:
    archive.index_many([
        one_line_episode("isar", "Vi har solceller på nästan alla sjukhus.", "Över fyrtio tak."),
        one_line_episode("halva", "Vi har solceller på nästan alla sjukhus."),
    ])
    assert found(archive, "sjukhustak") == {"isar"}


def test_a_compound_someone_said_is_not_split(archive: ArchiveIndex) -> None:
    archive.index_many([
        one_line_episode("isar", "Vi har solceller på nästan alla sjukhus.", "Över fyrtio tak."),
        one_line_episode("sagt", "Sjukhustaken fick solceller."),
    ])
    assert found(archive, "sjukhustak") == {"sagt"}


def test_a_typo_of_a_spoken_word_is_not_split_but_spelt_right(archive: ArchiveIndex) -> None:
    archive.index_many([
        one_line_episode("ratt", "Kommunen överklagade till kammarrätten."),
        one_line_episode("halvor", "Ansök hos Kammarkollegiet.", "Rätt vanligt, faktiskt."),
    ])
    assert found(archive, "kammarätten") == {"ratt"}


def test_a_word_finds_a_known_compound_that_ends_with_it(archive: ArchiveIndex) -> None:
    # konstgräs is kept whole, and tid is too short a part to split off: neither "gräs" nor
    # "tid" is indexed for these compounds.
    archive.index_many([
        one_line_episode("plan", "Vi spelar match på konstgräset."),
        one_line_episode("avtal", "Uppsägningstiden är tre månader."),
    ])
    assert found(archive, "gräs") == {"plan"}
    assert found(archive, "gräset") == {"plan"}
    assert found(archive, "tid") == {"avtal"}


def test_a_word_after_a_particle_or_a_short_front_is_another_word(archive: ArchiveIndex) -> None:
    archive.index_many([
        one_line_episode("lou", "Upphandlingen överklagades av flera anbudsgivare."),
        one_line_episode("avtal", "Avtalet gäller i två år."),
    ])
    assert found(archive, "handlingen") == set()
    assert found(archive, "tal") == set()
