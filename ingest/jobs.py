"""Transcription on Celery workers: the app both sides share, the job, and the worker.

Celery with Redis (broker and result backend) is the way out of one machine; this module is
the one seam to it (``celery`` is imported here and in :mod:`poddarkiv.ingest.cluster` only,
and only when a broker is configured). Durability comes from Celery's settings, not from a
queue of our own:

* **late acknowledgement** (``task_acks_late``): a job leaves the queue only once its result
  is stored in the result backend, so a worker killed mid-job loses nothing;
* **prefetch of one**: a worker holds no job it is not running, so the others take them;
* **visibility timeout** (``Settings.job_visibility_timeout_s``): a job taken by a worker that
  vanished (``kill -9``, power loss) goes back to the queue after this long; it must be longer
  than the slowest transcription of the longest episode, or a slow job runs twice (the result
  is still stored once: the job id is the key, and ingest stores one transcript per job).
  :class:`~poddarkiv.config.Settings` refuses a timeout not longer than
  ``audio_max_duration_s`` when a broker is set.

**A record from the moment a job is sent.** Celery reports ``PENDING`` for a job it knows
nothing about, whether it waits in the queue or Redis has lost it. So ingest writes a ``SENT``
record into the result backend right after sending (:func:`record_sent`); workers overwrite it
with ``STARTED``, ``PROGRESS`` and the result. From then on ``PENDING`` means only one thing:
Redis no longer holds the job (it restarted without its data, was flushed, or the record passed
:data:`RESULT_TTL_S`), and :mod:`poddarkiv.ingest.cluster` sends it again.

**Routing.** Jobs go to one queue per model and transcription profile (:func:`queue_for`:
engine, language, beam size, voice filter, word times, glossary); a worker consumes only the
queue its own settings name, so a worker with another model, or one that would transcribe
differently, never takes them. The device, compute type and threads are the worker's own
business (``--device cuda``).

**Audio.** A job carries the enclosure, not the bytes. The worker reads the audio from the
archive's data directory when it is mounted there (``--shared-data``), else fetches the
enclosure itself with :func:`poddarkiv.ingest.download.download_audio`: the same fetch policy,
size and duration caps and address guard as ingest. So the coordinator never streams audio to
workers and is not the bottleneck; downloads run in parallel on the workers.

Workers never open the catalogue or the index: the result is the transcript, and ingest is
their only writer.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from poddarkiv.archive.codec import transcript_to_dict
from poddarkiv.archive.models import Enclosure, Episode, Transcript
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import AudioError, ConfigError, PoddarkivError
from poddarkiv.ingest.audio import SAMPLE_RATE

if TYPE_CHECKING:
    import httpx
    from celery import Celery

    from poddarkiv.ingest.transcribe import Transcriber

__all__ = [
    "RESULT_TTL_S",
    "SENT",
    "TASK_NAME",
    "JobRequest",
    "make_celery",
    "queue_for",
    "record_sent",
    "run_worker",
    "transcribe_job",
    "worker_name",
]

TASK_NAME = "poddarkiv.transcribe"
#: Results wait this long in Redis for ingest to collect them (it then deletes them).
RESULT_TTL_S = 30 * 24 * 3600
#: The state of a job that is sent and not yet taken (ours; Celery's own would be PENDING).
SENT = "SENT"
#: Seconds between a running job's progress reports to the result backend.
PROGRESS_EVERY_S = 10.0
#: Seconds to wait for Redis before calling it unreachable.
REDIS_TIMEOUT_S = 10.0


def queue_for(settings: Settings) -> str:
    """The queue for jobs transcribed as ``settings`` say, e.g.
    ``poddarkiv.transcribe.base.faster-whisper.sv.b5.x8`` (model, engine, language, beam size,
    faster-whisper's batch size; ``.vad``, ``.words``, ``.glossary`` follow when those are on).
    The batch size is part of it because batched and sequential decoding write slightly
    different text. A model given as a folder is named by the folder's name."""
    model = settings.model
    if Path(model).is_absolute():
        model = Path(model.rstrip("/")).name
    parts = [model, settings.engine, settings.language, f"b{settings.beam_size}"]
    if settings.engine == "faster-whisper":
        parts.append(f"x{settings.batch_size}")
    parts += [name for name, on in (("vad", settings.vad), ("words", settings.word_timestamps),
                                    ("glossary", settings.glossary)) if on]
    return "poddarkiv.transcribe." + ".".join(re.sub(r"[^A-Za-z0-9_-]+", "_", p) for p in parts)


def make_celery(settings: Settings) -> Celery:
    """The Celery app on ``settings.broker`` (broker and result backend), durable settings on."""
    try:
        from celery import Celery
    except ImportError as exc:  # the default install has no cluster
        raise ConfigError("the cluster needs Celery: pip install 'poddarkiv[cluster]' "
                          "(or scripts/install --cluster)") from exc

    if not settings.broker:
        raise ConfigError("no broker: pass --broker redis://HOST:6379/0 or set PODDARKIV_BROKER")
    visibility_s = settings.job_visibility_timeout_s
    app = Celery("poddarkiv", broker=settings.broker, backend=settings.broker,
                 set_as_current=False)
    app.conf.update(
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        task_track_started=True, result_extended=True, result_expires=RESULT_TTL_S,
        task_serializer="json", result_serializer="json", accept_content=["json"],
        task_default_queue=queue_for(settings),
        broker_transport_options={
            "visibility_timeout": visibility_s,
            # How often a worker looks for jobs whose worker vanished (kombu's default is 100 s).
            "unacked_restore_interval": max(1.0, min(60.0, visibility_s / 4)),
            "unacked_restore_throttle": 1,
        },
        broker_connection_timeout=REDIS_TIMEOUT_S, broker_connection_retry_on_startup=True,
        redis_socket_connect_timeout=REDIS_TIMEOUT_S, redis_socket_timeout=REDIS_TIMEOUT_S,
        result_backend_transport_options={"retry_policy": {"max_retries": 2}},
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 1.0},
    )
    return app


