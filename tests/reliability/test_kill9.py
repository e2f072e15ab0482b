"""kill -9 at random points of an ingest, again and again: nothing committed is ever lost.

Each loop adds one episode to a feed on a loopback server and starts an ingest in a child
process (:mod:`tests.reliability.fault_child`) that is killed with SIGKILL at a random point of
one phase, taken in turn:

* ``download``: a random moment while the (throttled) audio streams in;
* ``transcribe``: a random moment while the fake Whisper works;
* ``catalogue``: a random hook event inside a SQLite transaction or a transcript file write;
* ``index``: a random hook event inside a Whoosh commit (file writes, renames).

Then a second ingest runs unharmed. It must open cleanly (no stale lock, no corrupt catalogue
or index), finish every episode, and leave an archive where :func:`check_archive` finds nothing
wrong: index documents equal the catalogue's episodes and segments, every transcript readable,
every audio file whole. Episodes transcribed before a loop are still transcribed after it, and
the fake Whisper never saw a byte of audio that differs from what the server sent.

``PODDARKIV_FAULT_LOOPS`` sets the number of loops (default 10; the published figure uses 100).
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from poddarkiv.archive.store import Catalogue, DataDir
from tests.httpserver import LoopbackServer
from tests.reliability.archive_check import check_archive, debris
from tests.reliability.budget import FAULT_LOOPS
from tests.reliability.fault_child import TRANSCRIBE_S
from tests.reliability.harness import CHILD_TIMEOUT_S, Child, Podcast

PHASES = ("download", "transcribe", "catalogue", "index")
#: Until a clean run has counted them, assume a phase has this many hook events.
DEFAULT_EVENTS = 40


def _transcribed(root: Path) -> set[str]:
    catalogue = Catalogue(DataDir(root))
    try:
        return {e.id for e in catalogue.episodes() if catalogue.transcript_info(e.id)}
    finally:
        catalogue.close()


@dataclass
class EventCounts:
    """How many hook events a run that ingests one whole episode has, per phase.

    Learnt from every run that finished exactly one new episode; the median, because a Whoosh
    commit that also merges segments writes several times more than a plain one.
    """

    seen: dict[str, list[int]] = field(default_factory=lambda: {"catalogue": [], "index": []})

    def learn(self, out: dict[str, Any]) -> None:
        if out.get("REPORT", {}).get("counts", {}).get("episode:transcribed") == 1:
            for phase, counts in self.seen.items():
                counts.append(int(out.get("EVENTS", {}).get(phase, 0)))

    def typical(self, phase: str) -> int:
        counts = sorted(self.seen[phase])
        return max(1, counts[len(counts) // 2]) if counts else DEFAULT_EVENTS


def _faulted_run(phase: str, root: Path, feed_url: str, podcast: Podcast, rng: random.Random,
                 events: EventCounts) -> int:
    """One ingest killed at a random point of ``phase``; returns its exit status."""
    if phase in ("catalogue", "index"):
        kill_at = rng.randint(1, events.typical(phase))
        child = Child.start(root, feed_url, f"{phase}:{kill_at}")
    else:
        child = Child.start(root, feed_url)
        if child.wait_for(f"PHASE {phase}", CHILD_TIMEOUT_S):
            window = podcast.download_s if phase == "download" else TRANSCRIBE_S
            time.sleep(rng.uniform(0.0, window))
            child.process.send_signal(signal.SIGKILL)
    status, out = child.finish()
    events.learn(out)
    return status


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing(http_server: LoopbackServer, tmp_path: Path,
                                               figures: dict[str, object]) -> None:
    podcast = Podcast(http_server)
    podcast.serve()
    feed_url = http_server.url("/feed.xml")
    root = tmp_path / "data"
    rng = random.Random(int(os.environ.get("PODDARKIV_FAULT_SEED", "8")))
    events = EventCounts()
    kills: Counter[str] = Counter()
    before: set[str] = set()
    for loop in range(FAULT_LOOPS):
        phase = PHASES[loop % len(PHASES)]
        podcast.episodes = loop + 1
        status = _faulted_run(phase, root, feed_url, podcast, rng, events)
        assert status in (0, -signal.SIGKILL), f"loop {loop} ({phase}): exit {status}"
        kills[phase] += status == -signal.SIGKILL
        assert before <= _transcribed(root), f"loop {loop} ({phase}) lost a transcript"
        restart, out = Child.start(root, feed_url).finish()
        assert restart == 0, f"loop {loop} ({phase}): restart failed: {out['stderr']}"
        assert not out["REPORT"]["failed"], out["REPORT"]
        events.learn(out)
        assert check_archive(root) == [], f"loop {loop} ({phase})"
        before = _transcribed(root)
        assert len(before) == loop + 1
    truncated = tmp_path / "truncated.log"
    assert not truncated.exists(), truncated.read_text("utf-8")
    figures[f"kill -9: loops ({FAULT_LOOPS}), kills that landed per phase"] = dict(kills)
    figures["kill -9: documents lost, truncated audio seen by Whisper"] = (0, 0)
    figures["kill -9: leftover temporary files"] = len(debris(root))
    assert sum(kills.values()) >= FAULT_LOOPS // 2  # the kills really land mid-run
