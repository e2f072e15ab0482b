"""Transcripts out: plain text, WebVTT, SubRip and JSON, like Whisper's writer family.

This is the one list of transcript formats: :data:`TRANSCRIPT_FORMATS` names each with its media
type, and :data:`FORMATS` (the ones offered for download and by ``poddarkiv export``) and
:data:`MEDIA_TYPES` are read from it. A new format is one writer and one entry here.

``render_transcript(t, "vtt")`` gives the text; ``write_transcript(t, "vtt", out)`` writes it to
an open text stream. JSON goes through :mod:`poddarkiv.archive.codec`, so it is the same wire
format the catalogue stores and reads back.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from poddarkiv.archive.codec import transcript_to_dict
from poddarkiv.archive.confidence import episode_confidence_json, passage_confidence_json
from poddarkiv.archive.models import Segment, Transcript
from poddarkiv.archive.times import format_timestamp
from poddarkiv.errors import ConfigError

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "PODCAST_JSON",
    "TRANSCRIPT_FORMATS",
    "TranscriptFormat",
    "render_transcript",
    "write_transcript",
]

#: The Podcasting 2.0 JSON transcript (``version``, ``segments`` of ``startTime``/``endTime``/
#: ``body``), which podcast apps read; the site publishes it in its RSS.
PODCAST_JSON = "podcast.json"
#: Version of the Podcasting 2.0 transcript JSON we write.
PODCAST_JSON_VERSION = "1.0.0"


def _cues(transcript: Transcript) -> list[tuple[Segment, str]]:
    """Segments with text, each as one line (cue text may not hold a blank line)."""
    pairs = [(s, " ".join(s.text.split())) for s in transcript.segments]
    return [(s, text) for s, text in pairs if text]


def _txt(transcript: Transcript, out: TextIO) -> None:
    for _, text in _cues(transcript):
        out.write(text + "\n")


def _vtt_escape(text: str) -> str:
    # WebVTT §4.2.2: "&" and "<" start markup in cue text, and "-->" may not appear in it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _vtt(transcript: Transcript, out: TextIO) -> None:
    out.write("WEBVTT\n\n")
    for segment, text in _cues(transcript):
        start, end = format_timestamp(segment.start), format_timestamp(segment.end)
        voice = f"<v {_vtt_escape(segment.speaker)}>" if segment.speaker else ""
        out.write(f"{start} --> {end}\n{voice}{_vtt_escape(text)}\n\n")


def _srt(transcript: Transcript, out: TextIO) -> None:
    for number, (segment, text) in enumerate(_cues(transcript), start=1):
        start = format_timestamp(segment.start, decimal=",")
        end = format_timestamp(segment.end, decimal=",")
        out.write(f"{number}\n{start} --> {end}\n{text}\n\n")


def _json(transcript: Transcript, out: TextIO) -> None:
    # the stored shape plus the confidence derived from it (archive.confidence), per passage
    # and for the whole transcript, so that an export says how sure the recogniser was
    data = transcript_to_dict(transcript)
    data["confidence"] = episode_confidence_json(transcript.segments)
    for seg, seg_data in zip(transcript.segments, data["segments"], strict=True):
        seg_data["confidence"] = passage_confidence_json(seg)
    json.dump(data, out, ensure_ascii=False, indent=2)
    out.write("\n")


def _podcast_json(transcript: Transcript, out: TextIO) -> None:
    # podcastindex.org/namespace/1.0 transcripts.md, "JSON": seconds as numbers, one body each.
    segments = [{"startTime": round(s.start, 3), "endTime": round(s.end, 3), "body": text,
                 **({"speaker": s.speaker} if s.speaker else {})}
                for s, text in _cues(transcript)]
    json.dump({"version": PODCAST_JSON_VERSION, "segments": segments}, out, ensure_ascii=False)
    out.write("\n")


Writer = Callable[[Transcript, TextIO], None]


@dataclass(frozen=True, slots=True)
class TranscriptFormat:
    """One way to write a transcript: its name (the file extension), media type and writer."""

    name: str
    media_type: str
    write: Writer
    #: Offered for download and by ``poddarkiv export``; Podcasting 2.0 JSON is only linked
    #: from the site's RSS, for podcast apps.
    offered: bool = True


#: Every transcript format, in the order they are offered.
TRANSCRIPT_FORMATS: dict[str, TranscriptFormat] = {f.name: f for f in (
    TranscriptFormat("txt", "text/plain", _txt),
    TranscriptFormat("vtt", "text/vtt", _vtt),
    TranscriptFormat("srt", "application/x-subrip", _srt),
    TranscriptFormat("json", "application/json", _json),
    TranscriptFormat(PODCAST_JSON, "application/json", _podcast_json, offered=False),
)}
#: The formats offered for download and by ``poddarkiv export``.
FORMATS = tuple(name for name, f in TRANSCRIPT_FORMATS.items() if f.offered)
#: Each format's media type.
MEDIA_TYPES = {name: f.media_type for name, f in TRANSCRIPT_FORMATS.items()}


def write_transcript(transcript: Transcript, fmt: str, out: TextIO) -> None:
    """Write ``transcript`` to ``out`` in ``fmt`` (one of :data:`FORMATS`)."""
    found = TRANSCRIPT_FORMATS.get(fmt)
    if found is None:
        expected = ", ".join(FORMATS)
        raise ConfigError(f"unknown transcript format {fmt!r}: expected one of {expected}")
    found.write(transcript, out)


def render_transcript(transcript: Transcript, fmt: str) -> str:
    """``transcript`` as text in ``fmt`` (one of :data:`FORMATS`)."""
    buffer = io.StringIO()
    write_transcript(transcript, fmt, buffer)
    return buffer.getvalue()
