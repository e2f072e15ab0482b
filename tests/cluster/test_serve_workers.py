"""``poddarkiv serve --workers N``: several site processes over one data directory.

An ingest (here: a writer in the test process) keeps committing new index generations and new
episodes while two uvicorn worker processes answer searches. Every answer must be complete and
correct: no errors, the old episodes always found, the new one found by every process within a
second of its commit (``REFRESH_INTERVAL_S``, how often a reader looks for others' commits).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
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


@dataclass
class Site:
    url: str
    catalogue: Catalogue
    index: ArchiveIndex
    log: Path
    answers: list[tuple[int, int]] = field(default_factory=list)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """The sample archive, indexed, served by ``serve --workers 2`` on a loopback port."""
    root = tmp_path / "data"
    catalogue = build_archive(root)
    index = ArchiveIndex.open(catalogue.data.index)
    index.rebuild(catalogue)
    port = _free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "poddarkiv", "--data-dir", str(root), "serve", "--workers", "2",
         "--port", str(port)], cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url), timeout_s=60, what="the site processes")
        yield Site(url, catalogue, index, log)
    finally:
        process.terminate()
        process.wait(timeout=30)
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


def _write(site: Site) -> None:
    """What an ingest does to the index: whole new generations, then one new episode."""
    for _ in range(WRITES):
        site.index.rebuild(site.catalogue)
    episode = Episode(id="nytt-avsnitt", feed_id=FEED_ID, guid="nytt", title="Nytt avsnitt",
                      published=datetime(2025, 7, 1, tzinfo=UTC))
    site.catalogue.save_episode(episode)
    transcript = Transcript(episode_id=episode.id, source="whisper", language="sv",
                            segments=(Segment(0.0, 4.0, f"Ett {NEW_WORD} i kommunen."),))
    site.catalogue.save_transcript(transcript)
    site.index.index_episode(sample_feed(), episode, transcript)


def test_searches_stay_correct_while_ingest_commits_generations(site: Site) -> None:
    status, baseline = _total(site.url, "upphandling")
    assert status == 200 and baseline > 0
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            site.answers.append(_total(site.url, "upphandling"))

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
    # Every process sees the new episode within REFRESH_INTERVAL_S of its commit (requests
    # land on either process).
    time.sleep(REFRESH_INTERVAL_S + 0.5)
    found = {_total(site.url, NEW_WORD) for _ in range(12)}
    assert found == {(200, 1)}, site.log.read_text("utf-8", errors="replace")[-3000:]
