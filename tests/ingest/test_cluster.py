"""The ingest side of the cluster against a stand-in Celery app: what is sent, stored, forgotten.

The real thing (Redis, Celery workers) is tested in ``tests/cluster``; these pin the rules that
keep the archive free of duplicates when a run is killed at an awkward moment.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from poddarkiv.archive.codec import note_to_dict, transcript_to_dict
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.jobs import JobSummary, job_for, job_summary, save_job
from poddarkiv.archive.models import Enclosure, Episode, EpisodeNote, Feed, Segment, Transcript
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import ClusterError, ConfigError, TranscriptionError
from poddarkiv.ingest.client import make_client, policy_for
from poddarkiv.ingest.cluster import ClusterQueue, Collected, format_summary
from poddarkiv.ingest.jobs import SENT, TASK_NAME, JobRequest, queue_for
from poddarkiv.ingest.pipeline import ingest
from poddarkiv.sample import sample_dir
from poddarkiv.sample.server import serve_sample
from tests.ingest.fallback import the_fallback

CREATED = datetime(2025, 9, 1, 8, 0, tzinfo=UTC)


@dataclass
class Backend:
    """Celery's result backend, in memory; ``client`` is its Redis (``SET NX`` only)."""

    meta: dict[str, dict[str, Any]] = field(default_factory=dict)
    forgotten: list[str] = field(default_factory=list)
    down: bool = False

    @property
    def client(self) -> Backend:
        return self

    def get_key_for_task(self, task_id: str) -> str:
        return task_id

    def encode(self, meta: dict[str, Any]) -> dict[str, Any]:
        return meta

    def set(self, key: str, value: dict[str, Any], *, nx: bool, ex: int) -> None:
        if not (nx and key in self.meta):
            self.meta[key] = value

    def flush(self) -> None:
        """``FLUSHALL``, or a Redis restarted without its data."""
        self.meta.clear()

    def get_task_meta(self, task_id: str) -> dict[str, Any]:
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return self.meta.get(task_id, {"status": "PENDING", "result": None})

    def forget(self, task_id: str) -> None:
        self.forgotten.append(task_id)
        self.meta.pop(task_id, None)


@dataclass
class App:
    """Just enough of a Celery app: it records what is sent."""

    backend: Backend = field(default_factory=Backend)
    sent: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False

    def send_task(self, name: str, *, args: list[Any], task_id: str, queue: str) -> None:
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        self.sent.append({"name": name, "payload": args[0], "task_id": task_id, "queue": queue})

    def finish(self, worker: str = "gpu1@box") -> None:
        for sent in self.sent:
            episode_id = sent["payload"]["episode_id"]
            self.backend.meta[sent["task_id"]] = {"status": "SUCCESS", "result": {
                "worker": worker, "transcript": transcript_to_dict(transcript(episode_id))}}

    def close(self) -> None:
        pass


def transcript(episode_id: str) -> Transcript:
    return Transcript(episode_id=episode_id, source="whisper", language="sv",
                      segments=(Segment(0.0, 2.0, "Idéburet partnerskap."),), engine="fake",
                      model="base", created=CREATED)


@pytest.fixture
def catalogue(tmp_path: Path) -> Iterator[Catalogue]:
    """A catalogue with one feed and episode ``ep``."""
    with Catalogue(DataDir(tmp_path / "data")) as catalogue:
        catalogue.save_feed(Feed(id="f", url="https://example.org/feed.xml", title="F"))
        catalogue.save_episode(episode())
        yield catalogue


def episode() -> Episode:
    return Episode(id="ep", feed_id="f", guid="ep", title="Avsnittet", audio_path="audio/ep.mp3",
                   enclosure=Enclosure("https://example.org/ep.mp3", "audio/mpeg", 1000))


def queue(catalogue: Catalogue, app: App, **settings: Any) -> ClusterQueue:
    return ClusterQueue(Settings(broker="redis://127.0.0.1:1/0", **settings), catalogue,
                        app=app, sleep=lambda _: app.finish(),
                        clock=lambda: CREATED)


