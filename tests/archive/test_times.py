"""archive.times: one owner for reading and writing times within an episode."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from poddarkiv.archive.times import (
    format_clock,
    format_timestamp,
    json_seconds,
    parse_clock,
    parse_offset,
    parse_timestamp,
    utcnow,
)


@pytest.mark.parametrize(
    ("seconds", "vtt", "srt"),
    [
        (0.0, "00:00:00.000", "00:00:00,000"),
        (7.25, "00:00:07.250", "00:00:07,250"),
        (59.9996, "00:01:00.000", "00:01:00,000"),
        (3661.001, "01:01:01.001", "01:01:01,001"),
        (-0.5, "00:00:00.000", "00:00:00,000"),
        (100 * 3600.0, "100:00:00.000", "100:00:00,000"),
    ],
)
def test_timestamps_are_hours_minutes_seconds_millis(seconds: float, vtt: str, srt: str) -> None:
    assert format_timestamp(seconds) == vtt
    assert format_timestamp(seconds, decimal=",") == srt


@pytest.mark.parametrize(("text", "seconds"), [
    ("00:00:01.000", 1.0), ("01:02:03.5", 3723.5), ("02:03,250", 123.25), ("100:00:00", 360000.0),
    ("00:61:00", None), ("1:2:3", None), ("soon", None), ("00:00:01.000 align", None),
])
def test_parse_timestamp(text: str, seconds: float | None) -> None:
    assert parse_timestamp(text) == seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("1:02:03", 3723.0), ("62:03", 3723.0), ("3723", 3723.0), ("90.5", 90.5), ("0", 0.0),
    (" 1:30 ", 90.0), ("1:2:3:4", None), ("1:xx", None), ("", None), ("-5", None),
])
def test_parse_clock_is_lenient_about_digits_but_not_about_shape(
        text: str, seconds: float | None) -> None:
    assert parse_clock(text) == seconds


@pytest.mark.parametrize(("text", "seconds"), [
    ("754", 754.0), ("754.5", 754.5), ("12:34", 754.0), ("1:02:03", 3723.0), ("1h2m3s", 3723.0),
    ("90s", 90.0), ("2m", 120.0), ("1H30M", 5400.0), (" 0:12 ", 12.0), ("-5", None), ("1e9", None),
    ("nan", None), ("", None), ("h", None), ("12:34abc", None), ("1:2:3:4", None),
])
def test_parse_offset_reads_what_people_put_in_links(text: str, seconds: float | None) -> None:
    assert parse_offset(text) == seconds


@pytest.mark.parametrize(("value", "seconds"), [
    (12, 12.0), (1.5, 1.5), ("7.25", 7.25), (True, None), (None, None), ("x", None),
    (-1, None), (math.inf, None), ("nan", None),
])
def test_json_seconds_takes_finite_non_negative_numbers(
        value: object, seconds: float | None) -> None:
    assert json_seconds(value) == seconds


@pytest.mark.parametrize(("seconds", "clock"), [
    (0, "0:00"), (59.9, "0:59"), (754.2, "12:34"), (3600, "1:00:00"), (3723, "1:02:03"),
    (-3, "0:00"),
])
def test_format_clock_is_minutes_under_an_hour_and_hours_above(seconds: float, clock: str) -> None:
    assert format_clock(seconds) == clock


def test_utcnow_is_aware_and_in_utc() -> None:
    now = utcnow()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
