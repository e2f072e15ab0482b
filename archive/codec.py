"""JSON-ready dicts for the archive's records, and back.

The catalogue stores transcripts as JSON files and the site's ``.json`` twins serialise records;
both go through here so there is one wire format. ``*_from_dict`` is strict: it raises
``ValueError`` on missing keys or wrong types, since it reads our own files. One exception:
a transcript's notes were English sentences before they had codes: such a note reads back as
the code it stands for (:mod:`poddarkiv.archive.legacy_notes`), and one it does not recognise,
or a code this version does not know, as an :class:`EpisodeNote` ``text``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, get_args

from poddarkiv.archive.legacy_notes import note_from_text
from poddarkiv.archive.models import EpisodeNote, EpisodeNoteCode, Segment, Transcript, Word

__all__ = [
    "TRANSCRIPT_FORMAT_VERSION",
    "dt_from_iso",
    "dt_to_iso",
    "note_from_dict",
    "note_to_dict",
    "segment_from_dict",
    "segment_to_dict",
    "transcript_from_dict",
    "transcript_to_dict",
]

TRANSCRIPT_FORMAT_VERSION = 1
_NOTE_CODES: frozenset[str] = frozenset(get_args(EpisodeNoteCode))


def dt_to_iso(value: datetime | None) -> str | None:
    """ISO 8601, or ``None``."""
    return value.isoformat() if value is not None else None


def dt_from_iso(value: str | None) -> datetime | None:
    """The inverse of :func:`dt_to_iso`."""
    return datetime.fromisoformat(value) if value else None


def note_to_dict(note: EpisodeNote) -> dict[str, Any]:
    """``{"code": ..., **params}``, the shape of the search page's notes too."""
    return {"code": note.code, **dict(note.params)}


def note_from_dict(value: Any) -> EpisodeNote:
    """The inverse of :func:`note_to_dict`; an old note (a sentence) becomes the code it
    stands for, and a code this version does not know a ``text`` note, so it is still shown."""
    if isinstance(value, dict) and value.get("code") in _NOTE_CODES:
        params = {str(k): v for k, v in value.items()
                  if k != "code" and isinstance(v, str | int | float)}
        return EpisodeNote.of(value["code"], **params)
    return note_from_text(value if isinstance(value, str) else str(value))


def segment_to_dict(segment: Segment) -> dict[str, Any]:
    """One segment as a JSON-ready dict (words only when present)."""
    out: dict[str, Any] = {
        "start": round(segment.start, 3),
        "end": round(segment.end, 3),
        "text": segment.text,
    }
    if segment.avg_logprob is not None:
        out["avg_logprob"] = round(segment.avg_logprob, 4)
    if segment.no_speech_prob is not None:
        out["no_speech_prob"] = round(segment.no_speech_prob, 4)
    if segment.compression_ratio is not None:
        out["compression_ratio"] = round(segment.compression_ratio, 4)
    if segment.speaker:
        out["speaker"] = segment.speaker
    if segment.words:
        out["words"] = [
            {"start": round(w.start, 3), "end": round(w.end, 3), "text": w.text,
             "probability": None if w.probability is None else round(w.probability, 4)}
            for w in segment.words
        ]
    return out


def transcript_to_dict(transcript: Transcript) -> dict[str, Any]:
    """A transcript as a JSON-ready dict, versioned."""
    return {
        "format": TRANSCRIPT_FORMAT_VERSION,
        "episode_id": transcript.episode_id,
        "source": transcript.source,
        "engine": transcript.engine,
        "model": transcript.model,
        "model_sha256": transcript.model_sha256,
        "language": transcript.language,
        "duration_s": transcript.duration_s,
        "created": dt_to_iso(transcript.created),
        "notes": [note_to_dict(n) for n in transcript.notes],
        "segments": [segment_to_dict(s) for s in transcript.segments],
    }


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _word(d: dict[str, Any]) -> Word:
    return Word(start=float(d["start"]), end=float(d["end"]), text=str(d["text"]),
                probability=None if d.get("probability") is None else float(d["probability"]))


def segment_from_dict(d: dict[str, Any]) -> Segment:
    """The inverse of :func:`segment_to_dict`."""
    return Segment(
        start=float(d["start"]),
        end=float(d["end"]),
        text=str(d["text"]),
        avg_logprob=None if d.get("avg_logprob") is None else float(d["avg_logprob"]),
        no_speech_prob=None if d.get("no_speech_prob") is None else float(d["no_speech_prob"]),
        words=tuple(_word(w) for w in d.get("words", ())),
        # optional: files written before it was kept read back without it
        compression_ratio=_optional_float(d.get("compression_ratio")),
        speaker=str(d["speaker"]) if d.get("speaker") else None,
    )


def transcript_from_dict(d: dict[str, Any]) -> Transcript:
    """The inverse of :func:`transcript_to_dict`."""
    if d.get("format") != TRANSCRIPT_FORMAT_VERSION:
        raise ValueError(f"unknown transcript format {d.get('format')!r}")
    source = d["source"]
    if source not in ("whisper", "publisher"):
        raise ValueError(f"unknown transcript source {source!r}")
    return Transcript(
        episode_id=str(d["episode_id"]),
        source=source,
        language=str(d["language"]),
        segments=tuple(segment_from_dict(s) for s in d["segments"]),
        engine=str(d.get("engine") or ""),
        model=str(d.get("model") or ""),
        model_sha256=d.get("model_sha256"),
        duration_s=None if d.get("duration_s") is None else float(d["duration_s"]),
        created=dt_from_iso(d.get("created")),
        notes=tuple(note_from_dict(n) for n in d.get("notes", ())),
    )