def store(catalogue: Catalogue, collected: Iterator[Collected]) -> list[Any]:
    """What the pipeline does with each collected transcript: store it."""
    out = []
    for _episode, result, _notes in collected:
        if isinstance(result, Transcript):
            catalogue.save_transcript(result)
        out.append(result)
    return out


def test_a_job_names_the_episode_its_enclosure_and_the_model_queue(catalogue: Catalogue
                                                                    ) -> None:
    app = App()
    queue(catalogue, app, model="KBLab/kb-whisper-small").submit(episode())

    [sent] = app.sent
    assert sent["name"] == TASK_NAME
    assert sent["queue"] == (
        "poddarkiv.transcribe.KBLab_kb-whisper-small.faster-whisper.sv.b5.x8")
    assert JobRequest.from_dict(sent["payload"]) == JobRequest(
        "ep", "KBLab/kb-whisper-small", "https://example.org/ep.mp3", "audio/mpeg", 1000,
        "audio/ep.mp3")
    job = job_for(catalogue, "ep")
    assert job is not None and job.sent and job.state == "queued"
    assert job.job_id == sent["task_id"]


def test_collect_yields_each_transcript_once_then_marks_done_and_forgets(catalogue: Catalogue
                                                                         ) -> None:
    app = App()
    jobs = queue(catalogue, app)
    jobs.submit(episode())

    assert store(catalogue, jobs.collect()) == [transcript("ep")]
    job = job_for(catalogue, "ep")
    assert job is not None and (job.state, job.worker) == ("done", "gpu1@box")
    assert app.backend.forgotten == [job.job_id]
    assert jobs.pending("ep") is False


def test_a_transcript_stored_before_a_crash_is_not_stored_again(catalogue: Catalogue) -> None:
    app = App()
    queue(catalogue, app).submit(episode())
    app.finish()
    catalogue.save_transcript(transcript("ep"))  # stored; then the run died before "done"

    assert store(catalogue, queue(catalogue, app).collect()) == []
    assert len(catalogue.transcript_history("ep")) == 1
    job = job_for(catalogue, "ep")
    assert job is not None and job.state == "done"


def test_a_job_recorded_but_never_sent_is_sent_under_the_same_id(catalogue: Catalogue) -> None:
    app = App()
    queue(catalogue, app).submit(episode())
    job = job_for(catalogue, "ep")
    assert job is not None
    save_job(catalogue, job.replace(sent=False))  # died between recording and sending
    app.sent.clear()

    assert store(catalogue, queue(catalogue, app).collect()) == [transcript("ep")]
    assert [s["task_id"] for s in app.sent] == [job.job_id]


def test_a_sent_job_is_recorded_in_the_backend_so_pending_means_lost(catalogue: Catalogue
                                                                     ) -> None:
    app = App()
    queue(catalogue, app).submit(episode())

    assert app.backend.get_task_meta(app.sent[0]["task_id"])["status"] == SENT


def test_a_job_redis_lost_is_sent_again_under_the_same_id_and_counted(catalogue: Catalogue
                                                                       ) -> None:
    app = App()
    jobs = queue(catalogue, app)
    jobs.submit(episode())
    [first] = app.sent
    app.backend.flush()  # Redis restarted without its data: the job and its record are gone
    app.sent.clear()
    seen: list[JobSummary] = []
    jobs._report = seen.append

    assert store(catalogue, jobs.collect()) == [transcript("ep")]
    assert [s["task_id"] for s in app.sent] == [first["task_id"]]
    assert len(catalogue.transcript_history("ep")) == 1
    job = job_for(catalogue, "ep")
    assert job is not None and (job.state, job.attempts) == ("done", 2)
    assert "the broker had lost the job" in (job.error or "")
    assert job_summary(catalogue).resent == 1
    assert format_summary(seen[0]).endswith("; 1 sent again (the broker had lost it)")


def test_a_lost_job_whose_transcript_was_stored_is_done_not_sent_again(catalogue: Catalogue
                                                                       ) -> None:
    app = App()
    queue(catalogue, app).submit(episode())
    catalogue.save_transcript(transcript("ep"))  # stored; the run died before "done"
    app.backend.flush()  # ... and Redis lost the result
    app.sent.clear()

    assert store(catalogue, queue(catalogue, app).collect()) == []
    assert app.sent == []
    assert len(catalogue.transcript_history("ep")) == 1
    job = job_for(catalogue, "ep")
    assert job is not None and (job.state, job.attempts) == ("done", 1)


