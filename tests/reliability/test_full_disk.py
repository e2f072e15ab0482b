"""A full disk during download, transcript write or index commit loses nothing.

The disk fills up at one point of an ingest (simulated: every file opened for writing whose
path matches the phase's pattern accepts :data:`FREE_BYTES` and then fails with ``ENOSPC``, the
way ``write(2)`` does on a full file system). For each phase:

* the ingest ends with a report naming the failed episode, never an unhandled ``OSError``;
* the partial output is removed (no ``*.partial``, no ``*.tmp``, no half-written index files);
* the index writer is cancelled, so no lock stays held;
* the previous index still answers searches, with the documents it had;
* once there is space again, the next ingest finishes the episode and the archive is whole.

When this machine lets us mount a tmpfs (root in a container that allows it), one more test
fills a real 4 MiB file system, SQLite's own writes included.
"""

from __future__ import annotations

import builtins
import errno
import fnmatch
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.search import SearchRequest
from poddarkiv.archive.store import DataDir
from poddarkiv.errors import PoddarkivError
from tests.httpserver import LoopbackServer
from tests.reliability.archive_check import check_archive, debris, index_generation, lock_is_free
from tests.reliability.harness import Podcast, ingest_once

#: How much a file may still take before the disk is full.
FREE_BYTES = 4096
#: Which files each phase writes (relative to the data directory).
PHASES = {
    "download": "audio/*.partial",
    "transcript": "transcripts/*",
    "index": "index/gen-*/*",
}


class _FullFile:
    """A file that takes ``budget`` more bytes, then fails like a full disk."""

    def __init__(self, inner: Any, budget: int) -> None:
        self._inner, self._budget = inner, budget

    def write(self, data: Any) -> int:
        room = max(0, self._budget)
        if len(data) > room:
            self._inner.write(data[:room])
            self._budget = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._budget -= len(data)
        return int(self._inner.write(data))

    def __enter__(self) -> _FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def full_disk(root: Path, pattern: str) -> Iterator[list[str]]:
    """While open, writes to files under ``root`` matching ``pattern`` hit a full disk.

    Yields the names of the files that did.
    """
    real_open = builtins.open
    hit: list[str] = []

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if isinstance(file, str | Path) and any(m in mode for m in "wax+"):
            path = Path(file).resolve()
            if path.is_relative_to(root) and fnmatch.fnmatch(
                    path.relative_to(root).as_posix(), pattern):
                hit.append(path.name)
                return _FullFile(handle, FREE_BYTES)
        return handle

    builtins.open = fake_open
    try:
        yield hit
    finally:
        builtins.open = real_open


def _search_state(root: Path) -> tuple[tuple[int, int], int]:
    with ArchiveIndex.open(DataDir(root).index) as index:
        return index.doc_counts(), index.search(SearchRequest(q="partnerskap")).total_episodes


def _index_files(root: Path) -> set[str]:
    gen = index_generation(DataDir(root).index)
    return {p.name for p in gen.iterdir() if not p.name.endswith("_WRITELOCK")}


@pytest.fixture()
def podcast(http_server: LoopbackServer) -> Podcast:
    """The growing test podcast, with one episode so far."""
    served = Podcast(http_server)
    served.serve()
    served.episodes = 1
    return served


@pytest.mark.parametrize("phase", sorted(PHASES))
def test_a_full_disk_loses_nothing_and_the_next_run_succeeds(
        phase: str, podcast: Podcast, tmp_path: Path) -> None:
    root, feed_url = tmp_path / "data", podcast.server.url("/feed.xml")
    assert not ingest_once(root, feed_url).failed
    searched_before = _search_state(root)
    files_before = _index_files(root)
    podcast.episodes = 2
    with full_disk(root.resolve(), PHASES[phase]) as hit:
        report = ingest_once(root, feed_url)
    assert hit, f"the {phase} phase never wrote"
    assert report.failed and "space" in str(report.to_dict()["episodes"]).lower()
    assert debris(root) == []
    assert _index_files(root) == files_before
    assert lock_is_free(DataDir(root).ingest_lock)
    assert all(lock_is_free(p) for p in DataDir(root).index.glob("gen-*/*_WRITELOCK"))
    assert _search_state(root) == searched_before
    assert not ingest_once(root, feed_url).failed
    assert check_archive(root) == []
    assert _search_state(root)[0][0] == 2


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                              capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@pytest.fixture()
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB file system, when this machine lets us mount one."""
    mount = tmp_path / "tmpfs"
    if not _mount_tmpfs(mount, "4m"):
        pytest.skip("mounting a tmpfs is not permitted here; the simulated cases still run")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=10)


def test_a_really_full_file_system_is_survived(podcast: Podcast, tmpfs: Path,
                                               figures: dict[str, object]) -> None:
    root, feed_url = tmpfs / "data", podcast.server.url("/feed.xml")
    assert not ingest_once(root, feed_url).failed
    searched_before = _search_state(root)
    filler = tmpfs / "filler"
    with open(filler, "wb") as fh:  # fill the file system to the last block
        try:
            while True:
                fh.write(bytes(64 * 1024))
                fh.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    podcast.episodes = 3
    try:
        report = ingest_once(root, feed_url)
    except PoddarkivError as exc:  # a clean refusal: the catalogue could not even be opened
        outcome = f"{type(exc).__name__}: {str(exc).rsplit(':', 1)[-1].strip()}"
    else:
        assert report.failed
        outcome = f"report: {report.counts()}"
    figures["full 4 MiB tmpfs: what the ingest did"] = outcome
    assert _search_state(root) == searched_before
    filler.unlink()
    assert not ingest_once(root, feed_url).failed
    assert check_archive(root) == []
