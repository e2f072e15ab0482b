"""The ingest side of the cluster: enqueue transcription jobs, then collect their transcripts.

:class:`ClusterQueue` is what :func:`poddarkiv.ingest.pipeline.ingest` is given (``jobs=``)
when a broker is configured. Ingest stays the archive's only writer: it records every job in
the catalogue (:mod:`poddarkiv.archive.jobs`) *before* sending it, stores each transcript that
comes back, indexes it, then deletes the result from Redis. A run killed anywhere leaves the
catalogue saying what to do next time:

* a job recorded but never sent is sent again under the same id;
* a sent job is not sent again: its result is collected when it is ready (results wait
  :data:`~poddarkiv.ingest.jobs.RESULT_TTL_S` in Redis);
* a transcript already stored (killed between storing and marking the job done) is recognised
  by its creation time and not stored twice.

Redis going away raises :class:`~poddarkiv.errors.ClusterError`; nothing recorded is lost.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from poddarkiv.archive.codec import transcript_from_dict
from poddarkiv.archive.jobs import (
    JobSummary,
    TranscriptionJob,
    job_for,
    job_summary,
    open_jobs,
    save_job,
)
from poddarkiv.archive.models import Episode, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import ClusterError, PoddarkivError, TranscriptionError
from poddarkiv.ingest.jobs import TASK_NAME, JobRequest, make_celery, queue_for

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["ClusterQueue", "Collected", "format_summary"]

T = TypeVar("T")
Collected = tuple[Episode, Transcript | PoddarkivError]
_RUNNING = {"STARTED", "PROGRESS", "RETRY"}


def _now() -> datetime:
    return datetime.now(UTC)


def format_summary(summary: JobSummary) -> str:
    """``cluster: 2 queued, 1 running, 5 done, 0 failed (gpu1@a: 1 running, 3 done)``."""
    data = summary.to_dict()
    total = ", ".join(f"{n} {state}" for state, n in data["total"].items())
    workers = "; ".join(
        f"{w['worker']}: " + ", ".join(f"{w[s]} {s}" for s in ("running", "done", "failed")
                                       if w[s])
        for w in data["workers"] if w["worker"])
    return f"cluster: {total}" + (f" ({workers})" if workers else "")


class ClusterQueue:
    """Transcription on Celery workers, recorded in the catalogue (see the module docstring)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, *, app: Celery | None = None,
                 clock: Callable[[], datetime] = _now, sleep: Callable[[float], None] = time.sleep,
                 report: Callable[[JobSummary], None] | None = None) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.queue = queue_for(settings)
        # Made now, not on the first job: without Celery installed, ingest stops before it
        # fetches anything, instead of failing (and backing off) every episode it queues.
        self.app: Celery = app if app is not None else make_celery(settings)
        self._clock = clock
        self._sleep = sleep
        self._report = report
        self._last_summary: JobSummary | None = None

    # -- the pipeline's JobQueue ------------------------------------------------------------

    def pending(self, episode_id: str) -> bool:
        """Whether the episode has a job that may still deliver (it must not be sent again)."""
        job = job_for(self.catalogue, episode_id)
        return job is not None and job.open

    def submit(self, episode: Episode) -> None:
        """Record a job for ``episode``, then send it to the model's queue."""
        now = self._clock()
        job = TranscriptionJob(episode.id, uuid.uuid4().hex, self.queue, "queued", now, now)
        save_job(self.catalogue, job)
        self._send(job, episode)

    def collect(self) -> Iterator[Collected]:
        """Wait for every open job; yield each episode with its transcript or its error.

        The caller stores what it is given before asking for the next one; a transcript that
        did not make it into the catalogue stays in Redis for the next run.
        """
        self._send_unsent()
        while True:
            jobs = open_jobs(self.catalogue)
            for job in jobs:
                yield from self._poll(job)
            self._maybe_report()
            if not jobs:
                return
            self._sleep(self.settings.job_poll_s)

    def close(self) -> None:
        self.app.close()

    # -- sending ----------------------------------------------------------------------------

    def _send(self, job: TranscriptionJob, episode: Episode) -> None:
        payload = JobRequest.for_episode(episode, model=self.settings.model).to_dict()
        self._broker(lambda: self.app.send_task(TASK_NAME, args=[payload], task_id=job.job_id,
                                                queue=job.queue))
        save_job(self.catalogue, job.replace(sent=True, updated=self._clock()))

    def _send_unsent(self) -> None:
        for job in open_jobs(self.catalogue):
            if job.sent:
                continue
            episode = self.catalogue.episode(job.episode_id)
            if episode is None:
                self._save(job, "failed", error="the episode is no longer in the catalogue")
            else:
                self._send(job, episode)

    # -- collecting -------------------------------------------------------------------------

    def _poll(self, job: TranscriptionJob) -> Iterator[Collected]:
        meta = self._broker(lambda: self.app.backend.get_task_meta(job.job_id))
        status, result = str(meta.get("status")), meta.get("result")
        if status == "PENDING" or not job.sent:
            return
        if status in _RUNNING:
            worker = result.get("worker") if isinstance(result, dict) else None
            if job.state != "running" or (worker and worker != job.worker):
                self._save(job, "running", worker=worker or job.worker)
            return
        episode = self.catalogue.episode(job.episode_id)
        if status != "SUCCESS" or not isinstance(result, dict) or episode is None:
            self._fail(job, f"job {status.lower()}: {result!r}"[:500])
            if episode is not None:
                yield episode, TranscriptionError(f"the cluster job failed: {result!r}"[:500])
            return
        yield from self._finish(job, episode, result)

    def _finish(self, job: TranscriptionJob, episode: Episode, result: dict[str, Any]
                ) -> Iterator[Collected]:
        worker = result.get("worker")
        if "transcript" not in result:
            error = str(result.get("error") or "no transcript in the result")
            self._fail(job, error, worker=worker)
            yield episode, TranscriptionError(error)
            return
        transcript = transcript_from_dict(result["transcript"])
        if not self._stored(transcript):
            yield episode, transcript
        if self._stored(transcript):
            self._save(job, "done", worker=worker)
            self._broker(lambda: self.app.backend.forget(job.job_id))
        else:  # not stored (a full disk, say): the result stays in Redis for the next run
            self._save(job, "failed", worker=worker, error="the transcript could not be stored")

    def _stored(self, transcript: Transcript) -> bool:
        info = self.catalogue.transcript_info(transcript.episode_id)
        return info is not None and info.created == transcript.created

    def _fail(self, job: TranscriptionJob, error: str, *, worker: str | None = None) -> None:
        self._save(job, "failed", worker=worker or job.worker, error=error)
        self._broker(lambda: self.app.backend.forget(job.job_id))

    def _save(self, job: TranscriptionJob, state: str, **changes: Any) -> None:
        save_job(self.catalogue, job.replace(state=state, updated=self._clock(), **changes))

    def _maybe_report(self) -> None:
        summary = job_summary(self.catalogue)
        if self._report is not None and summary != self._last_summary:
            self._report(summary)
        self._last_summary = summary

    def _broker(self, call: Callable[[], T]) -> T:
        """``call()``, with Redis's and Celery's connection errors as one ClusterError."""
        from kombu.exceptions import OperationalError
        from redis.exceptions import RedisError

        try:
            return call()
        except (OperationalError, RedisError, OSError) as exc:
            reason = str(exc).rstrip(". ") or type(exc).__name__  # redis ends its own with "."
            raise ClusterError(
                f"cannot reach the broker at {_redacted(self.settings.broker)}: {reason}. "
                "Jobs recorded so far are kept; run ingest again once Redis is back.") from exc


def _redacted(url: str | None) -> str:
    """The broker URL without a password."""
    if not url or "@" not in url:
        return url or ""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