def record_sent(app: Celery, job_id: str) -> None:
    """Record job ``job_id`` as :data:`SENT` in the result backend, unless a worker has
    already written its state (a fast job can start before this runs).

    Written after the message, never before: Redis keeps its writes in order, so a Redis that
    loses its last writes can lose this record and keep the message (the job is then sent
    again: harmless), but never keep a record of a message it lost (a job waiting forever).
    Expires like a result (:data:`RESULT_TTL_S`), so a job waiting longer than that is sent
    again too.
    """
    backend = app.backend
    meta: dict[str, Any] = {"status": SENT, "result": None, "traceback": None, "children": [],
            "date_done": None, "task_id": job_id}
    # Celery's own store_result would overwrite a worker's STARTED or FAILURE: SET NX does not.
    backend.client.set(backend.get_key_for_task(job_id), backend.encode(meta), nx=True,
                       ex=RESULT_TTL_S)


@dataclass(frozen=True, slots=True)
class JobRequest:
    """What a worker needs to transcribe one episode (JSON on the wire)."""

    episode_id: str
    model: str
    enclosure_url: str | None = None
    enclosure_type: str = ""
    enclosure_length: int | None = None
    #: Relative to the archive's data directory, when ingest already has the audio.
    audio_path: str | None = None

    @classmethod
    def for_episode(cls, episode: Episode, *, model: str) -> JobRequest:
        enc = episode.enclosure
        return cls(episode.id, model, enc.url if enc else None, enc.type if enc else "",
                   enc.length if enc else None, episode.audio_path)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobRequest:
        known: dict[str, Any] = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    def episode(self) -> Episode:
        """A stand-in episode for :func:`download_audio` (only id and enclosure matter)."""
        enclosure = (Enclosure(self.enclosure_url, self.enclosure_type, self.enclosure_length)
                     if self.enclosure_url else None)
        return Episode(id=self.episode_id, feed_id="", guid=self.episode_id, title=self.episode_id,
                       enclosure=enclosure)


AudioProgress = Callable[[float, float], None]


