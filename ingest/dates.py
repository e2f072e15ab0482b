"""Feed dates that feedparser misreads: Swedish day and month names, and named zones.

feedparser reads RFC 822 dates with English names and the US zone abbreviations; Swedish
publishers write ``tis, 05 mar 2024 10:00:00 CET`` (no date at all from feedparser) or
``Tue, 05 Mar 2024 10:00:00 CET`` (read as UTC, an hour off). :func:`parse_feed_date` reads
exactly those and answers ``None`` for everything else, so feedparser's reading stands there.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["parse_feed_date"]

# Central and western European zones (RFC 822 knows only GMT and the US ones).
_ZONES = {
    "CET": "+0100", "CEST": "+0200", "MET": "+0100", "MEST": "+0200", "MESZ": "+0200",
    "MEZ": "+0100", "EET": "+0200", "EEST": "+0300", "WET": "+0000", "WEST": "+0100",
    "BST": "+0100",
}
_MONTHS = {
    "januari": "Jan", "februari": "Feb", "mars": "Mar", "april": "Apr", "maj": "May",
    "juni": "Jun", "juli": "Jul", "augusti": "Aug", "september": "Sep", "oktober": "Oct",
    "november": "Nov", "december": "Dec", "okt": "Oct",
}
_DAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag",
         "mån", "tis", "ons", "tors", "tor", "fre", "lör", "sön")
_WORD = re.compile(r"[^\W\d_]+")
_MAX_CHARS = 80


def _english(text: str) -> tuple[str, bool]:
    """``text`` with Swedish names and named zones made RFC 822, and whether anything changed."""
    changed = False

    def word(match: re.Match[str]) -> str:
        nonlocal changed
        value = match.group(0)
        lower = value.lower()
        if value.upper() in _ZONES and value.isupper():
            changed = True
            return _ZONES[value.upper()]
        if lower in _DAYS:
            changed = True
            return ""
        if lower in _MONTHS:
            changed = True
            return _MONTHS[lower]
        return value

    return _WORD.sub(word, text), changed


def parse_feed_date(value: object) -> datetime | None:
    """A UTC datetime for a date feedparser would misread, else ``None``."""
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_CHARS:
        return None
    text, changed = _english(value.strip())
    if not changed:
        return None
    text = " ".join(text.replace(",", " ").split())
    if ":" not in text:
        text += " 00:00:00"  # a date without a time of day
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
