"""The Whoosh schema: one document per transcript segment, one per episode.

Both kinds share ``episode_id`` (so an episode's documents are replaced with one delete), and
``doc_id`` is unique: ``ep:<episode>`` or ``seg:<episode>:<n>``. Text fields use
:class:`~poddarkiv.archive.analysis.SwedishAnalyzer`; ``text`` keeps unstemmed words in a
spelling field for "Menade du …?".

``ep_themes`` is on every document, so a theme filter is one term; ``seg_themes`` holds the themes
assigned to one segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType

from poddarkiv.archive.analysis import SwedishAnalyzer
from poddarkiv.archive.compounds import CompoundSplitter
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

__all__ = [
    "EPISODE",
    "SCHEMA_VERSION",
    "SEGMENT",
    "EpisodeThemes",
    "build_schema",
    "day_number",
    "episode_doc_id",
    "segment_doc_id",
]

#: Bumped when documents change shape; an index of another version needs ``reindex``.
SCHEMA_VERSION = 1
EPISODE = "ep"
SEGMENT = "seg"

_EPOCH = date(1970, 1, 1)

#: Field boosts: a word in the title says more about the episode than one in its description.
TITLE_BOOST = 3.0
PODCAST_BOOST = 1.5
DESCRIPTION_BOOST = 1.0


@dataclass(frozen=True, slots=True)
class EpisodeThemes:
    """Themes assigned to one episode: ``(slug, score)`` pairs, and slugs per segment index."""

    episode: tuple[tuple[str, float], ...] = ()
    segments: Mapping[int, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def slugs(self) -> tuple[str, ...]:
        """The episode's theme slugs, best first."""
        return tuple(slug for slug, _ in self.episode)


def build_schema(splitter: CompoundSplitter | None = None) -> Schema:
    """The schema, with Swedish analysis using ``splitter`` (the shipped lexicon by default)."""
    sv = SwedishAnalyzer(splitter)
    return Schema(
        # Stored only: documents are replaced per episode (``episode_id``), never by ``doc_id``.
        doc_id=STORED(),
        kind=ID(stored=True, sortable=True),
        episode_id=ID(stored=True, sortable=True),
        feed_id=ID(stored=True),
        # Days since 1970-01-01 (UTC): 4 index terms a document instead of DATETIME's 16.
        day=NUMERIC(int, bits=32, signed=True, shift_step=8, sortable=True),
        published=STORED(),
        ep_themes=KEYWORD(stored=True, commas=True, lowercase=True),
        seg_themes=KEYWORD(stored=True, commas=True, lowercase=True),
        # Segments.
        seg=STORED(),
        start=STORED(),
        end=STORED(),
        text=TEXT(analyzer=sv, stored=True, phrase=True, spelling=True),
        # Episodes.
        title=TEXT(analyzer=sv, stored=True, field_boost=TITLE_BOOST),
        description=TEXT(analyzer=sv, stored=False, field_boost=DESCRIPTION_BOOST),
        podcast=TEXT(analyzer=sv, stored=True, field_boost=PODCAST_BOOST),
    )


def day_number(value: date | datetime) -> int:
    """Days since 1970-01-01 (a datetime counts by its UTC date)."""
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return (value - _EPOCH).days


def episode_doc_id(episode_id: str) -> str:
    """The unique ``doc_id`` of an episode's own document."""
    return f"{EPISODE}:{episode_id}"


def segment_doc_id(episode_id: str, index: int) -> str:
    """The unique ``doc_id`` of one segment's document."""
    return f"{SEGMENT}:{episode_id}:{index}"
