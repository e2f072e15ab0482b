"""Transcript writers: each format parses back to the segments it was given."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime

import pytest

from poddarkiv.archive.codec import transcript_from_dict
from poddarkiv.archive.models import EpisodeNote, Segment, Transcript, Word
from poddarkiv.archive.writers import (
    FORMATS,
    MEDIA_TYPES,
    PODCAST_JSON,
    TRANSCRIPT_FORMATS,
    render_transcript,
    write_transcript,
)
from poddarkiv.errors import ConfigError

TRANSCRIPT = Transcript(
    episode_id="ep1",
    source="whisper",
    language="sv",
    engine="faster-whisper",
    model="base",
    model_sha256="d01c",
    duration_s=3725.5,
    created=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    notes=(EpisodeNote.of("guard_credit", start=9.0, end=10.0, text="Textning.nu"),),
    segments=(
        Segment(0.0, 2.5, " Idéburet offentligt partnerskap.", -0.2, 0.01,
                (Word(0.0, 0.8, " Idéburet", 0.9),)),
        Segment(2.5, 4.0, "   "),  # nothing to show: left out of txt, vtt and srt
        Segment(4.0, 7.25, " LOU <och> IOP & statsstöd --> domstol"),
        Segment(3661.001, 3725.5, " Sista\nmeningen."),
    ),
)

VTT_CUE = re.compile(r"(\d\d:\d\d:\d\d\.\d\d\d) --> (\d\d:\d\d:\d\d\.\d\d\d)\n(.+)")
SRT_CUE = re.compile(r"(\d+)\n(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)\n(.+)")


def _seconds(stamp: str) -> float:
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(rest)


def test_formats_are_the_four_export_offers() -> None:
    assert FORMATS == ("txt", "vtt", "srt", "json")


def test_one_registry_names_every_format_with_its_media_type() -> None:
    assert set(FORMATS) < set(TRANSCRIPT_FORMATS)
    assert not TRANSCRIPT_FORMATS[PODCAST_JSON].offered  # linked from RSS, not downloaded
    assert MEDIA_TYPES == {"txt": "text/plain", "vtt": "text/vtt", "srt": "application/x-subrip",
                           "json": "application/json", PODCAST_JSON: "application/json"}
    for name in TRANSCRIPT_FORMATS:
        assert render_transcript(TRANSCRIPT, name)


def test_txt_is_one_line_per_segment_with_text() -> None:
    assert render_transcript(TRANSCRIPT, "txt").splitlines() == [
        "Idéburet offentligt partnerskap.",
        "LOU <och> IOP & statsstöd --> domstol",
        "Sista meningen.",
    ]


def test_vtt_parses_back_to_the_segments_times_and_escaped_text() -> None:
    text = render_transcript(TRANSCRIPT, "vtt")
    assert text.startswith("WEBVTT\n\n")
    cues = VTT_CUE.findall(text)
    assert [(_seconds(a), _seconds(b)) for a, b, _ in cues] == [(0.0, 2.5), (4.0, 7.25),
                                                                  (3661.001, 3725.5)]
    assert cues[1][2] == "LOU &lt;och&gt; IOP &amp; statsstöd --&gt; domstol"
    assert cues[2][2] == "Sista meningen."
    assert text.count("-->") == 3  # cue text never holds the arrow


def test_srt_numbers_cues_from_one_with_comma_millis() -> None:
    cues = SRT_CUE.findall(render_transcript(TRANSCRIPT, "srt"))
    assert [int(n) for n, *_ in cues] == [1, 2, 3]
    assert [(_seconds(a), _seconds(b)) for _, a, b, _ in cues] == [(0.0, 2.5), (4.0, 7.25),
                                                                     (3661.001, 3725.5)]
    assert cues[0][3] == "Idéburet offentligt partnerskap."


def test_json_round_trips_through_the_codec() -> None:
    data = json.loads(render_transcript(TRANSCRIPT, "json"))
    assert transcript_from_dict(data) == TRANSCRIPT
    assert "Idéburet" in render_transcript(TRANSCRIPT, "json")  # UTF-8, not \u escapes


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_and_render_agree(fmt: str) -> None:
    out = io.StringIO()
    write_transcript(TRANSCRIPT, fmt, out)
    assert out.getvalue() == render_transcript(TRANSCRIPT, fmt)


@pytest.mark.parametrize("fmt", ["txt", "vtt", "srt"])
def test_empty_transcript_writes_no_cues(fmt: str) -> None:
    empty = TRANSCRIPT.replace(segments=())
    assert render_transcript(empty, fmt) in ("", "WEBVTT\n\n")


def test_unknown_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="docx"):
        render_transcript(TRANSCRIPT, "docx")


def test_a_speaker_is_kept_through_the_stored_json_and_only_when_known() -> None:
    transcript = Transcript("e", "publisher", "sv", (
        Segment(0.0, 1.0, "Hej.", speaker="Karin Ek"), Segment(1.0, 2.0, "Hå.")))
    data = json.loads(render_transcript(transcript, "json"))
    assert [s.get("speaker") for s in data["segments"]] == ["Karin Ek", None]
    assert "speaker" not in data["segments"][1]
    assert transcript_from_dict(data).segments == transcript.segments