def transcribe_job(request: JobRequest, *, settings: Settings, transcriber: Transcriber,
                   client: httpx.Client, scratch: Path,
                   progress: AudioProgress | None = None) -> Transcript:
    """Transcribe one job: the shared data directory's audio if mounted, else fetch it."""
    from poddarkiv.ingest.audio import decode_audio

    shared = _shared_audio(settings, request)
    if shared is not None:
        return transcriber.transcribe(decode_audio(shared), episode_id=request.episode_id,
                                      progress=progress)
    folder = Path(tempfile.mkdtemp(prefix=f"{request.episode_id}.", dir=scratch))
    try:  # the worker is not an archive: its copy goes once the transcript exists
        path = _download(request, settings=settings, client=client, folder=folder)
        return transcriber.transcribe(decode_audio(path), episode_id=request.episode_id,
                                      progress=progress)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _shared_audio(settings: Settings, request: JobRequest) -> Path | None:
    if settings.shared_data_dir is None or not request.audio_path:
        return None
    root = settings.shared_data_dir.resolve()
    path = (root / request.audio_path).resolve()
    # Only files inside the shared folder: the path came over the network.
    return path if path.is_relative_to(root) and path.is_file() else None


def _download(request: JobRequest, *, settings: Settings, client: httpx.Client,
              folder: Path) -> Path:
    from poddarkiv.ingest.download import download_audio

    episode = download_audio(client, request.episode(), data=DataDir(folder), settings=settings)
    if not episode.audio_path:
        raise AudioError(f"episode {request.episode_id} has no audio")
    return folder / episode.audio_path


# -- the worker ------------------------------------------------------------------------------


def _warm_up(transcriber: Transcriber) -> None:
    """Load the engine now, once, so a bad model fails at start and not on the first job."""
    transcriber.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), episode_id="warm-up")


def _register_task(app: Celery, *, settings: Settings, transcriber: Transcriber,
                   client: httpx.Client, scratch: Path, hostname: str) -> None:
    @app.task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator]
    def transcribe(task: Any, payload: dict[str, Any]) -> dict[str, Any]:
        request = JobRequest.from_dict(payload)
        last = [0.0]

        def progress(done_s: float, total_s: float) -> None:
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                task.update_state(state="PROGRESS", meta={
                    "worker": hostname, "done_s": done_s, "total_s": total_s})

        task.update_state(state="STARTED", meta={"worker": hostname})
        try:
            transcript = transcribe_job(request, settings=settings, transcriber=transcriber,
                                        client=client, scratch=scratch, progress=progress)
        except PoddarkivError as exc:  # the episode's problem: recorded, not retried here
            return {"worker": hostname, "error": f"{type(exc).__name__}: {exc}"}
        return {"worker": hostname, "transcript": transcript_to_dict(transcript)}


def worker_name(settings: Settings, name: str | None = None) -> str:
    """``name@host``; ``name`` defaults to ``MODEL-DEVICE`` (``base-cpu@box``)."""
    name = name or f"{Path(settings.model.rstrip('/')).name}-{settings.device}"
    return name if "@" in name else f"{name}@{socket.gethostname()}"


def run_worker(settings: Settings, *, transcriber: Transcriber | None = None,
               name: str | None = None, loglevel: str = "INFO") -> None:
    """Run a Celery worker for ``settings.model`` until stopped (blocks).

    One job at a time in this process (the ``solo`` pool: the model is loaded once, here, and
    a GPU is not shared between forks); start one worker per GPU.
    """
    from poddarkiv.ingest.client import make_client, policy_for
    from poddarkiv.ingest.transcribe import make_transcriber

    app = make_celery(settings)
    hostname = worker_name(settings, name)
    transcriber = transcriber or make_transcriber(settings)
    _warm_up(transcriber)
    scratch = settings.data_dir / "worker-audio"
    scratch.mkdir(parents=True, exist_ok=True)
    with make_client(policy_for(settings)) as client:
        _register_task(app, settings=settings, transcriber=transcriber, client=client,
                       scratch=scratch, hostname=hostname)
        app.worker_main(["worker", "--pool=solo", "--concurrency=1", f"--hostname={hostname}",
                         f"--queues={queue_for(settings)}", f"--loglevel={loglevel}",
                         "--without-gossip", "--without-mingle"])
