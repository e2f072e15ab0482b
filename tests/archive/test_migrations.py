"""The catalogue's schema version and migrations: old catalogues open and upgrade once; an
up-to-date or read-only open writes nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from poddarkiv.archive.migrations import MIGRATIONS, SCHEMA_VERSION, migrate, schema_version
from poddarkiv.archive.store import Catalogue, DataDir, open_catalogue
from poddarkiv.errors import CatalogueError
from tests.archive.old_catalogue import first_release_catalogue

KNOWLEDGE_TABLES = {"knowledge_meta", "themes", "episode_themes", "passage_themes",
                    "reference_mentions", "person_mentions", "episode_terms", "chapters"}


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return schema_version(conn)


def _unversioned_catalogue(root: Path) -> DataDir:
    """A catalogue as a release before versions left it: core tables with data, no knowledge
    or job tables, no later columns, ``user_version`` 0."""
    return first_release_catalogue(root)


def test_a_new_catalogue_is_created_at_the_current_version(tmp_path: Path) -> None:
    open_catalogue(tmp_path / "d").close()
    catalogue = tmp_path / "d" / "catalogue.sqlite"
    assert _version(catalogue) == SCHEMA_VERSION == len(MIGRATIONS)
    assert KNOWLEDGE_TABLES | {"feeds", "episodes", "transcripts", "transcription_jobs"} <= (
        _tables(catalogue))


def test_an_unversioned_catalogue_opens_migrates_and_keeps_its_rows(tmp_path: Path) -> None:
    data = _unversioned_catalogue(tmp_path / "old")
    assert _version(data.catalogue) == 0
    with Catalogue(data) as opened:
        feed = opened.feed("f1")
        assert feed is not None and feed.title == "Gammal" and feed.problems == ()
    assert _version(data.catalogue) == SCHEMA_VERSION
    assert KNOWLEDGE_TABLES | {"transcription_jobs", "episode_failures"} <= _tables(
        data.catalogue)


def test_opening_an_up_to_date_catalogue_twice_writes_nothing(tmp_path: Path) -> None:
    data = _unversioned_catalogue(tmp_path / "old")
    Catalogue(data).close()
    with sqlite3.connect(data.catalogue, isolation_level=None) as conn:
        changes = conn.total_changes
        assert migrate(conn) == SCHEMA_VERSION  # the version it already had: no step ran
        assert conn.total_changes == changes
    for _ in range(2):
        Catalogue(data).close()
    assert _version(data.catalogue) == SCHEMA_VERSION


def test_a_failed_step_leaves_the_old_version_and_tables(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _unversioned_catalogue(tmp_path / "old")

    def broken(conn: sqlite3.Connection) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr("poddarkiv.archive.migrations.MIGRATIONS", (*MIGRATIONS[:-1], broken))
    with pytest.raises(CatalogueError):
        Catalogue(data)
    assert _version(data.catalogue) == 0
    assert "themes" not in _tables(data.catalogue)


def test_a_catalogue_newer_than_this_poddarkiv_is_refused(tmp_path: Path) -> None:
    data = _unversioned_catalogue(tmp_path / "new")
    with sqlite3.connect(data.catalogue) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(CatalogueError, match="upgrade poddarkiv"):
        Catalogue(data)


def test_a_read_only_open_never_writes(tmp_path: Path) -> None:
    data = _unversioned_catalogue(tmp_path / "old")
    before = data.catalogue.read_bytes()
    with pytest.raises(CatalogueError, match="poddarkiv ingest or poddarkiv index"):
        Catalogue(data, read_only=True)  # too old to read, and not upgraded behind our back
    assert data.catalogue.read_bytes() == before and _version(data.catalogue) == 0
    Catalogue(data).close()
    with open_catalogue(data.root, read_only=True) as reader:
        assert reader.feed("f1") is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            reader.remove_feed("f1")  # SQLite itself refuses
    assert _version(data.catalogue) == SCHEMA_VERSION


def test_a_read_only_open_of_a_missing_archive_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError):
        open_catalogue(tmp_path / "nowhere", read_only=True)
    assert not (tmp_path / "nowhere").exists()
