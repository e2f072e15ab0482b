"""A catalogue file as the first release of poddarkiv wrote it, for migration tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from poddarkiv.archive.store import DataDir

__all__ = ["first_release_catalogue"]

_FEEDS = (
    "CREATE TABLE feeds (id TEXT PRIMARY KEY, url TEXT NOT NULL UNIQUE, title TEXT NOT "
    "NULL DEFAULT '', description TEXT NOT NULL DEFAULT '', link TEXT, language TEXT, "
    "image TEXT, author TEXT, etag TEXT, last_modified TEXT, body_sha256 TEXT, "
    "error_count INTEGER NOT NULL DEFAULT 0, last_error TEXT, last_fetched TEXT, "
    "next_fetch_after TEXT, added TEXT NOT NULL);"
    "INSERT INTO feeds (id, url, title, added) VALUES ('f1', 'https://e.se/f', 'Gammal', "
    "'2024-01-01T00:00:00+00:00');")
_EPISODES = (
    "CREATE TABLE episodes (id TEXT PRIMARY KEY, feed_id TEXT NOT NULL, guid TEXT NOT "
    "NULL, title TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', link TEXT, "
    "published TEXT, duration_s REAL, season INTEGER, number INTEGER, image TEXT, "
    "enclosure_url TEXT, enclosure_type TEXT, enclosure_length INTEGER, "
    "transcripts_json TEXT NOT NULL DEFAULT '[]', chapters_url TEXT, "
    "persons_json TEXT NOT NULL DEFAULT '[]', audio_path TEXT, audio_sha256 TEXT, "
    "first_seen TEXT NOT NULL);"
    "INSERT INTO episodes (id, feed_id, guid, title, first_seen) VALUES "
    "('e1', 'f1', 'g', 'Avsnitt', '2024-01-01T00:00:00+00:00');")


def first_release_catalogue(root: Path, *, with_episode: bool = False) -> DataDir:
    """The feeds table (one feed, ``f1``) and, with ``with_episode``, the episodes table (one
    episode, ``e1``) as the first release made them; ``user_version`` 0."""
    data = DataDir(root).ensure()
    with sqlite3.connect(data.catalogue) as conn:
        conn.executescript(_FEEDS + (_EPISODES if with_episode else ""))
    return data
