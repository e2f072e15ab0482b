"""Corrections by people: recorded with who/when/why, saved as a new revision, and applied again
by time to a new transcript, with conflicts recorded rather than anything overwritten."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from poddarkiv.archive.corrections import (
    DEFAULT_EDITOR,
    MAX_TEXT_CHARS,
    Correction,
    apply_corrections,
    check_correction,
    clean_text,
    correct_passage,
    corrections,
    corrections_needing_review,
    is_corrected,
    reapply_corrections,
    record_reapplied,
    resolve_conflict,
)
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.errors import CatalogueError

WHEN = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SEGMENTS = (Segment(0.0, 4.0, "Känster om allmäntekonomisk dintresser.", avg_logprob=-1.5),
            Segment(4.0, 8.5, "Så karabes vei.", avg_logprob=-1.2),
            Segment(8.5, 12.0, "Tack för idag.", avg_logprob=-0.1))


@pytest.fixture()
def catalogue(tmp_path: Path) -> Catalogue:
    """A catalogue with one episode and a Whisper transcript of three passages."""
    cat = open_catalogue(tmp_path / "data")
    cat.save_feed(Feed(id="f", url="https://example.org/f.xml", title="Podd"))
    cat.save_episode(Episode(id="e", feed_id="f", guid="g", title="Avsnitt"))
    cat.save_transcript(Transcript(episode_id="e", source="whisper", language="sv",
                                   segments=SEGMENTS, engine="faster-whisper", model="base"))
    return cat


def _correction(start: float, end: float, text: str, *, id: int = 1) -> Correction:
    return Correction("e", start, end, "?", text, "Anna", "hörfel", WHEN, id=id)


def test_a_correction_is_a_new_revision_with_who_when_and_why(catalogue: Catalogue) -> None:
    before = catalogue.transcript_info("e")
    made = correct_passage(catalogue, "e", 0.0, text=" Tjänster av allmänt\nekonomiskt intresse. ",
                           note="hörfel", editor="Anna", clock=lambda: WHEN)
    after = catalogue.transcript("e")
    assert after is not None
    assert after.segments[0].text == "Tjänster av allmänt ekonomiskt intresse."
    # The passage keeps its span; a person's text has no recogniser figures; the rest stays.
    assert (after.segments[0].start, after.segments[0].end) == (0.0, 4.0)
    assert after.segments[0].avg_logprob is None
    assert after.segments[1:] == SEGMENTS[1:]
    assert (after.engine, after.model) == ("faster-whisper", "base")
    history = catalogue.transcript_history("e")
    assert len(history) == 2 and history[1].id == before.id  # type: ignore[union-attr]
    assert catalogue.load_transcript(history[1]).segments == SEGMENTS  # the old one is kept
    [stored] = corrections(catalogue, "e")
    assert stored == made and stored.revision == history[0].id
    assert (stored.editor, stored.note, stored.created) == ("Anna", "hörfel", WHEN)
    assert stored.original == SEGMENTS[0].text
    assert is_corrected(after.segments[0], [stored]) and not is_corrected(after.segments[1],
                                                                          [stored])


def test_the_editor_defaults_and_bad_corrections_are_refused(catalogue: Catalogue) -> None:
    made = correct_passage(catalogue, "e", 4.0, text="Så kallade SGEI.", note="förkortning")
    assert made.editor == DEFAULT_EDITOR
    for text, note, problem in [("   ", "x", "text_empty"), ("x" * (MAX_TEXT_CHARS + 1), "x",
                                "text_too_long"), ("Nytt", "", "note_empty"),
                                ("Tack för idag.", "x", "unchanged")]:
        with pytest.raises(ValueError, match=problem):
            correct_passage(catalogue, "e", 8.5, text=text, note=note)
    with pytest.raises(CatalogueError):
        correct_passage(catalogue, "e", 5.0, text="Ingen passage här", note="x")
    assert len(corrections(catalogue, "e")) == 1
    assert len(catalogue.transcript_history("e")) == 2


def test_a_failed_save_takes_the_correction_back(catalogue: Catalogue,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("poddarkiv.archive.store.atomic_write_bytes", full_disk)
    with pytest.raises(CatalogueError):
        correct_passage(catalogue, "e", 0.0, text="Tjänster", note="hörfel")
    assert corrections(catalogue, "e") == []
    assert catalogue.transcript("e").segments == SEGMENTS  # type: ignore[union-attr]


def test_clean_text_and_checks() -> None:
    assert clean_text("a\x00b\r\n  c\t") == "a b c"
    assert check_correction("gammal", "ny", "not", "x" * 81) == "editor_too_long"
    assert check_correction("gammal", "ny", "n" * 301, "") == "note_too_long"
    assert check_correction("gammal", "ny", "not", "") is None


# -- applying again to a new transcript, by time -----------------------------------------------


def _new(*segments: Segment) -> Transcript:
    return Transcript(episode_id="e", source="whisper", language="sv", segments=segments,
                      model="KBLab/kb-whisper-small")


def test_a_new_segmentation_inside_the_span_is_replaced_cleanly() -> None:
    fresh = _new(Segment(0.0, 2.0, "Tjänster av"), Segment(2.01, 4.02, "allmänt intresse."),
                 Segment(4.02, 9.0, "Så kallade SGEI."))
    kept, [outcome] = apply_corrections(fresh, [_correction(0.0, 4.0, "Rättat.")])
    assert [(s.start, s.end, s.text) for s in kept.segments] == [
        (0.0, 4.0, "Rättat."), (4.02, 9.0, "Så kallade SGEI.")]
    assert outcome.conflict is None and outcome.replaced == "Tjänster av allmänt intresse."


def test_a_segment_across_the_edge_is_kept_outside_and_is_a_conflict() -> None:
    fresh = _new(Segment(0.0, 3.0, "Tjänster av"), Segment(3.0, 6.0, "allmänt intresse, så"),
                 Segment(6.0, 9.0, "kallade SGEI."))
    kept, [outcome] = apply_corrections(fresh, [_correction(0.0, 4.0, "Rättat.")])
    assert [(s.start, s.end, s.text) for s in kept.segments] == [
        (0.0, 4.0, "Rättat."), (4.0, 6.0, "allmänt intresse, så"), (6.0, 9.0, "kallade SGEI.")]
    assert outcome.conflict == "boundary"
    assert outcome.replaced == "Tjänster av allmänt intresse, så"


def test_a_correction_where_the_new_transcript_has_nothing_is_kept_as_a_conflict() -> None:
    fresh = _new(Segment(5.0, 9.0, "Så kallade SGEI."))
    kept, [outcome] = apply_corrections(fresh, [_correction(0.0, 4.0, "Rättat.")])
    assert [s.text for s in kept.segments] == ["Rättat.", "Så kallade SGEI."]
    assert outcome.conflict == "missing" and outcome.replaced == ""


def test_only_the_latest_correction_of_a_span_is_applied() -> None:
    fresh = _new(Segment(0.0, 4.0, "Fel."))
    kept, outcomes = apply_corrections(fresh, [_correction(0.0, 4.0, "Först.", id=1),
                                               _correction(0.0, 4.0, "Sist.", id=2)])
    assert [s.text for s in kept.segments] == ["Sist."]
    assert [o.correction.id for o in outcomes] == [2]


def test_conflicts_are_recorded_listed_and_resolved(catalogue: Catalogue) -> None:
    correct_passage(catalogue, "e", 0.0, text="Tjänster av allmänt ekonomiskt intresse.",
                    note="hörfel")
    fresh, applied = reapply_corrections(catalogue, _new(
        Segment(0.0, 6.0, "Tjänster av allmänt ekonomiskt intresse så"),
        Segment(6.0, 12.0, "kallade SGEI.")))
    assert fresh.segments[0].text == "Tjänster av allmänt ekonomiskt intresse."
    info = catalogue.save_transcript(fresh)
    record_reapplied(catalogue, applied, info.id)
    [needs] = corrections_needing_review(catalogue)
    assert needs.conflict == "boundary" and needs.revision == info.id
    assert needs.conflict_text == "Tjänster av allmänt ekonomiskt intresse så"
    assert needs.id is not None and resolve_conflict(catalogue, needs.id)
    assert corrections_needing_review(catalogue) == []
    assert not resolve_conflict(catalogue, needs.id)


def test_correcting_the_passage_again_settles_an_earlier_conflict(catalogue: Catalogue) -> None:
    correct_passage(catalogue, "e", 0.0, text="Tjänster.", note="hörfel")
    fresh, applied = reapply_corrections(catalogue, _new(Segment(1.0, 6.0, "Annat.")))
    record_reapplied(catalogue, applied, catalogue.save_transcript(fresh).id)
    assert len(corrections_needing_review(catalogue)) == 1
    correct_passage(catalogue, "e", 0.0, text="Tjänster av allmänt intresse.", note="bättre")
    assert corrections_needing_review(catalogue) == []


def test_the_speaker_of_a_corrected_passage_is_kept() -> None:
    fresh = _new(Segment(0.0, 4.0, "Fel ord.", speaker="Karin Ek"),
                 Segment(4.0, 8.0, "Annat.", speaker="Johan Berg"))
    kept, _ = apply_corrections(fresh, [_correction(0.0, 4.0, "Rätt ord.")])
    assert [(s.text, s.speaker) for s in kept.segments] == [
        ("Rätt ord.", "Karin Ek"), ("Annat.", "Johan Berg")]
