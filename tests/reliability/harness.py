"""What the fault, disk and load tests share: a podcast that grows, and ingests to run.

:class:`Podcast` serves a feed on the loopback test server that gains episodes as a test asks,
with the sample audio behind each enclosure, sent slowly and with byte ranges (so a download
takes long enough to be interrupted, and can resume). :class:`Child` runs one ingest in a child
process (:mod:`tests.reliability.fault_child`), and :func:`ingest_once` runs one in this process,
both with Whisper replaced by the fake at its seam.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from poddarkiv.compose import http_client, open_archive
from poddarkiv.config import Settings
from poddarkiv.ingest.pipeline import IngestReport, ingest
from poddarkiv.sample import SAMPLE_EPISODES
from tests.httpserver import Exchange, LoopbackServer
from tests.reliability.fault_child import fake_whisper

__all__ = ["AUDIO", "CHILD_TIMEOUT_S", "Child", "Podcast", "ingest_once"]

ROOT = Path(__file__).resolve().parents[2]
AUDIO = SAMPLE_EPISODES[0].audio
#: The server sends the audio in pieces this big, one every AUDIO_EVERY_S seconds.
AUDIO_CHUNK = 8 * 1024
AUDIO_EVERY_S = 0.02
#: A child that takes longer than this has hung, which is a failure of its own.
CHILD_TIMEOUT_S = 120.0
#: Enclosure URLs served (a feed never grows past this many episodes).
MAX_EPISODES = 500


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
        for n in range(1, MAX_EPISODES + 1):
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
        stderr = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in finish
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


def ingest_once(root: Path, feed_url: str) -> IngestReport:
    """One ingest of ``feed_url`` in this process, with the fake Whisper."""
    settings = Settings(data_dir=root, allow_private=True, prefer="whisper")
    expected = hashlib.sha256(AUDIO.read_bytes()).hexdigest()
    with open_archive(settings) as archive, http_client(settings) as client:
        return ingest(settings, [feed_url], catalogue=archive.catalogue, index=archive.index,
                      client=client, transcriber_factory=fake_whisper(
                          root, expected, root.parent / "truncated.log"))
