"""The Whoosh schema: one document per transcript segment, one per episode.

Both kinds share ``episode_id`` (so an episode's documents are replaced with one delete), and
episode documents carry ``doc_id`` ``ep:<episode>``. Text fields use
:class:`~poddarkiv.archive.index.analyzer.SwedishAnalyzer`. The episode document lists its
transcript's distinct unstemmed words in ``spelling``, for "Menade du …?" (Whoosh's own
``TEXT(spelling=True)`` added every word of every segment again, a fifth of the build).

``ep_themes`` is on every document, so a theme filter is one term; ``seg_themes`` holds the themes
assigned to one segment.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from poddarkiv.archive.compounds import CompoundSplitter
from poddarkiv.archive.index.analyzer import SwedishAnalyzer

__all__ = [
    "EPISODE",
    "SCHEMA_VERSION",
    "SEGMENT",
    "SPELL_FIELD",
    "build_schema",
    "day_number",
    "episode_doc_id",
    "episode_key",
]

#: Bumped when documents change shape; an index of another version needs ``reindex``.
SCHEMA_VERSION = 5
EPISODE = "ep"
SEGMENT = "seg"
#: The field of unstemmed transcript words, once per episode (its document frequency counts
#: the episodes that use a word).
SPELL_FIELD = "spelling"

_EPOCH = date(1970, 1, 1)

#: Field boosts: a word in the title says more about the episode than one in its description.
TITLE_BOOST = 3.0
PODCAST_BOOST = 1.5
DESCRIPTION_BOOST = 1.0



def build_schema(splitter: CompoundSplitter | None = None) -> Schema:
    """The schema, with Swedish analysis using ``splitter`` (the shipped lexicon by default)."""
    sv = SwedishAnalyzer(splitter)
    return Schema(
        # Stored only (documents are replaced per episode, never by ``doc_id``): for debugging.
        doc_id=STORED(),
        kind=ID(),
        episode_id=ID(stored=True),
        # Fixed-width columns: Whoosh opens a variable-width (ID) column by reading an offset
        # for every document, which cProfile showed costing milliseconds per search.
        ep_key=COLUMN(NumericColumn("q")),
        is_ep=COLUMN(NumericColumn("B")),
        # Percent taken off a segment's search score (an uncertain passage: see
        # ``archive.confidence.search_weight``); 0, the column's default, on every other document.
        doubt=COLUMN(NumericColumn("B")),
        feed_id=ID(),
        # Days since 1970-01-01 (UTC): 4 index terms a document instead of DATETIME's 16.
        day=NUMERIC(int, bits=32, signed=True, shift_step=8, sortable=True),
        ep_themes=KEYWORD(commas=True, lowercase=True),
        seg_themes=KEYWORD(stored=True, commas=True, lowercase=True),
        # Segments.
        seg=STORED(),
        start=STORED(),
        end=STORED(),
        text=TEXT(analyzer=sv, stored=True, phrase=True),
        # Episodes: ``meta`` holds what a hit shows (see ``index_docs.episode_meta``), stored on the
        # episode's document only, so segment documents stay small.
        title=TEXT(analyzer=sv, field_boost=TITLE_BOOST),
        description=TEXT(analyzer=sv, field_boost=DESCRIPTION_BOOST),
        podcast=TEXT(analyzer=sv, field_boost=PODCAST_BOOST),
        meta=STORED(),
        spelling=KEYWORD(lowercase=False, scorable=False),
    )


def day_number(value: date | datetime) -> int:
    """Days since 1970-01-01 (a datetime counts by its UTC date)."""
    if isinstance(value, datetime):
        value = (value.astimezone(UTC) if value.tzinfo else value).date()
    return (value - _EPOCH).days


def episode_key(episode_id: str) -> int:
    """A signed 64-bit number for an episode id: the grouping key kept in a column."""
    digest = hashlib.blake2b(episode_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def episode_doc_id(episode_id: str) -> str:
    """The unique ``doc_id`` of an episode's own document."""
    return f"{EPISODE}:{episode_id}"

