"""A Celery worker for the cluster tests: ``python -m tests.cluster.worker_main``.

It is :func:`poddarkiv.ingest.jobs.run_worker` with two test seams: ``--fake`` replaces Whisper
by a transcriber that writes one line per job into ``--calls`` (so a test can count how many
times a job really ran), and ``--delay`` makes each job take at least that long (so a test can
kill a worker mid-job). ``--ready`` is a file created once the worker consumes its queue.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from poddarkiv.archive.models import Segment, Transcript
from poddarkiv.config import Settings
from poddarkiv.ingest.audio import SAMPLE_RATE
from poddarkiv.ingest.jobs import run_worker


class RecordingTranscriber:
    """Wraps the real transcriber (or none, ``fake``); records each job; waits ``delay_s``."""

    name = "test"

    def __init__(self, inner: Any, *, calls: Path, delay_s: float, worker: str) -> None:
        self.inner, self.calls, self.delay_s, self.worker = inner, calls, delay_s, worker

    def transcribe(self, audio: np.ndarray, *, episode_id: str, progress: Any = None
                   ) -> Transcript:
        if episode_id == "warm-up":
            return self._fake(audio, episode_id) if self.inner is None else (
                self.inner.transcribe(audio, episode_id=episode_id))
        with self.calls.open("a", encoding="utf-8") as fh:
            fh.write(f"{self.worker} {episode_id}\n")
        time.sleep(self.delay_s)
        if self.inner is None:
            return self._fake(audio, episode_id)
        result: Transcript = self.inner.transcribe(audio, episode_id=episode_id,
                                                   progress=progress)
        return result

    def _fake(self, audio: np.ndarray, episode_id: str) -> Transcript:
        seconds = len(audio) / SAMPLE_RATE
        return Transcript(episode_id=episode_id, source="whisper", language="sv",
                          segments=(Segment(0.0, seconds, f"falsk transkription {episode_id}"),),
                          engine="fake", model="fake", duration_s=seconds,
                          created=_now())


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--calls", type=Path, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--model", default="base")
    parser.add_argument("--language", default="sv")
    parser.add_argument("--model-cache", type=Path)
    parser.add_argument("--shared", type=Path)
    parser.add_argument("--fake", action="store_true")
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--visibility", type=float, default=8.0)
    parser.add_argument("--max-duration", type=float, default=7.0)
    args = parser.parse_args()

    from celery.signals import worker_ready

    worker_ready.connect(lambda **_: args.ready.touch(), weak=False)
    settings = Settings(data_dir=args.data, broker=args.broker, model=args.model,
                        language=args.language,
                        model_cache_dir=args.model_cache, shared_data_dir=args.shared,
                        allow_private=True, threads=1, job_visibility_timeout_s=args.visibility,
                        audio_max_duration_s=args.max_duration)
    inner = None
    if not args.fake:
        from poddarkiv.ingest.transcribe import make_transcriber

        inner = make_transcriber(settings)
    transcriber = RecordingTranscriber(inner, calls=args.calls, delay_s=args.delay,
                                       worker=args.name)
    run_worker(settings, transcriber=transcriber, name=f"{args.name}@test", loglevel="INFO")


if __name__ == "__main__":
    main()
