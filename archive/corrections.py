"""Corrections by people: a passage's text as an editor wrote it, kept through re-transcription.

A :class:`Correction` says who changed which passage (its span in the audio, ``start``..``end``
seconds), from what to what, when and why. The row is the source of truth for that span: the
corrected transcript is a new revision saved through :meth:`Catalogue.save_transcript` (the
catalogue's one save path, which keeps every earlier revision), and a later re-transcription
applies every correction again (:func:`apply_corrections`) before it is saved.

Applying a correction to a transcript goes by time, not by segment number. The new segments
that fall inside the corrected span are replaced by one segment with the corrected text, at the
corrected span, so the passage keeps its start and every other passage keeps its own: links and
``?t=`` moments go on working. When the new segmentation does not fit the span, the correction
is still applied, and the row records a *conflict* for the admin to look at:

* ``boundary``: a new segment crosses the span's edge; it is cut back to the part outside the
  span and keeps its whole text (so words may now be said twice; a person should look);
* ``missing``: the new transcript has no speech there at all (the corrected passage is kept).

What the re-transcription said in the span is kept as ``conflict_text``. Nothing is overwritten
silently. The admin has one token, so "who" is a name the editor types (:data:`DEFAULT_EDITOR`
when none is given).

Every SQL statement about corrections is here (the table: :mod:`.migrations`).
"""

from __future__ import annotations

import dataclasses
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from poddarkiv.archive.codec import dt_from_iso, dt_to_iso
from poddarkiv.archive.models import Segment, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.errors import CatalogueError

__all__ = [
    "DEFAULT_EDITOR",
    "EDGE_TOLERANCE_S",
    "MAX_EDITOR_CHARS",
    "MAX_NOTE_CHARS",
    "MAX_TEXT_CHARS",
    "SAME_MOMENT_S",
    "Applied",
    "ConflictCode",
    "Correction",
    "ProblemCode",
    "apply_correction",
    "apply_corrections",
    "check_correction",
    "clean_text",
    "correct_passage",
    "corrections",
    "corrections_needing_review",
    "find_passage",
    "is_corrected",
    "reapply_corrections",
    "record_reapplied",
    "resolve_conflict",
]

#: The longest corrected text of one passage (characters); a passage is a sentence or two.
MAX_TEXT_CHARS = 2000
#: The longest note on what changed (characters).
MAX_NOTE_CHARS = 300
#: The longest editor name (characters).
MAX_EDITOR_CHARS = 80
#: Who corrected, when the editor gives no name (the site has one admin token).
DEFAULT_EDITOR = "redaktör"
#: How far (seconds) a new segment's edge may lie from the corrected span's and still count as
#: aligned with it (engines round times to 10-20 ms).
EDGE_TOLERANCE_S = 0.05
#: Two times this close (seconds) are the same moment (times are stored to the millisecond).
SAME_MOMENT_S = 0.0005

#: Why a correction applied again needs a person's look (see the module docstring).
ConflictCode = Literal["boundary", "missing"]
#: Why a correction is refused: what the site translates.
ProblemCode = Literal["text_empty", "text_too_long", "note_empty", "note_too_long",
                      "editor_too_long", "unchanged"]


@dataclass(frozen=True, slots=True)
class Correction:
    """A passage corrected by a person: ``original`` was at ``start``..``end`` (seconds) when
    ``editor`` wrote ``text`` instead, saying why in ``note``.

    ``revision`` is the transcript revision (``TranscriptInfo.id``) it last made; ``conflict``
    and ``conflict_text`` say why its last re-application needs a look, and what the
    re-transcription said there (``None`` and ``""`` when it applied cleanly).
    """

    episode_id: str
    start: float
    end: float
    original: str
    text: str
    editor: str
    note: str
    created: datetime
    id: int | None = None
    revision: int | None = None
    conflict: ConflictCode | None = None
    conflict_text: str = ""

    def same_span(self, start: float, end: float) -> bool:
        """Whether ``start``..``end`` is this correction's span (to the millisecond)."""
        return abs(self.start - start) < SAME_MOMENT_S and abs(self.end - end) < SAME_MOMENT_S


@dataclass(frozen=True, slots=True)
class Applied:
    """One correction applied to a transcript: the conflict found (``None``: it fitted) and the
    text of the segments it replaced."""

    correction: Correction
    conflict: ConflictCode | None
    replaced: str


# -- checking and finding -------------------------------------------------------------------


def clean_text(value: str) -> str:
    """``value`` on one line: control characters dropped, runs of white space made one space."""
    kept = "".join(c if unicodedata.category(c) != "Cc" else " " for c in value)
    return " ".join(kept.split())


