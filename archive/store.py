"""The catalogue: feeds, episodes and transcripts, the archive's source of truth.

A data directory holds everything poddarkiv keeps::

    catalogue.sqlite        feeds, episodes, transcript rows (SQLite, WAL)
    audio/<episode>.<ext>   downloaded audio, named from our ids only
    transcripts/<episode>/<n>.json
    index/                  the Whoosh index, rebuildable from the above
    models/                 assembled Whisper weights (unless configured elsewhere)

Files are written to a temporary name, flushed and renamed, so a crash never leaves half a file
under a final name. A new transcript only becomes *current* once its file is complete; the old
one stays until then.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from poddarkiv.archive.codec import dt_from_iso, dt_to_iso, transcript_from_dict, transcript_to_dict
from poddarkiv.archive.files import atomic_write_bytes
from poddarkiv.archive.migrations import SCHEMA_VERSION, migrate, schema_version
from poddarkiv.archive.models import (
    Chapter,
    Enclosure,
    Episode,
    EpisodeFailure,
    Feed,
    Person,
    SkippedItem,
    Transcript,
    TranscriptLink,
)
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.errors import CatalogueError

# atomic_write_bytes belongs to archive.files; the fault-injection tests wrap it here, where the
# catalogue calls it.
__all__ = [
    "Catalogue",
    "DataDir",
    "ModelUsage",
    "TranscriptInfo",
    "atomic_write_bytes",
    "open_catalogue",
]

SQLITE_BUSY_TIMEOUT_S = 30.0

@dataclass(frozen=True, slots=True)
class DataDir:
    """The paths inside one data directory."""

    root: Path

    @property
    def catalogue(self) -> Path:
        return self.root / "catalogue.sqlite"

    @property
    def audio(self) -> Path:
        return self.root / "audio"

    @property
    def transcripts(self) -> Path:
        return self.root / "transcripts"

    @property
    def index(self) -> Path:
        return self.root / "index"

    @property
    def artwork(self) -> Path:
        """The archive's copies of the podcasts' images (``archive.artwork``)."""
        return self.root / "artwork"

    @property
    def ingest_lock(self) -> Path:
        return self.root / "ingest.lock"

    def ensure(self) -> DataDir:
        """Create the directories; return self."""
        for path in (self.root, self.audio, self.transcripts, self.index):
            path.mkdir(parents=True, exist_ok=True)
        return self


@dataclass(frozen=True, slots=True)
class TranscriptInfo:
    """A transcript's catalogue row, without loading its segments."""

    id: int
    episode_id: str
    source: str
    engine: str
    model: str
    language: str
    created: datetime
    segment_count: int
    path: str
    is_current: bool


@dataclass(frozen=True, slots=True)
class ModelUsage:
    """How many episodes' current transcripts came from one model (``poddarkiv models``).

    ``model_sha256`` is ``None`` for publisher transcripts and for transcripts stored before
    poddarkiv recorded it."""

    source: str
    engine: str
    model: str
    model_sha256: str | None
    episodes: int


