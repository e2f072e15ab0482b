"""The catalogue's schema: every table and column, versioned, and the steps between versions.

This module owns all of the catalogue's DDL. The catalogue records its schema version in SQLite's
``PRAGMA user_version``; :func:`migrate` runs when a catalogue is opened for writing and applies,
in one transaction, every step from :data:`MIGRATIONS` that the file has not had yet. Opening an
up-to-date catalogue writes nothing, and no read ever creates a table (the site's first page view
used to take a write lock to create the knowledge tables).

Catalogues from before the version was recorded are at ``user_version`` 0 with any mix of the
tables below, so steps 1 to 4 only create what is missing (``IF NOT EXISTS``, and columns added
after checking ``PRAGMA table_info``). Steps after them may assume the version they start from.

A new column or table is one new step at the end of :data:`MIGRATIONS`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from importlib import resources

from poddarkiv.errors import CatalogueError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

# The tables of the first release: feeds, episodes, transcripts, reports, failures.
_CORE = """
CREATE TABLE IF NOT EXISTS feeds (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    link TEXT, language TEXT, image TEXT, author TEXT,
    etag TEXT, last_modified TEXT, body_sha256 TEXT,
    error_count INTEGER NOT NULL DEFAULT 0, last_error TEXT,
    last_fetched TEXT, next_fetch_after TEXT,
    added TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episodes (
    id TEXT PRIMARY KEY,
    feed_id TEXT NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
    guid TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    link TEXT, published TEXT, duration_s REAL, season INTEGER, number INTEGER, image TEXT,
    enclosure_url TEXT, enclosure_type TEXT, enclosure_length INTEGER,
    transcripts_json TEXT NOT NULL DEFAULT '[]',
    chapters_url TEXT,
    persons_json TEXT NOT NULL DEFAULT '[]',
    audio_path TEXT, audio_sha256 TEXT,
    first_seen TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS episodes_feed ON episodes(feed_id, published);
CREATE INDEX IF NOT EXISTS episodes_published ON episodes(published);
CREATE TABLE IF NOT EXISTS transcripts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    source TEXT NOT NULL, engine TEXT NOT NULL, model TEXT NOT NULL, model_sha256 TEXT,
    language TEXT NOT NULL, duration_s REAL, created TEXT NOT NULL,
    segment_count INTEGER NOT NULL,
    path TEXT NOT NULL,
    is_current INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS transcripts_current ON transcripts(episode_id, is_current);
CREATE TABLE IF NOT EXISTS ingest_reports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started TEXT NOT NULL, finished TEXT, report_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS episode_failures (
    episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    error TEXT NOT NULL, count INTEGER NOT NULL, failed_at TEXT NOT NULL,
    retry_at TEXT, enclosure_url TEXT
);
"""

# Feed history, problems and skipped items; inline chapters (the feeds work, issue 14).
_FEED_COLUMNS = (
    ("feeds", "previous_urls_json", "TEXT NOT NULL DEFAULT '[]'"),
    ("feeds", "problems_json", "TEXT NOT NULL DEFAULT '[]'"),
    ("feeds", "skipped_json", "TEXT NOT NULL DEFAULT '[]'"),
    ("feeds", "item_count", "INTEGER NOT NULL DEFAULT 0"),
    ("episodes", "chapters_json", "TEXT NOT NULL DEFAULT '[]'"),
)

# The cluster's job rows (poddarkiv.archive.jobs reads and writes them).
_TRANSCRIPTION_JOBS = """
CREATE TABLE IF NOT EXISTS transcription_jobs (
    episode_id TEXT PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    job_id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    state TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    worker TEXT, error TEXT,
    queued TEXT NOT NULL, updated TEXT NOT NULL
)
"""

# Passages corrected by people (poddarkiv.archive.corrections reads and writes them). A row is
# the source of truth for its passage: a re-transcription applies it again (start_s..end_s).
_CORRECTIONS = """
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    episode_id TEXT NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    start_s REAL NOT NULL, end_s REAL NOT NULL,
    original TEXT NOT NULL, text TEXT NOT NULL,
    editor TEXT NOT NULL, note TEXT NOT NULL,
    created TEXT NOT NULL,
    revision INTEGER,
    conflict TEXT, conflict_text TEXT
);
CREATE INDEX IF NOT EXISTS corrections_episode ON corrections(episode_id, id);
CREATE INDEX IF NOT EXISTS corrections_conflict ON corrections(conflict) WHERE conflict IS NOT NULL
"""

Migration = Callable[[sqlite3.Connection], None]


def _statements(script: str) -> list[str]:
    # One statement at a time: executescript() would commit the open transaction first.
    code = "\n".join(line.split("--")[0] for line in script.splitlines())
    return [s for s in code.split(";") if s.strip()]


def _run(conn: sqlite3.Connection, script: str) -> None:
    for statement in _statements(script):
        conn.execute(statement)


def _core_tables(conn: sqlite3.Connection) -> None:
    _run(conn, _CORE)


def _feed_columns(conn: sqlite3.Connection) -> None:
    for table, column, declaration in _FEED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")


def _knowledge_tables(conn: sqlite3.Connection) -> None:
    # Themes, references, people, key terms and chapters (poddarkiv.archive.knowledge).
    _run(conn, (resources.files("poddarkiv.archive") / "data" / "knowledge.sql").read_text("utf-8"))


def _job_table(conn: sqlite3.Connection) -> None:
    _run(conn, _TRANSCRIPTION_JOBS)


def _corrections_table(conn: sqlite3.Connection) -> None:
    _run(conn, _CORRECTIONS)


def _job_attempts(conn: sqlite3.Connection) -> None:
    # How many times a job was sent: more than once when the broker lost it (Redis restarted
    # without its data, flushed, or the result expired) and ingest sent it again.
    present = {row[1] for row in conn.execute("PRAGMA table_info(transcription_jobs)")}
    if "attempts" not in present:
        conn.execute("ALTER TABLE transcription_jobs ADD COLUMN attempts INTEGER NOT NULL "
                     "DEFAULT 1")


def _job_notes(conn: sqlite3.Connection) -> None:
    # What the transcript must say when it comes back (the publisher's transcript could not be
    # used): EpisodeNote dicts as JSON, kept with the job so a later run collecting it has them.
    present = {row[1] for row in conn.execute("PRAGMA table_info(transcription_jobs)")}
    if "notes_json" not in present:
        conn.execute("ALTER TABLE transcription_jobs ADD COLUMN notes_json TEXT NOT NULL "
                     "DEFAULT '[]'")


#: The steps, in order: a catalogue at version ``n`` has had the first ``n``.
MIGRATIONS: tuple[Migration, ...] = (_core_tables, _feed_columns, _knowledge_tables, _job_table,
                                     _corrections_table, _job_attempts, _job_notes)
#: The version a catalogue has once every step has run.
SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: sqlite3.Connection) -> int:
    """The version recorded in the catalogue (0: a new file, or one from before versions)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_not_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise CatalogueError(
            f"the catalogue has schema version {version}, newer than this poddarkiv knows "
            f"({SCHEMA_VERSION}): upgrade poddarkiv to open it")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the catalogue on ``conn`` (autocommit mode) to :data:`SCHEMA_VERSION`; return the
    version it had. Writes nothing when it is already there.

    The steps run in one ``BEGIN IMMEDIATE`` transaction, and the version is read again inside
    it, so two processes opening an old catalogue at once migrate it once.
    """
    before = schema_version(conn)
    _check_not_newer(before)
    if before == SCHEMA_VERSION:
        return before
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        _check_not_newer(current)
        for step in MIGRATIONS[current:]:
            step(conn)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return before
