"""Transcription jobs in the catalogue: one row per episode, states, the admin summary."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from poddarkiv.archive.jobs import (
    TranscriptionJob,
    job_for,
    job_summary,
    open_jobs,
    recent_jobs,
    save_job,
)
from poddarkiv.archive.models import Episode, EpisodeNote, Feed
from poddarkiv.archive.store import Catalogue, DataDir

T0 = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


def catalogue_with(tmp_path: Path, *episode_ids: str) -> Catalogue:
    catalogue = Catalogue(DataDir(tmp_path / "data"))
    catalogue.save_feed(Feed(id="f", url="https://example.org/feed.xml", title="F"))
    for episode_id in episode_ids:
        catalogue.save_episode(Episode(id=episode_id, feed_id="f", guid=episode_id,
                                       title=episode_id))
    return catalogue


def job(episode_id: str, state: str = "queued", worker: str | None = None, minutes: int = 0
        ) -> TranscriptionJob:
    at = T0 + timedelta(minutes=minutes)
    return TranscriptionJob(episode_id, f"job-{episode_id}", "poddarkiv.transcribe.base",
                            state, at, at, sent=True, worker=worker)


def test_a_job_is_saved_and_read_back(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a") as catalogue:
        save_job(catalogue, job("a"))
        assert job_for(catalogue, "a") == job("a")
        assert job_for(catalogue, "b") is None


def test_a_jobs_notes_are_kept_with_it(tmp_path: Path) -> None:
    """What the transcript must say when it comes back (ingest.cluster), in the row."""
    note = EpisodeNote.of("publisher_transcript_unusable", urls="https://example.org/t.vtt",
                          reason="HTTP 404 Not Found")
    with catalogue_with(tmp_path, "a") as catalogue:
        save_job(catalogue, job("a").replace(notes=(note,)))
        stored = job_for(catalogue, "a")
        assert stored is not None and stored.notes == (note,)
        save_job(catalogue, stored.replace(state="running"))  # kept through every change
        assert [j.notes for j in open_jobs(catalogue)] == [(note,)]


def test_a_job_recorded_before_notes_were_kept_has_none(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a") as catalogue:
        save_job(catalogue, job("a"))
    with sqlite3.connect(tmp_path / "data" / "catalogue.sqlite") as conn:
        conn.execute("ALTER TABLE transcription_jobs DROP COLUMN notes_json")
        conn.execute("PRAGMA user_version = 6")  # the schema before job notes
    with Catalogue(DataDir(tmp_path / "data")) as catalogue:
        assert job_for(catalogue, "a") == job("a")


def test_one_row_per_episode_the_latest_job_wins(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a") as catalogue:
        save_job(catalogue, job("a", "failed"))
        save_job(catalogue, job("a", "running", worker="gpu1@x").replace(job_id="second"))
        stored = job_for(catalogue, "a")
        assert stored is not None and (stored.job_id, stored.state) == ("second", "running")


def test_open_jobs_are_the_queued_and_running_ones(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a", "b", "c", "d") as catalogue:
        for episode_id, state in zip("abcd", ("queued", "running", "done", "failed"),
                                     strict=True):
            save_job(catalogue, job(episode_id, state))
        assert [j.episode_id for j in open_jobs(catalogue)] == ["a", "b"]
        assert [j.open for j in recent_jobs(catalogue)] == [True, True, False, False]


def test_the_summary_counts_states_overall_and_per_worker(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a", "b", "c", "d") as catalogue:
        save_job(catalogue, job("a"))
        save_job(catalogue, job("b", "running", "gpu1"))
        save_job(catalogue, job("c", "done", "gpu1"))
        save_job(catalogue, job("d", "done", "gpu2"))
        assert job_summary(catalogue).to_dict() == {
            "total": {"queued": 1, "running": 1, "done": 2, "failed": 0},
            "workers": [
                {"worker": "", "queued": 1, "running": 0, "done": 0, "failed": 0},
                {"worker": "gpu1", "queued": 0, "running": 1, "done": 1, "failed": 0},
                {"worker": "gpu2", "queued": 0, "running": 0, "done": 1, "failed": 0},
            ]}


def test_a_catalogue_from_before_the_cluster_opens_and_gains_the_table(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a") as catalogue:
        assert job_summary(catalogue).to_dict()["total"]["queued"] == 0
    with sqlite3.connect(tmp_path / "data" / "catalogue.sqlite") as conn:
        conn.execute("DROP TABLE transcription_jobs")
        conn.execute("PRAGMA user_version = 0")  # as catalogues from before versions are
    with Catalogue(DataDir(tmp_path / "data")) as catalogue:
        assert open_jobs(catalogue) == []
        save_job(catalogue, job("a"))
        assert job_for(catalogue, "a") is not None


def test_removing_an_episode_removes_its_job(tmp_path: Path) -> None:
    with catalogue_with(tmp_path, "a") as catalogue:
        save_job(catalogue, job("a"))
        catalogue.remove_feed("f")
        assert recent_jobs(catalogue) == []
