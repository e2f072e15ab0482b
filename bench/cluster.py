"""Episodes per hour: the in-process pipeline against Celery workers (1 and 2), side by side.

    .venv/bin/python bench/cluster.py                 # the four sample episodes, 3 rounds
    .venv/bin/python bench/cluster.py --cores 2 --rounds 5

Every configuration ingests the same episodes (the bundled sample feed, served on loopback,
``prefer=whisper`` so each one is transcribed) into a fresh data directory:

* **in-process**: ``poddarkiv ingest`` as it runs by default, Whisper on ``--cores`` threads;
* **N workers**: N times ``poddarkiv worker`` on a throwaway ``redis-server``, ``--cores / N``
  threads each, and ``ingest --broker``. Workers are started (and their model loaded) before
  the clock starts, as on a cluster that is already up; the in-process run loads its model
  inside its time, which the table says.

The broker's overhead per job is the cluster's wall time minus the time the workers spent in
their tasks (Celery logs each task's runtime), per job: enqueueing, waiting in Redis, the
worker's own download, collecting, storing and indexing.

The three configurations alternate in rounds (round 1 in order, round 2 reversed, and so on),
so a burst of load from other programs falls on different ones in different rounds; the
one-minute load average is recorded before each run. The summary gives medians over the rounds:
wall time, episodes per hour and its range, the speed against in-process (the median of each
round's ratio, both sides of a ratio run a minute apart) and the overhead per job.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK_RUNTIME = re.compile(r"Task poddarkiv\.transcribe\[[^\]]+\] succeeded in ([0-9.]+)s")
START_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    episodes: int
    audio_s: float
    wall_s: float
    task_s: float | None = None  # summed worker task time (cluster runs)
    round: int = 0
    load: float = 0.0  # one-minute load average before the run

    @property
    def per_hour(self) -> float:
        return self.episodes * 3600.0 / self.wall_s

    @property
    def overhead_per_job_s(self) -> float | None:
        if self.task_s is None or not self.episodes:
            return None
        workers = int(self.name.split()[0])
        return max(0.0, self.wall_s - self.task_s / workers) / self.episodes


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(models: Path) -> dict[str, str]:
    return {**os.environ, "PODDARKIV_MODEL_CACHE_DIR": str(models), "PODDARKIV_JOB_POLL_S": "0.2"}


def _ingest(data: Path, feed_url: str, models: Path, *extra: str) -> float:
    """Run ``poddarkiv ingest``; return its wall time in seconds."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "poddarkiv", "--data-dir", str(data), "ingest",
                    "--quiet", "--prefer", "whisper", "--allow-private", *extra, feed_url],
                   cwd=ROOT, env=_env(models), check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def _audio_seconds(data: Path) -> tuple[int, float]:
    from poddarkiv.archive.store import Catalogue, DataDir

    with Catalogue(DataDir(data)) as catalogue:
        infos = [catalogue.transcript_info(e.id) for e in catalogue.episodes()]
        found = [catalogue.load_transcript(i) for i in infos if i is not None]
    return len(found), sum(t.duration_s or 0.0 for t in found)


def run_in_process(work: Path, feed_url: str, *, cores: int, models: Path) -> Result:
    data = work / "in-process"
    shutil.rmtree(data, ignore_errors=True)
    wall = _ingest(data, feed_url, models, "--threads", str(cores))
    episodes, audio = _audio_seconds(data)
    return Result(f"in-process x {cores} thread(s), model load", episodes, audio, wall)


