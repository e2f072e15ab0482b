"""Transcription jobs in the catalogue: which episode went to which cluster job, and how it ended.

When ``ingest`` hands transcription to Celery workers (:mod:`poddarkiv.ingest.cluster`), the
catalogue remembers each episode's latest job in one row::

    transcription_jobs(episode_id PRIMARY KEY, job_id UNIQUE, queue, state, sent, worker,
                       error, queued, updated, attempts, notes_json)

``state`` is ``queued``, ``running``, ``done`` or ``failed``. The row is written *before* the
job is sent (``sent = 0``) and marked sent afterwards, so an ingest killed at any point finds its
jobs on the next run: unsent ones are sent again under the same id, sent ones are collected, and
nothing is enqueued twice. ``attempts`` counts the sends: a job the broker lost (Redis restarted
without its data, was flushed, or let the job's record expire) is sent again under the same id,
and the row says so (``attempts`` above 1, ``error`` saying why) for the admin page.
``notes_json`` holds what the transcript must carry when it comes back (why the publisher's
transcript was not used: :class:`~poddarkiv.archive.models.EpisodeNote`), so the run that
collects it, this one or a later one, adds them as a local transcription would. The table
is created when the catalogue opens (:mod:`poddarkiv.archive.migrations`, which holds its DDL),
so catalogues from before the cluster existed gain it then. Only the ingest side writes here;
workers never see the catalogue. The admin page reads :func:`job_summary`.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from poddarkiv.archive.codec import dt_from_iso, dt_to_iso, note_from_dict, note_to_dict
from poddarkiv.archive.models import EpisodeNote
from poddarkiv.archive.store import Catalogue

__all__ = [
    "JOB_STATES",
    "JobState",
    "JobSummary",
    "TranscriptionJob",
    "job_for",
    "job_summary",
    "open_jobs",
    "recent_jobs",
    "save_job",
]

JobState = Literal["queued", "running", "done", "failed"]
JOB_STATES: tuple[JobState, ...] = ("queued", "running", "done", "failed")


@dataclass(frozen=True, slots=True)
class TranscriptionJob:
    """An episode's latest transcription job on the cluster."""

    episode_id: str
    job_id: str
    queue: str
    state: JobState
    queued: datetime
    updated: datetime
    sent: bool = False
    worker: str | None = None
    #: Why the job failed; on an open job, why it was sent again.
    error: str | None = None
    #: How many times the job was sent (more than once: the broker had lost it).
    attempts: int = 1
    #: What the transcript must carry when it comes back (the publisher's could not be used).
    notes: tuple[EpisodeNote, ...] = ()

    @property
    def open(self) -> bool:
        """Whether the job may still deliver a transcript (queued or running)."""
        return self.state in ("queued", "running")

    def replace(self, **changes: Any) -> TranscriptionJob:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class JobSummary:
    """Jobs per state, overall and per worker (jobs no worker has taken yet count under ``""``),
    and how many were sent more than once because the broker had lost them."""

    total: dict[str, int] = field(default_factory=dict)
    per_worker: dict[str, dict[str, int]] = field(default_factory=dict)
    resent: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"total": {state: n}, "workers": [{"worker", state: n...}]}``."""
        return {"total": {s: self.total.get(s, 0) for s in JOB_STATES},
                "workers": [{"worker": w, **{s: c.get(s, 0) for s in JOB_STATES}}
                            for w, c in sorted(self.per_worker.items())]}


def save_job(catalogue: Catalogue, job: TranscriptionJob) -> None:
    """Insert or replace the episode's job row."""
    with catalogue.transaction() as conn:
        conn.execute(
            "INSERT INTO transcription_jobs (episode_id, job_id, queue, state, sent, worker, "
            "error, queued, updated, attempts, notes_json) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(episode_id) DO UPDATE SET job_id=excluded.job_id, "
            "queue=excluded.queue, state=excluded.state, sent=excluded.sent, "
            "worker=excluded.worker, error=excluded.error, queued=excluded.queued, "
            "updated=excluded.updated, attempts=excluded.attempts, "
            "notes_json=excluded.notes_json",
            (job.episode_id, job.job_id, job.queue, job.state, int(job.sent), job.worker,
             job.error, dt_to_iso(job.queued), dt_to_iso(job.updated), job.attempts,
             json.dumps([note_to_dict(n) for n in job.notes], ensure_ascii=False)))


def job_for(catalogue: Catalogue, episode_id: str) -> TranscriptionJob | None:
    """The episode's latest job, if it ever had one."""
    rows = catalogue.query("SELECT * FROM transcription_jobs WHERE episode_id = ?",
                           (episode_id,))
    return _job(rows[0]) if rows else None


def open_jobs(catalogue: Catalogue) -> list[TranscriptionJob]:
    """Jobs that may still deliver a transcript (queued or running), oldest first."""
    rows = catalogue.query("SELECT * FROM transcription_jobs WHERE state IN "
                           "('queued', 'running') ORDER BY queued, episode_id")
    return [_job(r) for r in rows]


def recent_jobs(catalogue: Catalogue, *, limit: int = 50) -> list[TranscriptionJob]:
    """The latest jobs, most recently changed first (for the admin page)."""
    rows = catalogue.query("SELECT * FROM transcription_jobs ORDER BY updated DESC, episode_id "
                           "LIMIT ?", (limit,))
    return [_job(r) for r in rows]


def job_summary(catalogue: Catalogue) -> JobSummary:
    """How many jobs are queued, running, done and failed, overall and per worker, and how many
    were sent again."""
    rows = catalogue.query("SELECT coalesce(worker, '') AS worker, state, count(*) AS n "
                           "FROM transcription_jobs GROUP BY 1, 2")
    resent = catalogue.query("SELECT count(*) AS n FROM transcription_jobs WHERE attempts > 1")
    summary = _summarise((r["worker"], r["state"], int(r["n"])) for r in rows)
    return dataclasses.replace(summary, resent=int(resent[0]["n"]))


def _summarise(rows: Iterable[tuple[str, str, int]]) -> JobSummary:
    total: dict[str, int] = {}
    per_worker: dict[str, dict[str, int]] = {}
    for worker, state, n in rows:
        total[state] = total.get(state, 0) + n
        per_worker.setdefault(worker, {})[state] = n
    return JobSummary(total, per_worker)


def _job(row: sqlite3.Row) -> TranscriptionJob:
    epoch = datetime.min.replace(tzinfo=UTC)
    return TranscriptionJob(
        episode_id=row["episode_id"], job_id=row["job_id"], queue=row["queue"],
        state=row["state"], queued=dt_from_iso(row["queued"]) or epoch,
        updated=dt_from_iso(row["updated"]) or epoch, sent=bool(row["sent"]),
        worker=row["worker"], error=row["error"], attempts=int(row["attempts"]),
        notes=tuple(note_from_dict(n) for n in json.loads(row["notes_json"] or "[]")))
