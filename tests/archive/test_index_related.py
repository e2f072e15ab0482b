"""Related episodes: more-like-this over transcripts, or over the title before a transcript."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.index.related import related_episodes
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Konkurrenten")


def _transcribed(eid: str, title: str, *lines: str) -> tuple[Feed, Episode, Transcript, None]:
    segments = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return (FEED, Episode(id=eid, feed_id=FEED.id, guid=eid, title=title),
            Transcript(eid, "whisper", "sv", segments), None)


def _untranscribed(eid: str, title: str) -> tuple[Feed, Episode, None, None]:
    return FEED, Episode(id=eid, feed_id=FEED.id, guid=eid, title=title), None, None


@pytest.fixture
def index(tmp_path: Path) -> Iterator[ArchiveIndex]:
    """An empty index in a temporary data directory."""
    ix = ArchiveIndex.open(tmp_path / "index")
    yield ix
    ix.close()


def _related(index: ArchiveIndex, episode_id: str) -> list[str]:
    with index.searcher() as s:
        return related_episodes(s, episode_id)


def test_an_episode_without_transcript_is_related_through_its_title(
        index: ArchiveIndex) -> None:
    index.index_many([_transcribed("a", "Upphandling", "om partnerskap och upphandling"),
                      _untranscribed("b", "Upphandling igen")])
    assert _related(index, "b") == ["a"]


def test_nothing_is_related_before_any_episode_is_transcribed(index: ArchiveIndex) -> None:
    index.index_many([_untranscribed("a", "Första"), _untranscribed("b", "Andra")])
    assert index.doc_counts() == (2, 0)  # episode documents, no segment documents
    assert _related(index, "a") == []


def test_nothing_is_related_when_no_transcript_speaks_a_word_of_the_title(
        index: ArchiveIndex) -> None:
    index.index_many([_transcribed("a", "Upphandling", "om partnerskap och upphandling"),
                      _untranscribed("b", "Första")])
    assert _related(index, "b") == []


def test_passages_the_recogniser_was_unsure_of_do_not_choose_the_related_episodes(
        index: ArchiveIndex) -> None:
    sure, unsure = -0.1, -2.5  # exp(avg_logprob): 0.90 and 0.08
    source = (FEED, Episode(id="src", feed_id=FEED.id, guid="src", title="Avsnitt"),
              Transcript("src", "whisper", "sv", (
                  Segment(0.0, 5.0, "partnerskap partnerskap med föreningar", avg_logprob=sure),
                  Segment(5.0, 10.0, "karabes vei dintresser karabes vei", avg_logprob=unsure),
              )), None)
    index.index_many([source,
                      _transcribed("talks", "Samtal", "föreningar i partnerskap"),
                      _transcribed("garbled", "Brus", "karabes vei dintresser")])
    assert _related(index, "src") == ["talks"]


def test_an_episode_that_is_all_uncertain_still_has_related_episodes(
        index: ArchiveIndex) -> None:
    source = (FEED, Episode(id="src", feed_id=FEED.id, guid="src", title="Avsnitt"),
              Transcript("src", "whisper", "sv", (
                  Segment(0.0, 5.0, "partnerskap med föreningar", avg_logprob=-2.5),)), None)
    index.index_many([source, _transcribed("talks", "Samtal", "föreningar i partnerskap")])
    assert _related(index, "src") == ["talks"]