def run_cluster(work: Path, feed_url: str, *, workers: int, cores: int, models: Path,
                redis_url: str) -> Result:
    data = work / f"cluster-{workers}"
    shutil.rmtree(data, ignore_errors=True)
    logs = [work / f"worker-{workers}-{n}.log" for n in range(workers)]
    procs = [_start_worker(work / f"w{workers}-{n}", log, redis_url, models,
                           threads=max(1, cores // workers), name=f"bench{n}")
             for n, log in enumerate(logs)]
    try:
        for log, proc in zip(logs, procs, strict=True):
            _wait_ready(log, proc)
        wall = _ingest(data, feed_url, models, "--broker", redis_url)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
    task_s = sum(float(m) for log in logs for m in TASK_RUNTIME.findall(log.read_text()))
    episodes, audio = _audio_seconds(data)
    return Result(f"{workers} worker(s) x {max(1, cores // workers)} thread(s)", episodes, audio,
                  wall, task_s)


def _start_worker(data: Path, log: Path, redis_url: str, models: Path, *, threads: int,
                  name: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "poddarkiv", "--data-dir", str(data), "worker", "--broker",
         redis_url, "--threads", str(threads), "--allow-private", "--name", name],
        cwd=ROOT, env=_env(models), stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _wait_ready(log: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while " ready." not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)


Run = Callable[[], Result]


def run_rounds(runs: list[Run], rounds: int) -> list[Result]:
    """Every configuration once a round; even rounds in reverse order."""
    results = []
    for n in range(1, rounds + 1):
        for run in runs if n % 2 else list(reversed(runs)):
            load = os.getloadavg()[0]
            results.append(replace(run(), round=n, load=load))
            print(f"round {n}: {_row(results[-1])}  (load {load:.1f})", flush=True)
    return results


def _row(r: Result, *, ratio: str = "", overhead: float | None = None) -> str:
    overhead = r.overhead_per_job_s if overhead is None else overhead
    return (f"{r.name:<36} {r.episodes:>8} {r.audio_s:>8.1f} {r.wall_s:>7.1f} "
            f"{r.per_hour:>8.0f} {ratio:>13} {'' if overhead is None else f'{overhead:.2f}':>14}")


def _print(results: list[Result]) -> None:
    names = list(dict.fromkeys(r.name for r in results))
    base = {r.round: r.per_hour for r in results if r.name == names[0]}
    print(f"\nmedians over {len(base)} round(s), load {min(r.load for r in results):.1f} "
          f"to {max(r.load for r in results):.1f}")
    print(f"{'configuration':<36} {'episodes':>8} {'audio s':>8} {'wall s':>7} "
          f"{'ep/hour':>8} {'vs in-process':>13} {'overhead/job s':>14}  ep/hour range")
    for name in names:
        runs = [r for r in results if r.name == name]
        ratio = statistics.median(r.per_hour / base[r.round] for r in runs)
        overheads = [o for r in runs if (o := r.overhead_per_job_s) is not None]
        middle = Result(name, runs[0].episodes, runs[0].audio_s,
                        statistics.median(r.wall_s for r in runs))
        line = _row(middle, ratio=f"{ratio:.2f}x",
                    overhead=statistics.median(overheads) if overheads else None)
        per_hour = [r.per_hour for r in runs]
        print(f"{line}  {min(per_hour):.0f}-{max(per_hour):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cores", type=int, default=2, help="CPU threads in all (default 2).")
    parser.add_argument("--rounds", type=int, default=3, help="Rounds (default 3).")
    parser.add_argument("--models", type=Path, default=ROOT / ".cache" / "test-models",
                        help="Where the assembled bundled model is cached.")
    args = parser.parse_args()
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise SystemExit("redis-server is needed (apt-get install redis-server)")
    from poddarkiv.sample.server import serve_sample

    with tempfile.TemporaryDirectory(prefix="poddarkiv-bench-") as tmp, serve_sample() as sample:
        work, port = Path(tmp), _free_port()
        redis = subprocess.Popen([redis_server, "--port", str(port), "--bind", "127.0.0.1",
                                  "--save", "", "--dir", tmp], stdout=subprocess.DEVNULL)
        url, feed = f"redis://127.0.0.1:{port}/0", sample.feed_url
        try:
            time.sleep(0.5)
            runs: list[Run] = [
                lambda: run_in_process(work, feed, cores=args.cores, models=args.models),
                *(lambda n=n: run_cluster(work, feed, workers=n, cores=args.cores,
                                          models=args.models, redis_url=url) for n in (1, 2))]
            results = run_rounds(runs, args.rounds)
        finally:
            redis.terminate()
            redis.wait(timeout=30)
    _print(results)


if __name__ == "__main__":
    main()