def check_correction(original: str, text: str, note: str, editor: str) -> ProblemCode | None:
    """Why a correction with these (cleaned) fields is refused, or ``None`` when it is fine."""
    if not text:
        return "text_empty"
    if len(text) > MAX_TEXT_CHARS:
        return "text_too_long"
    if not note:
        return "note_empty"
    if len(note) > MAX_NOTE_CHARS:
        return "note_too_long"
    if len(editor) > MAX_EDITOR_CHARS:
        return "editor_too_long"
    if text == clean_text(original):
        return "unchanged"
    return None


def find_passage(segments: Sequence[Segment], start: float) -> int | None:
    """The position of the segment starting at ``start`` (to the millisecond), or ``None``."""
    for pos, segment in enumerate(segments):
        if abs(segment.start - start) < SAME_MOMENT_S:
            return pos
    return None


def is_corrected(segment: Segment, found: Iterable[Correction]) -> bool:
    """Whether ``segment`` is a person's text: the latest correction of its span wrote it."""
    latest = None
    for correction in found:
        if correction.same_span(segment.start, segment.end):
            latest = correction
    return latest is not None and latest.text == segment.text


# -- applying -------------------------------------------------------------------------------


def _inside(segment: Segment, start: float, end: float) -> bool:
    return segment.start >= start - EDGE_TOLERANCE_S and segment.end <= end + EDGE_TOLERANCE_S


def _overlaps(segment: Segment, start: float, end: float) -> bool:
    shared = min(segment.end, end) - max(segment.start, start)
    return shared > EDGE_TOLERANCE_S or _inside(segment, start, end)


def _cut_back(segment: Segment, start: float, end: float) -> Segment:
    """A segment crossing the span's edge, cut to its part before the span (else after it),
    with its whole text."""
    if segment.start < start - EDGE_TOLERANCE_S:
        new_start, new_end = segment.start, start
    else:
        new_start, new_end = end, segment.end
    words = tuple(w for w in segment.words if w.start >= new_start and w.end <= new_end)
    return dataclasses.replace(segment, start=new_start, end=new_end, words=words)


def apply_correction(segments: Sequence[Segment],
                     correction: Correction) -> tuple[tuple[Segment, ...], Applied]:
    """``segments`` with ``correction`` applied by time (see the module docstring)."""
    start, end = correction.start, correction.end
    kept: list[Segment] = []
    replaced: list[Segment] = []
    crossing = False
    for segment in segments:
        if not _overlaps(segment, start, end):
            kept.append(segment)
            continue
        replaced.append(segment)
        if not _inside(segment, start, end):
            crossing = True
            kept.append(_cut_back(segment, start, end))
    # The corrected words are the person's; who speaks is still what the transcript said
    # (the first replaced passage's speaker, when the publisher named one).
    speaker = next((s.speaker for s in replaced if s.speaker), None)
    kept.append(Segment(start=start, end=end, text=correction.text, speaker=speaker))
    kept.sort(key=lambda s: s.start)
    conflict: ConflictCode | None = "boundary" if crossing else None if replaced else "missing"
    said = " ".join(s.text.strip() for s in replaced if s.text.strip())
    return tuple(kept), Applied(correction, conflict, said)


def _latest_per_span(found: Iterable[Correction]) -> list[Correction]:
    """Each span's latest correction, in the order they were made (later ones supersede)."""
    latest: dict[tuple[float, float], Correction] = {}
    for correction in found:
        latest.pop((round(correction.start, 3), round(correction.end, 3)), None)
        latest[(round(correction.start, 3), round(correction.end, 3))] = correction
    return list(latest.values())


def apply_corrections(transcript: Transcript,
                      found: Iterable[Correction]) -> tuple[Transcript, list[Applied]]:
    """``transcript`` with each span's latest correction applied, oldest first."""
    segments = transcript.segments
    outcomes = []
    for correction in _latest_per_span(found):
        segments, outcome = apply_correction(segments, correction)
        outcomes.append(outcome)
    return transcript.replace(segments=segments), outcomes


# -- the catalogue --------------------------------------------------------------------------


def _correction(row: sqlite3.Row) -> Correction:
    return Correction(
        episode_id=row["episode_id"], start=row["start_s"], end=row["end_s"],
        original=row["original"], text=row["text"], editor=row["editor"], note=row["note"],
        created=dt_from_iso(row["created"]) or datetime.min.replace(tzinfo=UTC),
        id=row["id"], revision=row["revision"], conflict=row["conflict"],
        conflict_text=row["conflict_text"] or "")


