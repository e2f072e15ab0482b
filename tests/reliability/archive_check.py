"""What "nothing is lost" means, checked on a data directory after a fault.

:func:`check_archive` opens a data directory the way a restarted poddarkiv would and returns every
broken promise it finds (an empty list means the archive is whole):

* the catalogue passes SQLite's ``integrity_check``;
* every current transcript's file exists, parses, and has the segment count its row says;
* every downloaded audio file named in the catalogue is usable audio (no truncated file under a
  final name);
* the index holds one document per catalogue episode and one per current transcript segment;
* neither the ingest lock nor Whoosh's write lock is held by anyone.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.errors import PoddarkivError

__all__ = [
    "ArchiveCounts",
    "catalogue_counts",
    "check_archive",
    "debris",
    "index_generation",
    "lock_is_free",
]

#: Leftovers of an interrupted write: harmless (never under a final name) but worth counting.
DEBRIS_PATTERNS = ("*.tmp", "*.partial")


@dataclass(frozen=True, slots=True)
class ArchiveCounts:
    """Episodes and transcript segments: in the catalogue, or as index documents."""

    episodes: int
    segments: int


def catalogue_counts(catalogue: Catalogue) -> ArchiveCounts:
    """What a complete index of ``catalogue`` must hold."""
    rows = catalogue.query(
        "SELECT count(*), coalesce(sum(segment_count), 0) FROM transcripts WHERE is_current = 1")
    return ArchiveCounts(catalogue.count_episodes(), int(rows[0][1]))


def index_generation(index_dir: Path) -> Path:
    """The Whoosh index directory ``CURRENT`` names."""
    return index_dir / (index_dir / "CURRENT").read_text("utf-8").strip()


def lock_is_free(path: Path) -> bool:
    """Whether nobody holds a ``flock`` on ``path`` (a missing file is free too)."""
    if not path.exists():
        return True
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def debris(root: Path) -> list[Path]:
    """Temporary files an interrupted write left behind."""
    return sorted(p for pattern in DEBRIS_PATTERNS for p in root.rglob(pattern))


@contextmanager
def _opened(root: Path) -> Iterator[tuple[Catalogue, ArchiveIndex]]:
    catalogue = Catalogue(DataDir(root))
    try:
        index = ArchiveIndex.open(catalogue.data.index)
        try:
            yield catalogue, index
        finally:
            index.close()
    finally:
        catalogue.close()


def _catalogue_problems(root: Path) -> list[str]:
    conn = sqlite3.connect(root / "catalogue.sqlite")
    try:
        result = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    return [] if result == ["ok"] else [f"catalogue integrity_check: {result[:3]}"]


def _file_problems(catalogue: Catalogue, *, probe_audio: bool) -> list[str]:
    problems = []
    for episode in catalogue.episodes():
        info = catalogue.transcript_info(episode.id)
        if info is not None:
            try:
                transcript = catalogue.load_transcript(info)
            except PoddarkivError as exc:
                problems.append(f"{episode.id}: {exc}")
            else:
                if len(transcript.segments) != info.segment_count:
                    problems.append(f"{episode.id}: {len(transcript.segments)} segments in the "
                                    f"file, {info.segment_count} in the catalogue")
        if probe_audio and episode.audio_path:
            from poddarkiv.ingest.audio import probe_audio as probe

            try:
                probe(catalogue.data.root / episode.audio_path)
            except PoddarkivError as exc:
                problems.append(f"{episode.id}: audio under its final name is unusable: {exc}")
    return problems


def _lock_problems(root: Path) -> list[str]:
    data = DataDir(root)
    problems = [] if lock_is_free(data.ingest_lock) else ["the ingest lock is held"]
    # Whoosh's write lock is a flock on <generation>/MAIN_WRITELOCK (whoosh.util.filelock).
    problems += [f"Whoosh's write lock in {lock.parent.name} is held"
                 for lock in sorted(data.index.glob("gen-*/*_WRITELOCK")) if not lock_is_free(lock)]
    return problems


def check_archive(root: Path, *, probe_audio: bool = True) -> list[str]:
    """Every way the archive in ``root`` falls short of "nothing lost"; empty when whole."""
    problems = _catalogue_problems(root)
    with _opened(root) as (catalogue, index):
        problems += _file_problems(catalogue, probe_audio=probe_audio)
        expected = catalogue_counts(catalogue)
        found = ArchiveCounts(*index.doc_counts())
        if found != expected:
            problems.append(f"index holds {found}, the catalogue says {expected}")
    return problems + _lock_problems(root)
