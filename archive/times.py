"""Times, in and out: the one owner of parsing and formatting them, and of the clock.

Seconds (a ``float``) are the archive's one form of a time. What a feed, a caption file or a
chapters file writes is read here, and what people and players read is written here:

* :func:`parse_timestamp`: a cue time, ``HH:MM:SS.mmm`` / ``MM:SS.mmm`` (WebVTT) or with a comma
  (SubRip); strict, because a cue line that does not parse is not a cue.
* :func:`parse_clock`: a lenient clock, ``H:MM:SS``, ``MM:SS`` or seconds, each part maybe
  fractional (``itunes:duration``, Podlove chapter starts).
* :func:`parse_offset`: a moment a person types in a link (``?t=``): what :func:`parse_clock`
  reads, or ``1h2m3s`` / ``90s`` / ``2m`` as video sites write it.
* :func:`json_seconds`: a number or numeric string (Podcasting 2.0 JSON transcripts, chapters).
* :func:`format_timestamp`: ``HH:MM:SS.mmm`` or ``HH:MM:SS,mmm`` for caption files.
* :func:`format_clock`: ``m:ss`` or ``h:mm:ss`` for people.

Wall-clock time is :func:`utcnow`, the default :data:`Clock` of everything that stamps a record
(tests pass a fixed one).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "Clock",
    "format_clock",
    "format_timestamp",
    "json_seconds",
    "parse_clock",
    "parse_offset",
    "parse_timestamp",
    "utcnow",
]

#: Returns the current time, timezone-aware.
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


_TIMESTAMP = re.compile(r"^(?:(\d{1,3}):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?$")
_CLOCK_PART = re.compile(r"\d+(\.\d+)?")


def parse_timestamp(value: str) -> float | None:
    """Seconds from ``HH:MM:SS.mmm``, ``MM:SS.mmm`` or with a comma (SRT); ``None`` if not one."""
    match = _TIMESTAMP.match(value.strip())
    if match is None:
        return None
    hours, minutes, seconds, millis = match.groups()
    if int(minutes) >= 60 or int(seconds) >= 60:
        return None
    return (int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
            + int((millis or "0").ljust(3, "0")) / 1000)


def parse_clock(text: str) -> float | None:
    """``H:MM:SS``, ``MM:SS`` or seconds, each part maybe fractional, as seconds (0 allowed).

    >>> parse_clock("1:02:03.5"), parse_clock("90"), parse_clock("1:xx")
    (3723.5, 90.0, None)
    """
    parts = text.strip().split(":")
    if len(parts) > 3 or not all(_CLOCK_PART.fullmatch(p) for p in parts):
        return None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + float(part)
    return seconds


_UNITS = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?")


def parse_offset(text: str) -> float | None:
    """A moment in an episode as a person or a shared link writes it, as seconds; ``None``
    when it is none (never an error: it comes from a URL).

    >>> parse_offset("754.5"), parse_offset("12:34"), parse_offset("1h2m3s"), parse_offset("90s")
    (754.5, 754.0, 3723.0, 90.0)
    >>> parse_offset("-5"), parse_offset("1e9"), parse_offset("nan"), parse_offset("")
    (None, None, None, None)
    """
    text = text.strip().lower()[:32]
    clock = parse_clock(text)
    if clock is not None:
        return clock
    match = _UNITS.fullmatch(text)
    if not text or match is None:
        return None
    hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def json_seconds(value: Any) -> float | None:
    """A time in a Podcasting 2.0 JSON file (a number, or a numeric string) as seconds, or
    ``None`` when it is not a finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def format_timestamp(seconds: float, *, decimal: str = ".") -> str:
    """``HH:MM:SS.mmm`` (WebVTT) or, with ``decimal=","``, ``HH:MM:SS,mmm`` (SubRip)."""
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def format_clock(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``, whole seconds, never negative.

    >>> format_clock(754.2), format_clock(3723)
    ('12:34', '1:02:03')
    """
    s = max(0, int(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"
