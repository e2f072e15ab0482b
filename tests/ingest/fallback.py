"""What a run reports when the sample's publisher transcript cannot be used (a 404)."""

from __future__ import annotations

from poddarkiv.archive.models import EpisodeNote
from poddarkiv.ingest.pipeline import EpisodeOutcome, IngestReport


def the_fallback(report: IngestReport) -> tuple[EpisodeOutcome, EpisodeNote]:
    """The run's one episode with a note, transcribed all the same, and that note: the
    publisher's ``iop-och-upphandling.vtt`` could not be used, and why."""
    (outcome,) = [e for e in report.episodes if e.notes]
    assert outcome.status == "transcribed" and not report.failed
    (note,) = outcome.notes
    assert note.code == "publisher_transcript_unusable"
    assert "iop-och-upphandling.vtt" in str(note.get("urls"))
    assert "404" in str(note.get("reason"))
    return outcome, note
