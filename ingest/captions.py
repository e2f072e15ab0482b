"""Publisher transcript formats → our :class:`Segment` records.

Four formats are read, all named by Podcasting 2.0's ``<podcast:transcript>``:

* **WebVTT** (``text/vtt``) and **SRT** (``application/x-subrip``): cues with start and end
  times; a cue's first voice tag (``<v Anna Svensson>``) names its speaker, the other tags are
  dropped, entities decoded, each cue becomes a segment.
* **JSON** (``application/json``, the Podcasting 2.0 transcript format): ``segments`` with
  ``startTime``/``endTime``/``body``/``speaker``. Many publishers write one segment per word,
  so consecutive pieces by one speaker are joined up to the end of a sentence (or
  :data:`MAX_JOINED_S`), giving segments worth linking to; the speaker is kept.
* **HTML** (``text/html``) and plain text: paragraphs, timed by ``<time>`` elements when the
  page has them, else untimed (start and end 0.0; the caller records that).

Every format is untrusted input: text is normalised, times must be finite and non-negative,
and the number of segments is capped.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Any

from poddarkiv.archive.models import Segment
from poddarkiv.archive.times import json_seconds, parse_timestamp
from poddarkiv.ingest.text import clean_line

__all__ = [
    "MAX_JOINED_S",
    "MAX_SEGMENTS",
    "parse_html_transcript",
    "parse_json_transcript",
    "parse_vtt_or_srt",
]

MAX_SEGMENTS = 50_000
#: Word-level JSON pieces are joined into segments of at most this length (seconds).
MAX_JOINED_S = 30.0
_MAX_SEGMENT_CHARS = 2_000
#: Twelve days: later timestamps are nonsense.
_MAX_TIME_S = 1_000_000.0

_TAG = re.compile(r"<[^>]*>")
#: A WebVTT voice span's start: ``<v Anna>`` or ``<v.loud Anna Svensson>``.
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_MAX_SPEAKER_CHARS = 80
_SENTENCE_END = re.compile("[.!?\u2026][\"'\u201d\u2019)]*$")


def _segment(start: float, end: float, text: str, speaker: str = "") -> Segment | None:
    text = clean_line(text, max_chars=_MAX_SEGMENT_CHARS)
    if not text or not (0 <= start <= _MAX_TIME_S):
        return None
    who = clean_line(speaker, max_chars=_MAX_SPEAKER_CHARS) if speaker else ""
    return Segment(start=start, end=min(max(end, start), _MAX_TIME_S), text=text,
                   speaker=who or None)


def _cue_times(line: str) -> tuple[float, float] | None:
    left, sep, right = line.partition("-->")
    if not sep:
        return None
    start = parse_timestamp(left)
    end = parse_timestamp(right.strip().split(" ", 1)[0].split("\t", 1)[0])
    return (start, end) if start is not None and end is not None else None


def parse_vtt_or_srt(text: str) -> tuple[Segment, ...]:
    """Cues of a WebVTT or SRT document (the two differ only in ways this ignores)."""
    segments: list[Segment] = []
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        lines = [line for line in block.split("\n") if line.strip()]
        timing = next((i for i, line in enumerate(lines) if "-->" in line), None)
        if timing is None or lines[0].startswith(("NOTE", "STYLE", "REGION")):
            continue  # the WEBVTT header, comments, style sheets, cue-less junk
        times = _cue_times(lines[timing])
        if times is None:
            continue
        raw = " ".join(lines[timing + 1:])
        voice = _VOICE.search(raw)
        words = html.unescape(_TAG.sub("", raw))
        speaker = html.unescape(voice.group(1)) if voice else ""  # markup, as the cue text is
        if (segment := _segment(times[0], times[1], words, speaker)) is not None:
            segments.append(segment)
        if len(segments) >= MAX_SEGMENTS:
            break
    return tuple(segments)


def _json_pieces(data: Any) -> Iterable[tuple[float, float, str, str]]:
    items = data.get("segments") if isinstance(data, dict) else None
    for item in (items if isinstance(items, list) else [])[:MAX_SEGMENTS * 10]:
        if not isinstance(item, dict):
            continue
        start, end = json_seconds(item.get("startTime")), json_seconds(item.get("endTime"))
        body = item.get("body")
        if start is None or not isinstance(body, str) or not body.strip():
            continue
        speaker = item.get("speaker")
        yield start, end if end is not None else start, body, speaker if isinstance(
            speaker, str) else ""


def parse_json_transcript(text: str) -> tuple[Segment, ...]:
    """Segments of a Podcasting 2.0 JSON transcript, word pieces joined into sentences."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return ()
    segments: list[Segment] = []
    current: list[tuple[float, float, str, str]] = []

    def flush() -> None:
        if current and len(segments) < MAX_SEGMENTS:
            joined = " ".join(piece[2].strip() for piece in current)
            segment = _segment(current[0][0], current[-1][1], joined, current[0][3])
            if segment is not None:
                segments.append(segment)
        current.clear()

    for piece in _json_pieces(data):
        if current and (piece[3] != current[-1][3] or piece[1] - current[0][0] > MAX_JOINED_S):
            flush()
        current.append(piece)
        if _SENTENCE_END.search(piece[2].strip()):
            flush()
    flush()
    return tuple(segments)


class _Paragraphs(HTMLParser):
    """Paragraph texts, each with the last ``<time>`` seen before it (if any)."""

    _BLOCKS = frozenset({"p", "div", "li", "br", "h1", "h2", "h3", "h4", "tr", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[float | None, str]] = []
        self._time: float | None = None
        self._in_time = self._skip = 0
        self._buffer: list[str] = []

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.items.append((self._time, text))
        self._buffer = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "title", "cite"):
            self._skip += 1
        elif tag == "time":
            self._flush()
            self._in_time += 1
            stamp = dict(attrs).get("datetime")
            if stamp and (seconds := parse_timestamp(stamp)) is not None:
                self._time = seconds
        elif tag in self._BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title", "cite"):
            self._skip = max(0, self._skip - 1)
        elif tag == "time":
            self._in_time = max(0, self._in_time - 1)
        elif tag in self._BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_time:
            if (seconds := parse_timestamp(data)) is not None:
                self._time = seconds
            return
        self._buffer.append(data)


def parse_html_transcript(text: str) -> tuple[Segment, ...]:
    """Paragraphs of an HTML (or plain text) transcript; timed by ``<time>`` when present.

    A timed paragraph ends where the next one starts; untimed ones have start = end = 0.0.
    """
    paragraphs: list[tuple[float | None, str]]
    if "<" not in text:
        paragraphs = [(None, p) for p in re.split(r"\n\s*\n", text)]
    else:
        parser = _Paragraphs()
        parser.feed(text)
        parser.close()
        parser._flush()
        paragraphs = parser.items
    segments: list[Segment] = []
    for i, (start, words) in enumerate(paragraphs[:MAX_SEGMENTS]):
        following = [t for t, _ in paragraphs[i + 1:i + 50] if t is not None and start is not None
                     and t >= start]
        begin = start if start is not None else 0.0
        end = next((t for t in following if t is not None), begin)
        if (segment := _segment(begin, end, words)) is not None:
            segments.append(segment)
    return tuple(segments)
