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

import json
import os
import queue
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.sample import SAMPLE_EPISODES
from tests.httpserver import Exchange, LoopbackServer
from tests.reliability.archive_check import check_archive, debris
from tests.reliability.budget import FAULT_LOOPS
from tests.reliability.fault_child import TRANSCRIBE_S

ROOT = Path(__file__).resolve().parents[2]
AUDIO = SAMPLE_EPISODES[0].audio
PHASES = ("download", "transcribe", "catalogue", "index")
#: The server sends the audio in pieces this big, one every AUDIO_EVERY_S seconds.
AUDIO_CHUNK = 8 * 1024
AUDIO_EVERY_S = 0.02
#: A child that takes longer than this has hung, which is a failure of its own.
CHILD_TIMEOUT_S = 120.0
#: Until a clean run has counted them, assume a phase has this many hook events.
DEFAULT_EVENTS = 40


def _feed(base: str, count: int) -> bytes:
    size = AUDIO.stat().st_size
    items = "".join(
        f"<item><title>Avsnitt {n}</title><guid>ep-{n}</guid>"
        f"<pubDate>Mon, {1 + n % 28:02d} Jan 2024 10:00:00 GMT</pubDate>"
        f'<enclosure url="{base}/audio/{n}.mp3" type="audio/mpeg" length="{size}"/>'
        "<description>Om partnerskap.</description></item>" for n in range(1, count + 1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Tålamod</title><link>{base}/</link>{items}</channel></rss>").encode()


@dataclass
class Podcast:
    """A feed that grows by one episode per loop, and its audio, served slowly with ranges."""

    server: LoopbackServer
    episodes: int = 0
    audio: bytes = field(default_factory=AUDIO.read_bytes)

    def serve(self) -> None:
        self.server.route("/feed.xml", self._feed)
        for n in range(1, FAULT_LOOPS + 2):
            self.server.route(f"/audio/{n}.mp3", self._audio)

    def _feed(self, ex: Exchange) -> None:
        ex.send(200, _feed(self.server.url(""), self.episodes),
                {"Content-Type": "application/rss+xml"})

    def _audio(self, ex: Exchange) -> None:
        # RFC 9110 §14: honour "Range: bytes=N-" (with If-Range on our strong ETag).
        header = ex.request.headers.get("range", "")
        start = 0
        if header.startswith("bytes=") and header.endswith("-") and (
                ex.request.headers.get("if-range", '"a1"') == '"a1"'):
            start = int(header[len("bytes="):-1] or 0)
        headers = {"Content-Type": "audio/mpeg", "ETag": '"a1"', "Accept-Ranges": "bytes",
                   "Content-Length": str(len(self.audio) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(self.audio) - 1}/{len(self.audio)}"
        ex.head(206 if start else 200, headers)
        for at in range(start, len(self.audio), AUDIO_CHUNK):
            if ex.stopping.wait(AUDIO_EVERY_S):
                return
            ex.write(self.audio[at:at + AUDIO_CHUNK])

    @property
    def download_s(self) -> float:
        return len(self.audio) / AUDIO_CHUNK * AUDIO_EVERY_S


@dataclass
class Child:
    """A running fault_child, its stdout lines arriving on a queue."""

    process: subprocess.Popen[str]
    stderr: IO[str]
    lines: queue.Queue[str | None] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, root: Path, feed_url: str, fault: str | None = None) -> Child:
        args = [sys.executable, "-m", "tests.reliability.fault_child", str(root), feed_url,
                str(AUDIO)] + ([fault] if fault else [])
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        stderr = tempfile.TemporaryFile("w+", encoding="utf-8")
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=stderr, text=True)
        child = cls(process, stderr)
        threading.Thread(target=child._read, daemon=True).start()
        return child

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, marker: str, timeout_s: float) -> bool:
        """Read lines until one starts with ``marker``; False when the child ended first."""
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                return False
            self.seen.append(line)
            if line.startswith(marker):
                return True
        return False

    def finish(self) -> tuple[int, dict[str, Any]]:
        """Wait for the end; the exit status and the parsed ``EVENTS``/``REPORT`` lines."""
        try:
            self.process.wait(timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        self.wait_for("\0", 5.0)  # read what is left, up to the end of the output
        self.stderr.seek(0)
        stderr = self.stderr.read()
        self.stderr.close()
        out = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1])
               for line in self.seen if line.startswith(("EVENTS ", "REPORT "))}
        out["stderr"] = stderr[-2000:]
        return self.process.returncode, out


def _transcribed(root: Path) -> set[str]:
    catalogue = Catalogue(DataDir(root))
    try:
        return {e.id for e in catalogue.episodes() if catalogue.transcript_info(e.id)}
    finally:
        catalogue.close()


def _faulted_run(phase: str, root: Path, feed_url: str, podcast: Podcast, rng: random.Random,
                 events: dict[str, int]) -> int:
    """One ingest killed at a random point of ``phase``; returns its exit status."""
    if phase in ("catalogue", "index"):
        child = Child.start(root, feed_url, f"{phase}:{rng.randint(1, events[phase])}")
    else:
        child = Child.start(root, feed_url)
        if child.wait_for(f"PHASE {phase}", CHILD_TIMEOUT_S):
            window = podcast.download_s if phase == "download" else TRANSCRIBE_S
            time.sleep(rng.uniform(0.0, window))
            child.process.send_signal(signal.SIGKILL)
    status, _ = child.finish()
    return status


def _learn(events: dict[str, int], seen: dict[str, int]) -> None:
    for phase in ("catalogue", "index"):
        events[phase] = max(events[phase], seen.get(phase, 0))


@pytest.mark.slow
def test_kill_9_at_random_points_loses_nothing(http_server: LoopbackServer, tmp_path: Path,
                                               figures: dict[str, object]) -> None:
    podcast = Podcast(http_server)
    podcast.serve()
    feed_url = http_server.url("/feed.xml")
    root = tmp_path / "data"
    rng = random.Random(int(os.environ.get("PODDARKIV_FAULT_SEED", "8")))
    events = {"catalogue": DEFAULT_EVENTS, "index": DEFAULT_EVENTS}
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
        _learn(events, out.get("EVENTS", {}))
        assert check_archive(root) == [], f"loop {loop} ({phase})"
        before = _transcribed(root)
        assert len(before) == loop + 1
    truncated = tmp_path / "truncated.log"
    assert not truncated.exists(), truncated.read_text("utf-8")
    figures[f"kill -9: loops ({FAULT_LOOPS}), kills that landed per phase"] = dict(kills)
    figures["kill -9: documents lost, truncated audio seen by Whisper"] = (0, 0)
    figures["kill -9: leftover temporary files"] = len(debris(root))
    assert sum(kills.values()) >= FAULT_LOOPS // 2  # the kills really land mid-run