class Catalogue:
    """Feeds, episodes and transcripts in SQLite, plus transcript files.

    Safe to share between threads (one connection behind a lock); several processes may open
    the same catalogue (WAL mode, busy timeout).
    """

    def __init__(self, data: DataDir, *, clock: Clock = utcnow, read_only: bool = False) -> None:
        """Open the catalogue in ``data``, creating it and migrating its schema as needed.

        ``read_only`` opens an existing catalogue without ever writing to it (no directories,
        no schema changes): it must exist and be at :data:`~poddarkiv.archive.migrations.
        SCHEMA_VERSION`, else :class:`CatalogueError` says what to do.
        """
        self.data = data if read_only else data.ensure()
        self.read_only = read_only
        self._clock = clock
        self._lock = threading.RLock()
        try:
            self._conn = _connect(data.catalogue, read_only=read_only)
        except sqlite3.DatabaseError as exc:
            raise CatalogueError(f"cannot open catalogue {data.catalogue}: {exc}") from exc

    # -- plumbing -------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Catalogue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), rolled back on any error."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"catalogue is busy or broken: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """Run a read query and return all rows."""
        with self._lock:
            try:
                return list(self._conn.execute(sql, params))
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"catalogue query failed: {exc}") from exc

    # -- feeds ----------------------------------------------------------------------------

    def save_feed(self, feed: Feed) -> None:
        """Insert or update a feed (matched by id)."""
        row = _feed_row(feed)
        cols = ", ".join(row)
        updates = ", ".join(f"{k}=excluded.{k}" for k in row if k != "id")
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO feeds ({cols}, added) VALUES ({', '.join('?' * len(row))}, ?) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                (*row.values(), dt_to_iso(self._clock())),
            )

    def feed(self, feed_id: str) -> Feed | None:
        rows = self.query("SELECT * FROM feeds WHERE id = ?", (feed_id,))
        return _feed(rows[0]) if rows else None

    def feed_by_url(self, url: str) -> Feed | None:
        rows = self.query("SELECT * FROM feeds WHERE url = ?", (url,))
        return _feed(rows[0]) if rows else None

    def feeds(self) -> list[Feed]:
        return [_feed(r) for r in self.query("SELECT * FROM feeds ORDER BY title, url")]

    def remove_feed(self, feed_id: str) -> bool:
        """Remove a feed, its episodes and transcript rows; return whether it existed."""
        with self.transaction() as conn:
            cur = conn.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))
            return cur.rowcount > 0

    # -- episodes -------------------------------------------------------------------------

    def save_episode(self, episode: Episode) -> bool:
        """Insert or update an episode; return True when anything changed."""
        row = _episode_row(episode)
        old = self.episode(episode.id)
        if old == episode:
            return False
        cols = ", ".join(row)
        updates = ", ".join(f"{k}=excluded.{k}" for k in row if k != "id")
        with self.transaction() as conn:
            conn.execute(
                f"INSERT INTO episodes ({cols}, first_seen) "
                f"VALUES ({', '.join('?' * len(row))}, ?) "
                f"ON CONFLICT(id) DO UPDATE SET {updates}",
                (*row.values(), dt_to_iso(self._clock())),
            )
        return True

    def episode(self, episode_id: str) -> Episode | None:
        rows = self.query("SELECT * FROM episodes WHERE id = ?", (episode_id,))
        return _episode(rows[0]) if rows else None

    def episodes(self, *, feed_id: str | None = None, limit: int | None = None,
                 offset: int = 0) -> list[Episode]:
        """Episodes, newest first."""
        where = "WHERE feed_id = ?" if feed_id else ""
        params: list[object] = [feed_id] if feed_id else []
        sql = f"SELECT * FROM episodes {where} ORDER BY published DESC, title"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [_episode(r) for r in self.query(sql, tuple(params))]

    def episode_image_urls(self) -> set[str]:
        """Every image URL an episode names (what the kept episode images may not lose)."""
        rows = self.query("SELECT DISTINCT image FROM episodes WHERE image IS NOT NULL "
                          "AND image != ''")
        return {str(r["image"]) for r in rows}

    def count_episodes(self, *, feed_id: str | None = None, text_only: bool = False) -> int:
        """How many episodes (of one feed); ``text_only``: only those without audio or
        transcript (see :attr:`Episode.text_only`)."""
        clauses, params = (["feed_id = ?"], (feed_id,)) if feed_id else ([], ())
        if text_only:
            clauses.append("enclosure_url IS NULL AND transcripts_json = '[]'")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        return int(self.query(f"SELECT count(*) FROM episodes {where}", params)[0][0])

    # -- transcripts ----------------------------------------------------------------------

    def save_transcript(self, transcript: Transcript) -> TranscriptInfo:
        """Write the transcript file, then make it the episode's current transcript.

        The previous transcript stays current until the new file is complete on disk.
        """
        if self.episode(transcript.episode_id) is None:
            raise CatalogueError(f"no episode {transcript.episode_id!r} for this transcript")
        created = transcript.created or self._clock()
        transcript = transcript.replace(created=created)
        folder = self.data.transcripts / transcript.episode_id
        stamp = created.strftime("%Y%m%dT%H%M%S%f")
        rel = f"transcripts/{transcript.episode_id}/{stamp}-{transcript.source}.json"
        body = json.dumps(transcript_to_dict(transcript), ensure_ascii=False, indent=1)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.data.root / rel, body.encode("utf-8"))
        except OSError as exc:  # a full disk, say: the old transcript stays current
            raise CatalogueError(f"cannot write transcript {rel}: {exc}") from exc
        with self.transaction() as conn:
            conn.execute("UPDATE transcripts SET is_current = 0 WHERE episode_id = ?",
                         (transcript.episode_id,))
            cur = conn.execute(
                "INSERT INTO transcripts (episode_id, source, engine, model, model_sha256, "
                "language, duration_s, created, segment_count, path, is_current) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                (transcript.episode_id, transcript.source, transcript.engine, transcript.model,
                 transcript.model_sha256, transcript.language, transcript.duration_s,
                 dt_to_iso(created), len(transcript.segments), rel),
            )
            row_id = int(cur.lastrowid or 0)
        return self._transcript_info(row_id)

    def transcript_info(self, episode_id: str) -> TranscriptInfo | None:
        """The current transcript's row, or ``None`` when the episode has none yet."""
        rows = self.query(
            "SELECT * FROM transcripts WHERE episode_id = ? AND is_current = 1", (episode_id,))
        return _transcript_info(rows[0]) if rows else None

    def transcript_history(self, episode_id: str) -> list[TranscriptInfo]:
        """Every transcript the episode has had, newest first."""
        rows = self.query(
            "SELECT * FROM transcripts WHERE episode_id = ? ORDER BY id DESC", (episode_id,))
        return [_transcript_info(r) for r in rows]

    def transcript(self, episode_id: str) -> Transcript | None:
        """The episode's current transcript with its segments."""
        info = self.transcript_info(episode_id)
        return self.load_transcript(info) if info else None

    def load_transcript(self, info: TranscriptInfo) -> Transcript:
        path = self.data.root / info.path
        try:
            return transcript_from_dict(json.loads(path.read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CatalogueError(f"transcript file {path} is unreadable: {exc}") from exc

    def model_usage(self) -> list[ModelUsage]:
        """Which model made each episode's current transcript, counted, most used first."""
        rows = self.query(
            "SELECT source, engine, model, model_sha256, count(*) AS n FROM transcripts "
            "WHERE is_current = 1 GROUP BY source, engine, model, model_sha256 "
            "ORDER BY n DESC, model")
        return [ModelUsage(r["source"], r["engine"], r["model"], r["model_sha256"], int(r["n"]))
                for r in rows]

    def episodes_transcribed_with(self, model: str) -> list[str]:
        """Ids of the episodes whose current transcript ``model`` made (its name as recorded)."""
        rows = self.query("SELECT episode_id FROM transcripts WHERE is_current = 1 AND model = ? "
                          "ORDER BY episode_id", (model,))
        return [str(r["episode_id"]) for r in rows]

    def _transcript_info(self, row_id: int) -> TranscriptInfo:
        return _transcript_info(self.query("SELECT * FROM transcripts WHERE id = ?", (row_id,))[0])

    # -- episode failures -----------------------------------------------------------------

    def save_episode_failure(self, failure: EpisodeFailure) -> None:
        """Record (or replace) why an episode failed and when to try it again."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO episode_failures (episode_id, error, count, failed_at, "
                "retry_at, enclosure_url) VALUES (?, ?, ?, ?, ?, ?)",
                (failure.episode_id, failure.error, failure.count, dt_to_iso(failure.failed_at),
                 dt_to_iso(failure.retry_at), failure.enclosure_url))

    def clear_episode_failure(self, episode_id: str) -> None:
        """Forget an episode's failure (it succeeded)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM episode_failures WHERE episode_id = ?", (episode_id,))

    def release_episode_failures(self) -> int:
        """Make every waiting episode due now (their failure counts stay); return how many."""
        with self.transaction() as conn:
            cur = conn.execute("UPDATE episode_failures SET retry_at = failed_at, "
                               "enclosure_url = NULL")
            return cur.rowcount

    def episode_failures(self, *, feed_id: str | None = None) -> dict[str, EpisodeFailure]:
        """Every recorded episode failure (of one feed), by episode id."""
        sql = "SELECT f.* FROM episode_failures f"
        params: tuple[str, ...] = ()
        if feed_id:
            sql += " JOIN episodes e ON e.id = f.episode_id WHERE e.feed_id = ?"
            params = (feed_id,)
        return {row["episode_id"]: _failure(row) for row in self.query(sql, params)}

    # -- ingest reports -------------------------------------------------------------------

    def save_report(self, started: datetime, finished: datetime, report: dict[str, Any]) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO ingest_reports (started, finished, report_json) VALUES (?, ?, ?)",
                (dt_to_iso(started), dt_to_iso(finished), json.dumps(report, ensure_ascii=False)),
            )

    def last_report(self) -> dict[str, Any] | None:
        rows = self.query("SELECT * FROM ingest_reports ORDER BY id DESC LIMIT 1")
        if not rows:
            return None
        report: dict[str, Any] = json.loads(rows[0]["report_json"])
        report.setdefault("started", rows[0]["started"])
        report.setdefault("finished", rows[0]["finished"])
        return report


def _connect(path: Path, *, read_only: bool) -> sqlite3.Connection:
    if read_only:
        # mode=ro: SQLite itself refuses every write, and a missing file is an error, not a
        # new empty catalogue.
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                               timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False,
                               isolation_level=None)
    else:
        conn = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S, check_same_thread=False,
                               isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        if read_only:
            version = schema_version(conn)
            if version != SCHEMA_VERSION:
                raise CatalogueError(
                    f"the catalogue {path} has schema version {version}, not "
                    f"{SCHEMA_VERSION}: run a writing command once (poddarkiv ingest or "
                    "poddarkiv index) to upgrade it")
        else:
            _enter_wal(conn)
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        if not read_only:
            migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _enter_wal(conn: sqlite3.Connection, *, sleep: float = 0.01) -> None:
    """Switch ``conn`` to WAL mode, waiting (up to the busy timeout) for another opener.

    SQLite does not call its busy handler while another connection is turning a new
    database into WAL: the statement fails at once with "database is locked". Three threads
    opening one new catalogue together hit this in 35 of 300 tries, so a ``serve`` and an
    ``ingest`` started at the same moment could fail; here they wait their turn instead.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() >= deadline:
                raise
            time.sleep(sleep)
            sleep = min(sleep * 2, 0.2)


def open_catalogue(data_dir: Path, *, read_only: bool = False) -> Catalogue:
    """Open (creating and migrating if needed, unless ``read_only``) the catalogue in
    ``data_dir``."""
    return Catalogue(DataDir(Path(data_dir)), read_only=read_only)


# -- row conversion -------------------------------------------------------------------------


def _feed_row(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id, "url": feed.url, "title": feed.title, "description": feed.description,
        "link": feed.link, "language": feed.language, "image": feed.image, "author": feed.author,
        "etag": feed.etag, "last_modified": feed.last_modified, "body_sha256": feed.body_sha256,
        "error_count": feed.error_count, "last_error": feed.last_error,
        "last_fetched": dt_to_iso(feed.last_fetched),
        "next_fetch_after": dt_to_iso(feed.next_fetch_after),
        "previous_urls_json": json.dumps(list(feed.previous_urls), ensure_ascii=False),
        "problems_json": json.dumps(list(feed.problems), ensure_ascii=False),
        "skipped_json": json.dumps([[s.title, s.guid, s.reason, s.count] for s in feed.skipped],
                                   ensure_ascii=False),
        "item_count": feed.item_count,
    }


def _feed(row: sqlite3.Row) -> Feed:
    return Feed(
        id=row["id"], url=row["url"], title=row["title"], description=row["description"],
        link=row["link"], language=row["language"], image=row["image"], author=row["author"],
        etag=row["etag"], last_modified=row["last_modified"], body_sha256=row["body_sha256"],
        error_count=row["error_count"], last_error=row["last_error"],
        last_fetched=dt_from_iso(row["last_fetched"]),
        next_fetch_after=dt_from_iso(row["next_fetch_after"]),
        previous_urls=tuple(json.loads(row["previous_urls_json"])),
        problems=tuple(json.loads(row["problems_json"])),
        skipped=tuple(SkippedItem(*s) for s in json.loads(row["skipped_json"])),
        item_count=row["item_count"],
    )


def _episode_row(ep: Episode) -> dict[str, Any]:
    enc = ep.enclosure
    return {
        "id": ep.id, "feed_id": ep.feed_id, "guid": ep.guid, "title": ep.title,
        "description": ep.description, "link": ep.link, "published": dt_to_iso(ep.published),
        "duration_s": ep.duration_s, "season": ep.season, "number": ep.number, "image": ep.image,
        "enclosure_url": enc.url if enc else None, "enclosure_type": enc.type if enc else None,
        "enclosure_length": enc.length if enc else None,
        "transcripts_json": json.dumps(
            [[t.url, t.type, t.language, t.rel] for t in ep.transcripts], ensure_ascii=False),
        "chapters_url": ep.chapters_url,
        "persons_json": json.dumps(
            [[p.name, p.role, p.group, p.href, p.img] for p in ep.persons], ensure_ascii=False),
        "audio_path": ep.audio_path, "audio_sha256": ep.audio_sha256,
        "chapters_json": json.dumps([[c.start, c.title, c.url] for c in ep.chapters],
                                    ensure_ascii=False),
    }


def _episode(row: sqlite3.Row) -> Episode:
    enclosure = None
    if row["enclosure_url"]:
        enclosure = Enclosure(row["enclosure_url"], row["enclosure_type"] or "",
                              row["enclosure_length"])
    return Episode(
        id=row["id"], feed_id=row["feed_id"], guid=row["guid"], title=row["title"],
        description=row["description"], link=row["link"], published=dt_from_iso(row["published"]),
        duration_s=row["duration_s"], season=row["season"], number=row["number"],
        image=row["image"], enclosure=enclosure,
        transcripts=tuple(TranscriptLink(*t) for t in json.loads(row["transcripts_json"])),
        chapters_url=row["chapters_url"],
        persons=tuple(Person(*p) for p in json.loads(row["persons_json"])),
        audio_path=row["audio_path"], audio_sha256=row["audio_sha256"],
        chapters=tuple(Chapter(*c) for c in json.loads(row["chapters_json"])),
    )


def _failure(row: sqlite3.Row) -> EpisodeFailure:
    return EpisodeFailure(
        episode_id=row["episode_id"], error=row["error"], count=row["count"],
        failed_at=dt_from_iso(row["failed_at"]) or datetime.min.replace(tzinfo=UTC),
        retry_at=dt_from_iso(row["retry_at"]), enclosure_url=row["enclosure_url"])


def _transcript_info(row: sqlite3.Row) -> TranscriptInfo:
    return TranscriptInfo(
        id=row["id"], episode_id=row["episode_id"], source=row["source"], engine=row["engine"],
        model=row["model"], language=row["language"],
        created=dt_from_iso(row["created"]) or datetime.min.replace(tzinfo=UTC),
        segment_count=row["segment_count"], path=row["path"], is_current=bool(row["is_current"]),
    )
