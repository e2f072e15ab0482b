"""The ingest side of the cluster: enqueue transcription jobs, then collect their transcripts.

:class:`ClusterQueue` is what :func:`poddarkiv.ingest.pipeline.ingest` is given (``jobs=``)
when a broker is configured. Ingest stays the archive's only writer: it records every job in
the catalogue (:mod:`poddarkiv.archive.jobs`) *before* sending it, stores each transcript that
comes back, indexes it, then deletes the result from Redis. A run killed anywhere leaves the
catalogue saying what to do next time:

* a job recorded but never sent is sent again under the same id;
* a sent job is not sent again: its result is collected when it is ready (results wait
  :data:`~poddarkiv.ingest.jobs.RESULT_TTL_S` in Redis);
* a transcript already stored (killed between storing and marking the job done) is not
  stored twice: jobs are sent only for episodes without a transcript, so an episode that has
  one while its job is open got it from that job.

**A job Redis lost is sent again.** Every sent job has a record in the result backend from the
moment it is sent (:func:`~poddarkiv.ingest.jobs.record_sent`), so Celery's ``PENDING`` ("no
such job") means Redis lost it: it restarted without its data (no append-only file), was
flushed, or the record passed :data:`~poddarkiv.ingest.jobs.RESULT_TTL_S`. Such a job is sent
again at once under the same id, its ``attempts`` counted and the reason kept in the catalogue
(the admin page lists it) and in ingest's progress line. No time bound is needed for that, and
none would do: a job waiting behind a long backlog is as silent as a lost one, so "silent for
longer than N" would send every job of a big backlog again, each running twice. A job run
twice (sent again while a worker still had it) stores one transcript: the first result is
collected and the job marked done, and later results for it are never read.

**A run always ends.** When no open job has changed (sent, taken, finished, sent again) for
:data:`STALL_VISIBILITY_TIMEOUTS` job visibility timeouts, collecting stops with a
:class:`~poddarkiv.errors.ClusterError` that says so; the jobs stay recorded and the next run
collects them. The bound comes from the visibility timeout because that setting already
promises the longest a job may run: a job whose worker vanished or hung is handed to another
worker after one timeout (plus the restore scan, at most a quarter of it), and then runs for
at most one more. So with a worker serving the queue, something changes within two; silence
for longer means no worker is taking this queue's jobs (none started, or all for another
model or setting).

**Notes travel with the job.** When the publisher's transcript could not be used, the
pipeline gives :meth:`ClusterQueue.submit` the note saying so; it is kept in the job's record
(not in Redis, so a job sent again keeps it too) and handed back with the transcript by
:meth:`ClusterQueue.collect`, and the pipeline adds it to the transcript exactly as it does
for one transcribed locally.

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
    JobState,
    JobSummary,
    TranscriptionJob,
    job_for,
    job_summary,
    open_jobs,
    save_job,
)
from poddarkiv.archive.models import Episode, EpisodeNote, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import ClusterError, PoddarkivError, TranscriptionError
from poddarkiv.ingest.jobs import (
    RESULT_TTL_S,
    SENT,
    TASK_NAME,
    JobRequest,
    make_celery,
    queue_for,
    record_sent,
)

if TYPE_CHECKING:
    from celery import Celery

__all__ = ["STALL_VISIBILITY_TIMEOUTS", "ClusterQueue", "Collected", "format_summary"]

T = TypeVar("T")
#: An episode, its transcript or why there is none, and the notes its job was sent with.
Collected = tuple[Episode, Transcript | PoddarkivError, tuple[EpisodeNote, ...]]
_RUNNING = {"STARTED", "PROGRESS", "RETRY"}
#: Collecting stops after this many job visibility timeouts without any job changing.
STALL_VISIBILITY_TIMEOUTS = 2


def _now() -> datetime:
    return datetime.now(UTC)


def format_summary(summary: JobSummary) -> str:
    """``cluster: 2 queued, 1 running, 5 done, 0 failed (gpu1@a: 1 running, 3 done)``, then
    ``; 1 sent again (the broker had lost it)`` when any was."""
    data = summary.to_dict()
    total = ", ".join(f"{n} {state}" for state, n in data["total"].items())
    workers = "; ".join(
        f"{w['worker']}: " + ", ".join(f"{w[s]} {s}" for s in ("running", "done", "failed")
                                       if w[s])
        for w in data["workers"] if w["worker"])
    resent = (f"; {summary.resent} sent again (the broker had lost "
              f"{'it' if summary.resent == 1 else 'them'})" if summary.resent else "")
    return f"cluster: {total}" + (f" ({workers})" if workers else "") + resent


class ClusterQueue:
    """Transcription on Celery workers, recorded in the catalogue (see the module docstring)."""

    def __init__(self, settings: Settings, catalogue: Catalogue, *, app: Celery | None = None,
                 clock: Callable[[], datetime] = _now, sleep: Callable[[float], None] = time.sleep,
                 timer: Callable[[], float] = time.monotonic,
                 report: Callable[[JobSummary], None] | None = None) -> None:
        self.settings = settings
        self.catalogue = catalogue
        self.queue = queue_for(settings)
        # Made now, not on the first job: without Celery installed, ingest stops before it
        # fetches anything, instead of failing (and backing off) every episode it queues.
        self.app: Celery = app if app is not None else make_celery(settings)
        self._clock = clock
        self._sleep = sleep
        self._timer = timer
        self._report = report
        self._last_summary: JobSummary | None = None

    # -- the pipeline's JobQueue ------------------------------------------------------------

    def pending(self, episode_id: str) -> bool:
        """Whether the episode has a job that may still deliver (it must not be sent again)."""
        job = job_for(self.catalogue, episode_id)
        return job is not None and job.open

    def submit(self, episode: Episode, *, notes: tuple[EpisodeNote, ...] = ()) -> None:
        """Record a job for ``episode`` (with the ``notes`` :meth:`collect` hands back), then
        send it to the model's queue."""
        now = self._clock()
        job = TranscriptionJob(episode.id, uuid.uuid4().hex, self.queue, "queued", now, now,
                               notes=notes)
        save_job(self.catalogue, job)
        self._send(job, episode)

    def collect(self) -> Iterator[Collected]:
        """Wait for every open job; yield each episode with its transcript or its error, and
        the notes its job was sent with.

        The caller stores what it is given before asking for the next one; a transcript that
        did not make it into the catalogue stays in Redis for the next run. Raises
        :class:`ClusterError` when no job changes for :attr:`stall_after_s`.
        """
        self._send_unsent()
        before, since = self._snapshot(), self._timer()
        while True:
            jobs = open_jobs(self.catalogue)
            for job in jobs:
                yield from self._poll(job)
            self._maybe_report()
            if not jobs:
                return
            now, after = self._timer(), self._snapshot()
            if after != before:
                before, since = after, now
            elif now - since > self.stall_after_s:
                raise ClusterError(self._stalled_message(now - since))
            self._sleep(self.settings.job_poll_s)

    @property
    def stall_after_s(self) -> float:
        """Seconds without any job changing after which collecting gives up (module docstring)."""
        return STALL_VISIBILITY_TIMEOUTS * self.settings.job_visibility_timeout_s

    def close(self) -> None:
        self.app.close()

    # -- sending ----------------------------------------------------------------------------

    def _send(self, job: TranscriptionJob, episode: Episode) -> None:
        payload = JobRequest.for_episode(episode, model=self.settings.model).to_dict()

        def send() -> None:
            self.app.send_task(TASK_NAME, args=[payload], task_id=job.job_id, queue=job.queue)
            record_sent(self.app, job.job_id)  # after the message: see its docstring

        self._broker(send)
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

    def _snapshot(self) -> list[tuple[str, str, str | None, int]]:
        return [(j.job_id, j.state, j.worker, j.attempts) for j in open_jobs(self.catalogue)]

    def _stalled_message(self, silent_s: float) -> str:
        total = job_summary(self.catalogue).total
        return (f"no transcription job has changed for {silent_s:.0f} s ({total.get('queued', 0)}"
                f" queued, {total.get('running', 0)} running; this run sends to {self.queue}), "
                f"longer than {STALL_VISIBILITY_TIMEOUTS} job visibility timeouts "
                f"(job_visibility_timeout_s = {self.settings.job_visibility_timeout_s:.0f} s): "
                "is a worker with this model and these settings running? The jobs are kept; "
                "run ingest again to collect them.")

    def _poll(self, job: TranscriptionJob) -> Iterator[Collected]:
        if not job.sent:
            return
        meta = self._broker(lambda: self.app.backend.get_task_meta(job.job_id))
        status, result = str(meta.get("status")), meta.get("result")
        if status == SENT:
            return
        if status == "PENDING":  # no record at all: Redis lost the job (module docstring)
            self._send_again(job)
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
                yield (episode, TranscriptionError(f"the cluster job failed: {result!r}"[:500]),
                       job.notes)
            return
        yield from self._finish(job, episode, result)

    def _finish(self, job: TranscriptionJob, episode: Episode, result: dict[str, Any]
                ) -> Iterator[Collected]:
        worker = result.get("worker")
        if "transcript" not in result:
            error = str(result.get("error") or "no transcript in the result")
            self._fail(job, error, worker=worker)
            yield episode, TranscriptionError(error), job.notes
            return
        transcript = transcript_from_dict(result["transcript"])
        already = self._has_transcript(episode.id)
        if not already:
            yield episode, transcript, job.notes
        if already or self._stored(transcript):
            self._save(job, "done", worker=worker)
            self._broker(lambda: self.app.backend.forget(job.job_id))
        else:  # not stored (a full disk, say): the result stays in Redis for the next run
            self._save(job, "failed", worker=worker, error="the transcript could not be stored")

    def _send_again(self, job: TranscriptionJob) -> None:
        """Send a job Redis lost again, under the same id, counting the attempt."""
        episode = self.catalogue.episode(job.episode_id)
        if episode is None:
            self._save(job, "failed", error="the episode is no longer in the catalogue")
            return
        if self._has_transcript(job.episode_id):  # stored by a run that died before "done"
            self._save(job, "done")
            return
        again = job.replace(
            state="queued", sent=False, worker=None, attempts=job.attempts + 1,
            updated=self._clock(),
            error=f"sent again (attempt {job.attempts + 1}): the broker had lost the job (Redis "
                  "restarted without its data, was flushed, or the job waited longer than "
                  f"{RESULT_TTL_S // 86400} days)")
        save_job(self.catalogue, again)  # recorded before it is sent, like every job
        self._send(again, episode)

    def _has_transcript(self, episode_id: str) -> bool:
        # Jobs are sent only for episodes without a transcript (the pipeline's rule), so one
        # that has a transcript while its job is open got it from this job.
        return self.catalogue.transcript_info(episode_id) is not None

    def _stored(self, transcript: Transcript) -> bool:
        info = self.catalogue.transcript_info(transcript.episode_id)
        return info is not None and info.created == transcript.created

    def _fail(self, job: TranscriptionJob, error: str, *, worker: str | None = None) -> None:
        self._save(job, "failed", worker=worker or job.worker, error=error)
        self._broker(lambda: self.app.backend.forget(job.job_id))

    def _save(self, job: TranscriptionJob, state: JobState, **changes: Any) -> None:
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
