"""``poddarkiv serve --workers N``: several site processes over one data directory.

An ingest (here: a writer in the test process) keeps committing new index generations and new
episodes while two uvicorn worker processes answer searches. Every answer must be complete and
correct: no errors, the old episodes always found, the new one found by every process within a
second of its commit (``REFRESH_INTERVAL_S``, how often a reader looks for others' commits).
Both processes must have answered some of the searches (their CPU time, from ``/proc``).

Another host serves a copy of the data directory (``docs/scaling.md``): the copy is refreshed
as ``rsync --delay-updates`` does it (each changed file written beside its old self, then all
renamed into place), then ``kill -HUP`` makes uvicorn replace each site process by one that
opens the refreshed catalogue.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.index import REFRESH_INTERVAL_S, ArchiveIndex
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.store import Catalogue
from tests.cluster.conftest import ROOT, _free_port, wait_for
from tests.site.site_archive import FEED_ID, build_archive, sample_feed

WRITES = 10
READERS = 3
NEW_WORD = "kvarnstensbryggeri"
NEW_ID = "nytt-avsnitt"


@dataclass
class Site:
    url: str
    catalogue: Catalogue
    index: ArchiveIndex
    log: Path
    pid: int = 0
    answers: list[tuple[int, int]] = field(default_factory=list)


@contextmanager
def serving(root: Path, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``poddarkiv serve --workers 2`` over ``root`` on a free loopback port, until the end."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "poddarkiv", "--data-dir", str(root), "serve", "--workers", "2",
         "--port", str(port)], cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url), timeout_s=60, what="the site processes")
        yield url, process
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The sample archive, indexed, served by ``serve --workers 2`` on a loopback port."""
    catalogue = build_archive(tmp_path / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    index.rebuild(catalogue)
    log = tmp_path / "serve.log"
    try:
        with serving(catalogue.data.root, log) as (url, process):
            yield Site(url, catalogue, index, log, pid=process.pid)
    finally:
        index.close()
        catalogue.close()


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _total(url: str, query: str) -> tuple[int, int]:
    response = httpx.get(f"{url}/sok.json", params={"q": query}, timeout=30)
    total = response.json().get("total_episodes", -1) if response.status_code == 200 else -1
    return response.status_code, int(total)


def _add_episode(catalogue: Catalogue, index: ArchiveIndex) -> None:
    """What an ingest does for one new episode: catalogue, transcript, index."""
    episode = Episode(id=NEW_ID, feed_id=FEED_ID, guid="nytt", title="Nytt avsnitt",
                      published=datetime(2025, 7, 1, tzinfo=UTC))
    catalogue.save_episode(episode)
    transcript = Transcript(episode_id=episode.id, source="whisper", language="sv",
                            segments=(Segment(0.0, 4.0, f"Ett {NEW_WORD} i kommunen."),))
    catalogue.save_transcript(transcript)
    index.index_episode(sample_feed(), episode, transcript)


def _write(site: Site) -> None:
    """What an ingest does to the index: whole new generations, then one new episode."""
    for _ in range(WRITES):
        site.index.rebuild(site.catalogue)
    _add_episode(site.catalogue, site.index)


def _site_processes(pid: int) -> list[int]:
    """The uvicorn processes ``serve`` started (its children, but for multiprocessing's
    resource tracker)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid and b"resource_tracker" not in cmdline:
            found.append(int(stat.parent.name))
    return sorted(found)


def _cpu_ticks(pid: int) -> int:
    """User plus system CPU time of ``pid``, in clock ticks (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_searches_stay_correct_while_ingest_commits_generations(site: Site) -> None:
    status, baseline = _total(site.url, "upphandling")
    assert status == 200 and baseline > 0
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            site.answers.append(_total(site.url, "upphandling"))

    processes = _site_processes(site.pid)
    assert len(processes) == 2, processes
    cpu_before = {pid: _cpu_ticks(pid) for pid in processes}
    readers = [threading.Thread(target=read) for _ in range(READERS)]
    for reader in readers:
        reader.start()
    try:
        _write(site)
    finally:
        done.set()
        for reader in readers:
            reader.join()

    assert len(site.answers) >= 10, "too few searches ran while the index changed"
    assert set(site.answers) == {(200, baseline)}
    assert all(_cpu_ticks(pid) > cpu_before[pid] for pid in processes), "one process idled"
    # Every process sees the new episode within REFRESH_INTERVAL_S of its commit (requests
    # land on either process).
    time.sleep(REFRESH_INTERVAL_S + 0.5)
    found = {_total(site.url, NEW_WORD) for _ in range(12)}
    assert found == {(200, 1)}, site.log.read_text("utf-8", errors="replace")[-3000:]


def refresh_copy(source: Path, copy: Path) -> None:
    """What ``rsync -a --delete --delay-updates SOURCE/ COPY/`` does: every changed file is
    written beside its old self first, then all are renamed into place, then the gone ones go."""
    staged: list[tuple[Path, Path]] = []
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        target = copy / path.relative_to(source)
        if target.exists() and target.read_bytes() == path.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".~tmp~{target.name}")
        shutil.copy2(path, temp)
        staged.append((temp, target))
    for temp, target in staged:
        os.replace(temp, target)
    for path in sorted(copy.rglob("*"), reverse=True):
        if not (source / path.relative_to(copy)).exists():
            path.unlink() if path.is_file() else path.rmdir()


def _episode_page(url: str, episode_id: str) -> int:
    return httpx.get(f"{url}/avsnitt/{episode_id}.json", timeout=30).status_code


def test_a_host_serving_a_copy_shows_the_refreshed_archive_after_a_hup(tmp_path: Path) -> None:
    origin = build_archive(tmp_path / "origin")
    index = ArchiveIndex.open(origin.data.index)
    index.rebuild(origin)
    copy = tmp_path / "copy"
    refresh_copy(origin.data.root, copy)
    try:
        with serving(copy, tmp_path / "serve.log") as (url, process):
            assert _total(url, NEW_WORD) == (200, 0)
            _add_episode(origin, index)  # the next ingest, on the host that owns the archive
            refresh_copy(origin.data.root, copy)
            before = set(_site_processes(process.pid))
            process.send_signal(signal.SIGHUP)  # uvicorn replaces each process in turn
            wait_for(lambda: len(set(_site_processes(process.pid)) - before) == 2,
                     timeout_s=60, what="uvicorn to replace both site processes")
            wait_for(lambda: not before & set(_site_processes(process.pid)), timeout_s=30,
                     what="the old site processes to end")
            assert {_episode_page(url, NEW_ID) for _ in range(6)} == {200}
            assert {_total(url, NEW_WORD) for _ in range(6)} == {(200, 1)}
            assert {_total(url, "upphandling")[0] for _ in range(6)} == {200}
    finally:
        index.close()
        origin.close()