def corrections(catalogue: Catalogue, episode_id: str) -> list[Correction]:
    """The episode's corrections, oldest first."""
    rows = catalogue.query("SELECT * FROM corrections WHERE episode_id = ? ORDER BY id",
                           (episode_id,))
    return [_correction(r) for r in rows]


def corrections_needing_review(catalogue: Catalogue) -> list[Correction]:
    """Corrections whose last re-application found a conflict, newest first."""
    rows = catalogue.query("SELECT * FROM corrections WHERE conflict IS NOT NULL "
                           "ORDER BY id DESC")
    return [_correction(r) for r in rows]


def _insert(catalogue: Catalogue, correction: Correction) -> int:
    with catalogue.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO corrections (episode_id, start_s, end_s, original, text, editor, note, "
            "created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (correction.episode_id, correction.start, correction.end, correction.original,
             correction.text, correction.editor, correction.note,
             dt_to_iso(correction.created)))
        return int(cur.lastrowid or 0)


def _settle(catalogue: Catalogue, correction: Correction, revision: int) -> None:
    """Link the correction to the revision it made; a person has now looked at its span, so
    earlier corrections of the span need no more look."""
    with catalogue.transaction() as conn:
        conn.execute("UPDATE corrections SET revision = ? WHERE id = ?", (revision, correction.id))
        conn.execute(
            "UPDATE corrections SET conflict = NULL, conflict_text = NULL WHERE episode_id = ? "
            "AND start_s < ? AND end_s > ? AND id <> ?",
            (correction.episode_id, correction.end, correction.start, correction.id))


def correct_passage(catalogue: Catalogue, episode_id: str, start: float, *, text: str,
                    note: str, editor: str = "", clock: Clock = utcnow) -> Correction:
    """Correct the passage of the episode's current transcript that starts at ``start``.

    The fields are cleaned (:func:`clean_text`); a refused correction raises
    :class:`ValueError` whose message is a :data:`ProblemCode`; an episode without that
    passage raises :class:`CatalogueError`. The correction is recorded first, then the corrected
    transcript is saved as a new revision; if saving fails, the record is taken back.
    """
    transcript = catalogue.transcript(episode_id)
    pos = find_passage(transcript.segments, start) if transcript else None
    if transcript is None or pos is None:
        raise CatalogueError(f"episode {episode_id!r} has no passage at {start} s")
    segment = transcript.segments[pos]
    text, note, editor = clean_text(text), clean_text(note), clean_text(editor)
    problem = check_correction(segment.text, text, note, editor)
    if problem is not None:
        raise ValueError(problem)
    correction = Correction(episode_id, segment.start, segment.end, segment.text, text,
                            editor or DEFAULT_EDITOR, note, clock())
    correction = dataclasses.replace(correction, id=_insert(catalogue, correction))
    try:
        corrected, _ = apply_corrections(transcript, [correction])
        info = catalogue.save_transcript(corrected.replace(created=correction.created))
    except BaseException:
        with catalogue.transaction() as conn:
            conn.execute("DELETE FROM corrections WHERE id = ?", (correction.id,))
        raise
    _settle(catalogue, correction, info.id)
    return dataclasses.replace(correction, revision=info.id)


def reapply_corrections(catalogue: Catalogue,
                        transcript: Transcript) -> tuple[Transcript, list[Applied]]:
    """A new transcript of an episode (a re-transcription) with the episode's corrections
    applied again; store it, then :func:`record_reapplied`."""
    return apply_corrections(transcript, corrections(catalogue, transcript.episode_id))


def record_reapplied(catalogue: Catalogue, outcomes: Iterable[Applied], revision: int) -> None:
    """Record, per correction applied again, the revision it made and any conflict."""
    with catalogue.transaction() as conn:
        for outcome in outcomes:
            conn.execute(
                "UPDATE corrections SET revision = ?, conflict = ?, conflict_text = ? "
                "WHERE id = ?",
                (revision, outcome.conflict, outcome.replaced if outcome.conflict else None,
                 outcome.correction.id))


def resolve_conflict(catalogue: Catalogue, correction_id: int) -> bool:
    """Mark a correction's conflict as looked at; return whether it had one."""
    with catalogue.transaction() as conn:
        cur = conn.execute("UPDATE corrections SET conflict = NULL, conflict_text = NULL "
                           "WHERE id = ? AND conflict IS NOT NULL", (correction_id,))
        return cur.rowcount > 0
