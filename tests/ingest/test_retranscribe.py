"""A re-transcription with another model never discards a person's corrections: each is applied
again by time; where the new segmentation does not fit, it is kept and the conflict recorded.

The engine is replaced at its seam (``transcriber_factory``) by a step that returns the "new
model's" segments; catalogue, index and lock are real.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.corrections import correct_passage, corrections_needing_review
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.search import SearchRequest
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import BusyError
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.retranscribe import RetranscribeReport, Selection, retranscribe
from poddarkiv.sample import SAMPLE_EPISODES
from tests.site.site_archive import build_archive

EPISODE = SAMPLE_EPISODES[1].slug  # a Whisper transcript (the publisher's would be skipped)
NEW_MODEL = "KBLab/kb-whisper-small"
FIXED = "Tjänster av allmänt ekonomiskt intresse, så kallade SGEI, korrigeringsord."


@pytest.fixture()
def archive(tmp_path: Path) -> Iterator[tuple[Catalogue, ArchiveIndex]]:
    """The sample archive with a real index, one passage of :data:`EPISODE` corrected."""
    catalogue = build_archive(tmp_path / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    index.rebuild(catalogue)
    transcript = catalogue.transcript(EPISODE)
    assert transcript is not None
    correct_passage(catalogue, EPISODE, transcript.segments[1].start, text=FIXED,
                    note="hörfel", editor="Anna")
    yield catalogue, index
    index.close()
    catalogue.close()


def _new_model(segments: Callable[[Transcript], tuple[Segment, ...]],
               catalogue: Catalogue) -> Callable[[], Callable[..., Transcript]]:
    """The engine's seam: a step writing ``segments(old transcript)`` as the new model."""
    def step(episode: Episode, *, progress: Callable[[float, float], None]) -> Transcript:
        old = catalogue.transcript(episode.id)
        assert old is not None
        return Transcript(episode_id=episode.id, source="whisper", language="sv",
                          engine="faster-whisper", model=NEW_MODEL, segments=segments(old))

    return lambda: step


def _run(catalogue: Catalogue, index: ArchiveIndex,
         segments: Callable[[Transcript], tuple[Segment, ...]]) -> RetranscribeReport:
    settings = Settings(data_dir=catalogue.data.root, model=NEW_MODEL)
    with httpx.Client() as client:
        return retranscribe(settings, Selection(episode_ids=(EPISODE,)), catalogue=catalogue,
                            index=index, client=client,
                            transcriber_factory=_new_model(segments, catalogue))


def _same_cuts(old: Transcript) -> tuple[Segment, ...]:
    """The new model cuts where the old did, and mishears every passage."""
    return tuple(Segment(s.start, s.end, f"nymodell {i}.", avg_logprob=-0.3)
                 for i, s in enumerate(old.segments))


def _crossing(old: Transcript) -> tuple[Segment, ...]:
    """The new model merges the corrected passage with the next one."""
    first, corrected, following, *rest = old.segments
    return (Segment(first.start, first.end, "nymodell 0."),
            Segment(corrected.start, following.end, "nymodell 1 och 2."),
            *(Segment(s.start, s.end, "nymodell.") for s in rest))


def test_a_correction_survives_a_new_model_cleanly(
        archive: tuple[Catalogue, ArchiveIndex]) -> None:
    catalogue, index = archive
    before = catalogue.transcript(EPISODE)
    assert before is not None
    report = _run(catalogue, index, _same_cuts)
    assert report.corrections_kept == 1
    assert report.corrections_to_check == 0
    after = catalogue.transcript(EPISODE)
    assert after is not None and after.model == NEW_MODEL
    assert [s.start for s in after.segments] == [s.start for s in before.segments]
    assert after.segments[1].text == FIXED  # the person's text, not the new model's
    assert after.segments[0].text == "nymodell 0." and after.segments[2].text == "nymodell 2."
    assert corrections_needing_review(catalogue) == []
    page = index.search(SearchRequest(q="korrigeringsord"))
    assert [h.episode_id for h in page.hits] == [EPISODE]


def test_a_new_segment_across_the_corrected_span_is_kept_and_shown_to_the_admin(
        archive: tuple[Catalogue, ArchiveIndex]) -> None:
    catalogue, index = archive
    before = catalogue.transcript(EPISODE)
    assert before is not None
    report = _run(catalogue, index, _crossing)
    assert report.corrections_to_check == 1
    after = catalogue.transcript(EPISODE)
    assert after is not None
    corrected, following = after.segments[1], after.segments[2]
    assert (corrected.start, corrected.end, corrected.text) == (
        before.segments[1].start, before.segments[1].end, FIXED)
    # The crossing segment keeps its words, cut back to after the corrected span.
    assert following.text == "nymodell 1 och 2." and following.start == corrected.end
    [needs] = corrections_needing_review(catalogue)
    assert needs.conflict == "boundary" and needs.conflict_text == "nymodell 1 och 2."
    assert needs.revision == catalogue.transcript_info(EPISODE).id  # type: ignore[union-attr]


def test_retranscription_waits_for_the_lock_a_correction_would_take(
        archive: tuple[Catalogue, ArchiveIndex]) -> None:
    catalogue, index = archive
    with ingest_lock(catalogue.data.ingest_lock), pytest.raises(BusyError):
        _run(catalogue, index, _same_cuts)
    assert catalogue.transcript(EPISODE).segments[1].text == FIXED  # type: ignore[union-attr]