def test_a_run_where_no_job_changes_for_two_visibility_timeouts_stops_and_keeps_them(
        catalogue: Catalogue) -> None:
    app = App()  # no worker: the job stays SENT
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += 10.0

    settings = Settings(broker="redis://127.0.0.1:1/0", audio_max_duration_s=60.0,
                        job_visibility_timeout_s=100.0)
    jobs = ClusterQueue(settings, catalogue, app=app, sleep=sleep, timer=lambda: clock[0],
                        clock=lambda: CREATED)
    jobs.submit(episode())

    with pytest.raises(ClusterError) as caught:
        list(jobs.collect())
    assert 200.0 < clock[0] <= 210.0
    message = str(caught.value)
    assert "no transcription job has changed for 210 s (1 queued, 0 running" in message
    assert "job_visibility_timeout_s = 100 s" in message and "run ingest again" in message
    assert jobs.pending("ep")

    app.finish()  # a worker came: the next run collects the same job
    assert store(catalogue, queue(catalogue, app).collect()) == [transcript("ep")]
    assert len(app.sent) == 1


def test_a_failed_episode_is_reported_and_marked_failed(catalogue: Catalogue) -> None:
    app = App()
    jobs = queue(catalogue, app)
    jobs.submit(episode())
    job_id = app.sent[0]["task_id"]
    app.backend.meta[job_id] = {"status": "SUCCESS", "result": {
        "worker": "w", "error": "FetchError: 404 Not Found"}}
    jobs._sleep = lambda _: None

    [(_episode, error, _notes)] = list(jobs.collect())
    assert isinstance(error, TranscriptionError) and "404" in str(error)
    job = job_for(catalogue, "ep")
    assert job is not None and (job.state, job.error) == ("failed", "FetchError: 404 Not Found")


def test_a_running_job_records_its_worker(catalogue: Catalogue) -> None:
    app = App()
    jobs = queue(catalogue, app)
    jobs.submit(episode())
    app.backend.meta[app.sent[0]["task_id"]] = {"status": "PROGRESS",
                                                "result": {"worker": "gpu2@box"}}
    seen: list[JobSummary] = []
    jobs._report = seen.append
    store(catalogue, jobs.collect())

    assert format_summary(seen[0]) == (
        "cluster: 0 queued, 1 running, 0 done, 0 failed (gpu2@box: 1 running)")


def test_an_unreachable_broker_is_a_cluster_error_without_the_password(catalogue: Catalogue
                                                                        ) -> None:
    app = App()
    jobs = ClusterQueue(Settings(broker="redis://:hemligt@redis.example:6379/0"), catalogue,
                        app=app)
    jobs.submit(episode())
    app.backend.down = True

    with pytest.raises(ClusterError, match=r"redis://\*\*\*@redis.example:6379/0") as caught:
        list(jobs.collect())
    assert "hemligt" not in str(caught.value)
    assert jobs.pending("ep")  # kept for the next run


