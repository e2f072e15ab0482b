"""Fixtures for the cluster tests: a real Redis, real Celery workers, a feed on loopback.

``redis-server`` is Debian's (``scripts/install --dev`` installs it; ``$PODDARKIV_REDIS_SERVER``
names another). Each test gets its own server on a free loopback port, with its data in the
test's folder (append-only file, fsync always, so a restart loses nothing), stopped at the end.
Without ``redis-server`` these tests are skipped, except under CI (``CI`` or
``PODDARKIV_REQUIRE_REDIS`` set), where that is an error.

Workers run as subprocesses (``tests/cluster/worker_main.py``): real Celery, real downloads
through the address guard, and either the bundled Whisper model or a fake engine that records
each job it runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.jobs import TranscriptionJob, recent_jobs
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.ingest.client import make_client, policy_for
from poddarkiv.ingest.cluster import ClusterQueue
from poddarkiv.ingest.pipeline import IngestReport, ingest
from tests.httpserver import LoopbackServer, http_server, reply

__all__ = ["Cluster", "cluster", "feed_xml", "http_server", "wait_for"]

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT / "tests" / "data" / "audio" / "iop-sv.mp3"
REDIS_SERVER = os.environ.get("PODDARKIV_REDIS_SERVER") or shutil.which("redis-server") or ""
#: Seconds before a job whose worker vanished is handed to another (production: hours).
VISIBILITY_S = 8.0
#: The longest episode allowed: the clip is 6.1 s, and the visibility timeout must be longer.
MAX_EPISODE_S = 7.0
#: Ingest's own visibility timeout: ingest never takes jobs, so it only sets how long a run
#: waits with no job changing (two timeouts) while a test starts a worker on two slow cores.
INGEST_VISIBILITY_S = 60.0
START_TIMEOUT_S = 180.0


def wait_for(condition: Callable[[], Any], *, timeout_s: float, what: str) -> Any:
    """Poll ``condition`` until it is truthy; fail with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """``redis-server`` on a loopback port, its data in ``folder``; restartable on that port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
             "--logfile", str(self.folder / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, timeout_s=20, what="redis-server to answer")

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


def feed_xml(base: str, count: int) -> bytes:
    """A feed of ``count`` clips served from ``base`` (``/audio/<n>.mp3``)."""
    items = "".join(
        f"<item><guid>klipp-{n}</guid><title>Klipp {n}</title>"
        f"<pubDate>Mon, 0{n} Sep 2025 08:00:00 GMT</pubDate>"
        f'<enclosure url="{base}/audio/{n}.mp3" type="audio/mpeg" length="36589"/></item>'
        for n in range(1, count + 1))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Klippen</title>'
            f"<link>{base}/</link><description>Korta klipp</description>{items}"
            "</channel></rss>").encode()


@dataclass
class Cluster:
    """One archive, its Redis, the feed, and the workers a test starts."""

    root: Path
    redis: RedisServer
    feed: LoopbackServer
    feed_url: str
    model_cache: Path
    workers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def settings(self, **changes: Any) -> Settings:
        return Settings(data_dir=self.root / "archive", broker=self.redis.url, allow_private=True,
                        prefer="whisper", job_poll_s=0.2, audio_max_duration_s=MAX_EPISODE_S,
                        job_visibility_timeout_s=INGEST_VISIBILITY_S,
                        model_cache_dir=self.model_cache).replace(**changes)

    @property
    def calls_file(self) -> Path:
        return self.root / "calls.txt"

    def calls(self) -> list[str]:
        """``"<worker> <episode id>"`` for every job a worker started, in order."""
        if not self.calls_file.exists():
            return []
        return self.calls_file.read_text("utf-8").splitlines()

    def start_worker(self, name: str, *, fake: bool = True, delay_s: float = 0.0,
                     model: str = "base", language: str = "sv", shared: bool = False,
                     wait: bool = True) -> subprocess.Popen[bytes]:
        ready = self.root / f"{name}.ready"
        args = [sys.executable, "-m", "tests.cluster.worker_main", "--broker", self.redis.url,
                "--data", str(self.root / name), "--name", name, "--calls", str(self.calls_file),
                "--ready", str(ready), "--model", model, "--language", language,
                "--model-cache", str(self.model_cache),
                "--delay", str(delay_s), "--visibility", str(VISIBILITY_S),
                "--max-duration", str(MAX_EPISODE_S)]
        args += ["--fake"] if fake else []
        args += ["--shared", str(self.root / "archive")] if shared else []
        return self._start(name, args, {}, ready=ready.exists, wait=wait)

    def start_cli_worker(self, name: str) -> subprocess.Popen[bytes]:
        """``poddarkiv worker`` as a user starts it, with the bundled model."""
        args = [sys.executable, "-m", "poddarkiv", "--data-dir", str(self.root / name),
                "worker", "--broker", self.redis.url, "--threads", "1", "--allow-private"]
        env = {"PODDARKIV_MODEL_CACHE_DIR": str(self.model_cache),
               "PODDARKIV_JOB_VISIBILITY_TIMEOUT_S": str(VISIBILITY_S),
               "PODDARKIV_AUDIO_MAX_DURATION_S": str(MAX_EPISODE_S)}
        return self._start(name, args, env, ready=lambda: " ready." in self.log(name))

    def _start(self, name: str, args: list[str], env: dict[str, str], *,
               ready: Callable[[], bool], wait: bool = True) -> subprocess.Popen[bytes]:
        log = (self.root / f"{name}.log").open("wb")
        process = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PYTHONPATH": str(ROOT), **env})
        self.workers[name] = process
        if wait:
            wait_for(lambda: ready() or process.poll() is not None,
                     timeout_s=START_TIMEOUT_S, what=f"worker {name} to start")
            assert process.poll() is None, self.log(name)
        return process

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text("utf-8", errors="replace")[-3000:] if path.exists() else ""

    def kill(self, name: str) -> None:
        """``kill -9`` the worker: no goodbye, no acknowledgement."""
        process = self.workers.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def ingest(self, **changes: Any) -> IngestReport:
        """One ``ingest --broker`` run, in this process."""
        settings = self.settings(**changes)
        catalogue = Catalogue(DataDir(settings.data_dir))
        index = ArchiveIndex.open(catalogue.data.index)
        queue = ClusterQueue(settings, catalogue)
        try:
            with make_client(policy_for(settings)) as client:
                return ingest(settings, (self.feed_url,), catalogue=catalogue, index=index,
                              client=client, transcriber_factory=_no_local_whisper, jobs=queue)
        finally:
            queue.close()
            index.close()
            catalogue.close()

    def ingest_in_thread(self, **changes: Any) -> tuple[threading.Thread, dict[str, Any]]:
        """Start :meth:`ingest` in a thread; the dict gets ``report`` or ``error``."""
        out: dict[str, Any] = {}

        def run() -> None:
            try:
                out["report"] = self.ingest(**changes)
            except BaseException as exc:  # handed to the test
                out["error"] = exc

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, out

    def jobs(self) -> list[TranscriptionJob]:
        """Every job row in the catalogue, read through a connection of its own."""
        with Catalogue(DataDir(self.root / "archive")) as catalogue:
            return sorted(recent_jobs(catalogue, limit=1000), key=lambda j: j.episode_id)

    def stop(self) -> None:
        for name in list(self.workers):
            self.kill(name)
        self.redis.stop()

    def flush_redis(self) -> None:
        """``FLUSHALL``: Redis forgets every job, as one restarted without its data does."""
        import redis

        redis.Redis(port=self.redis.port, socket_timeout=5).flushall()


def _no_local_whisper() -> Any:
    raise AssertionError("with a broker, ingest must not transcribe in its own process")


def _redis_missing() -> None:
    what = "redis-server is not installed (apt-get install redis-server)"
    if os.environ.get("CI") or os.environ.get("PODDARKIV_REQUIRE_REDIS"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture
def cluster(tmp_path: Path, http_server: LoopbackServer) -> Iterator[Cluster]:
    """Redis on a loopback port, a feed of two short Swedish clips, an empty archive.

    Workers are started by the test (``cluster.start_worker``) and killed at the end.
    """
    if not REDIS_SERVER or not Path(REDIS_SERVER).exists():
        _redis_missing()
    redis = RedisServer(tmp_path)
    redis.start()
    clip = CLIP.read_bytes()
    for n in (1, 2):
        http_server.route(f"/audio/{n}.mp3", reply(clip, content_type="audio/mpeg"))
    base = http_server.url("").rstrip("/")
    feed_url = http_server.route("/feed.xml", reply(feed_xml(base, 2)))
    env = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    models = Path(env) if env else tmp_path / "models"
    built = Cluster(tmp_path, redis, http_server, feed_url, models)
    yield built
    built.stop()