def test_redis_own_reason_is_quoted_once_without_a_doubled_full_stop(
        catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    app = App()
    jobs = queue(catalogue, app)
    jobs.submit(episode())

    def refused(_task_id: str) -> dict[str, Any]:
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(app.backend, "get_task_meta", refused)
    with pytest.raises(ClusterError) as caught:
        list(jobs.collect())
    assert "127.0.0.1:1. Connection refused. Jobs recorded so far are kept" in str(caught.value)
    assert ".." not in str(caught.value)


def test_a_broker_down_when_sending_keeps_the_job_for_the_next_run(catalogue: Catalogue
                                                                   ) -> None:
    app = App(down=True)
    with pytest.raises(ClusterError, match="run ingest again"):
        queue(catalogue, app).submit(episode())
    job = job_for(catalogue, "ep")
    assert job is not None and not job.sent and job.state == "queued"

    app.down = False
    assert store(catalogue, queue(catalogue, app).collect()) == [transcript("ep")]
    assert [s["task_id"] for s in app.sent] == [job.job_id]


def test_without_celery_a_broker_is_refused_before_anything_is_fetched(
        catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"pip install 'poddarkiv\[cluster\]'"):
        ClusterQueue(Settings(broker="redis://127.0.0.1:1/0"), catalogue)


def test_the_default_path_never_imports_celery() -> None:
    code = ("import sys; import poddarkiv.cli, poddarkiv.runner, poddarkiv.ingest.pipeline; "
            "sys.exit('celery' in sys.modules or 'kombu' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_queues_are_named_after_the_model_and_how_it_transcribes() -> None:
    assert queue_for(Settings()) == "poddarkiv.transcribe.base.faster-whisper.sv.b5.x8"
    assert queue_for(Settings(model="/srv/models/kb-whisper-large/", language="auto",
                              vad=True, glossary=True)) == (
        "poddarkiv.transcribe.kb-whisper-large.faster-whisper.auto.b5.x8.vad.glossary")
    assert queue_for(Settings(model="KBLab/kb-whisper-small", device="cuda")) == (
        "poddarkiv.transcribe.KBLab_kb-whisper-small.faster-whisper.sv.b5.x8")
    # Sequential decoding writes other text: its jobs go to a queue of their own.
    assert queue_for(Settings(batch_size=1)) == "poddarkiv.transcribe.base.faster-whisper.sv.b5.x1"
    assert queue_for(Settings(engine="openai-whisper")) == (
        "poddarkiv.transcribe.base.openai-whisper.sv.b5")


FALLBACK = EpisodeNote.of("publisher_transcript_unusable", urls="https://example.org/t.vtt",
                          reason="HTTP 404 Not Found")


def test_a_jobs_notes_are_kept_with_it_and_handed_back_with_its_transcript(
        catalogue: Catalogue) -> None:
    """Kept in the catalogue, not in Redis: a job the broker lost and sent again keeps them,
    and so does a later run that collects it."""
    app = App()
    queue(catalogue, app).submit(episode(), notes=(FALLBACK,))
    job = job_for(catalogue, "ep")
    assert job is not None and job.notes == (FALLBACK,)
    assert "notes" not in app.sent[0]["payload"]  # the worker has no use for them
    app.backend.flush()  # Redis lost the job: it is sent again, under the same id

    [(got, transcript_, notes)] = list(queue(catalogue, app).collect())
    assert (got.id, notes) == ("ep", (FALLBACK,))
    assert isinstance(transcript_, Transcript) and transcript_.notes == ()  # the pipeline adds them
    assert len(app.sent) == 2


def test_a_publisher_fallback_is_recorded_alike_when_whisper_runs_on_the_cluster(
        tmp_path: Path) -> None:
    """As in-process (test_pipeline: ..._is_said_and_whisper_stands_in): the publisher's
    transcript cannot be fetched, so the note is in the run's report and in the transcript
    the cluster made, through the pipeline's one path for both."""
    root = tmp_path / "sample"
    shutil.copytree(sample_dir(), root)
    (root / "transcripts" / "iop-och-upphandling.vtt").unlink()  # the feed still links it
    settings = Settings(data_dir=tmp_path / "data", allow_private=True,
                        broker="redis://127.0.0.1:1/0")
    app = App()
    with Catalogue(DataDir(settings.data_dir)) as catalogue, serve_sample(root=root) as server, \
            make_client(policy_for(settings)) as client:
        index = ArchiveIndex.open(catalogue.data.index)
        jobs = ClusterQueue(settings, catalogue, app=app, sleep=lambda _: app.finish(),
                            clock=lambda: CREATED)
        try:
            report = ingest(settings, (server.feed_url,), catalogue=catalogue, index=index,
                            client=client, transcriber_factory=pytest.fail, jobs=jobs)
        finally:
            index.close()
        outcome, note = the_fallback(report)
        stored = catalogue.transcript(outcome.episode_id)
        assert stored is not None and stored.engine == "fake"  # the cluster's transcript
        assert stored.notes == (note,)
        saved = catalogue.last_report()
        assert saved is not None
        assert [e["notes"] for e in saved["episodes"] if e["notes"]] == [[note_to_dict(note)]]
