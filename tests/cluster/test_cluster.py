"""Ingest on Celery workers: enqueue, transcribe elsewhere, collect; and what survives a crash.

Real Redis, real Celery workers as subprocesses, real downloads through the address guard. The
fast tests give the workers a fake engine that records every job it runs (so "never twice" is
counted, not assumed); the ``slow`` ones run the bundled Whisper model on the committed clip.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from poddarkiv.archive.jobs import job_summary
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.errors import ClusterError
from poddarkiv.ingest.hallucinations import normalise
from poddarkiv.ingest.jobs import SENT, make_celery, record_sent
from tests.cluster.conftest import CLIP, ROOT, Cluster, feed_xml, wait_for
from tests.httpserver import in_turn, reply

#: Seconds a whole ingest may take here (two clips; workers on a small, shared CPU).
INGEST_TIMEOUT_S = 240.0


def transcripts(cluster: Cluster) -> dict[str, list[str]]:
    """Every stored transcript (current or not) per episode title: their texts, oldest first."""
    with Catalogue(DataDir(cluster.root / "archive")) as catalogue:
        out: dict[str, list[str]] = {}
        for episode in catalogue.episodes():
            history = reversed(catalogue.transcript_history(episode.id))
            out[episode.title] = [catalogue.load_transcript(info).text for info in history]
        return out


def queued(cluster: Cluster, n: int) -> bool:
    jobs = cluster.jobs()
    return len(jobs) == n and all(j.sent for j in jobs)


def wait_queued(cluster: Cluster, thread: threading.Thread, out: dict[str, Any], n: int) -> None:
    """Wait for ``n`` sent jobs; an ingest that ended first fails the test with its outcome."""
    wait_for(lambda: queued(cluster, n) or not thread.is_alive(), timeout_s=120,
             what=f"{n} queued jobs")
    assert thread.is_alive(), f"the ingest ended before queueing {n} jobs: {out}"


def test_ingest_queues_workers_transcribe_and_ingest_collects(cluster: Cluster) -> None:
    cluster.start_worker("w1")
    report = cluster.ingest()

    assert report.counts() == {"feed:new": 1, "episode:queued": 2, "episode:transcribed": 2}
    assert sorted(transcripts(cluster).values()) == [
        [f"falsk transkription {j.episode_id}"] for j in sorted(cluster.jobs(),
                                                                key=lambda j: j.episode_id)]
    assert {(j.state, j.worker) for j in cluster.jobs()} == {("done", "w1@test")}
    assert len(cluster.calls()) == 2
    # The worker fetched each clip itself, through the guard; ingest fetched its own copy.
    assert cluster.feed.count("/audio/1.mp3") == 2


def test_a_worker_on_the_shared_data_directory_reads_the_audio_there(cluster: Cluster) -> None:
    cluster.start_worker("w1", shared=True)
    report = cluster.ingest()

    assert not report.failed
    assert cluster.feed.count("/audio/1.mp3") == cluster.feed.count("/audio/2.mp3") == 1


def test_an_episode_the_worker_cannot_fetch_fails_with_the_workers_reason(
        cluster: Cluster) -> None:
    clip = CLIP.read_bytes()  # ingest's own download succeeds; the worker's finds it gone
    cluster.feed.route("/audio/2.mp3", in_turn(reply(clip, content_type="audio/mpeg"),
                                               reply(b"borta", status=404)))
    cluster.start_worker("w1")
    report = cluster.ingest()

    [failed] = [e for e in report.episodes if e.status == "failed"]
    assert failed.title == "Klipp 2" and "404" in (failed.error or "")
    assert sorted(j.state for j in cluster.jobs()) == ["done", "failed"]
    assert cluster.ingest().episodes == ()  # it backs off like any failed episode


def test_a_second_run_sends_nothing_and_stores_nothing_again(cluster: Cluster) -> None:
    cluster.start_worker("w1")
    cluster.ingest()
    again = cluster.ingest()

    assert again.episodes == ()
    assert len(cluster.calls()) == 2
    assert all(len(texts) == 1 for texts in transcripts(cluster).values())


def test_workers_with_another_model_or_language_do_not_take_the_jobs(cluster: Cluster) -> None:
    cluster.start_worker("other-model", model="kb-whisper-large")
    cluster.start_worker("other-language", language="auto")
    thread, out = cluster.ingest_in_thread()
    wait_queued(cluster, thread, out, 2)
    time.sleep(2.0)  # time enough for the wrong worker to take one, if it could
    assert cluster.calls() == []
    assert {j.state for j in cluster.jobs()} == {"queued"}

    cluster.start_worker("right")
    thread.join(INGEST_TIMEOUT_S)
    assert not out.get("error") and not out["report"].failed
    assert {line.split()[0] for line in cluster.calls()} == {"right"}


def test_a_killed_ingest_collects_on_its_next_run_without_sending_again(
        cluster: Cluster) -> None:
    settings = cluster.settings()
    coordinator = subprocess.Popen(
        [sys.executable, "-m", "poddarkiv", "--data-dir", str(settings.data_dir), "ingest",
         "--broker", cluster.redis.url, "--prefer", "whisper", "--allow-private",
         cluster.feed_url], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: queued(cluster, 2), timeout_s=120, what="two queued jobs")
    finally:
        coordinator.send_signal(signal.SIGKILL)
        coordinator.wait(timeout=10)
    sent = {j.episode_id: j.job_id for j in cluster.jobs()}

    cluster.start_worker("w1")
    report = cluster.ingest()

    assert report.counts() == {"feed:not_modified": 1, "episode:transcribed": 2} or (
        report.counts().get("episode:transcribed") == 2), report.counts()
    assert {j.episode_id: j.job_id for j in cluster.jobs()} == sent  # the same jobs, collected
    assert len(cluster.calls()) == 2  # each ran once
    assert all(len(texts) == 1 for texts in transcripts(cluster).values())


def test_redis_stopping_mid_run_is_a_clear_error_and_loses_nothing(cluster: Cluster) -> None:
    thread, out = cluster.ingest_in_thread()
    wait_queued(cluster, thread, out, 2)
    cluster.redis.stop()
    thread.join(INGEST_TIMEOUT_S)

    error = out.get("error")
    assert isinstance(error, ClusterError), error
    assert "cannot reach the broker at redis://127.0.0.1" in str(error)
    assert "run ingest again" in str(error)
    assert {j.state for j in cluster.jobs()} == {"queued"}

    cluster.redis.start()  # same port, same append-only file: the queued jobs are still there
    cluster.start_worker("w1")
    report = cluster.ingest()
    assert report.counts().get("episode:transcribed") == 2, report.counts()
    assert len(cluster.calls()) == 2
    assert all(len(texts) == 1 for texts in transcripts(cluster).values())


def test_jobs_redis_lost_before_a_worker_took_them_are_sent_again_and_stored_once(
        cluster: Cluster) -> None:
    thread, out = cluster.ingest_in_thread()
    wait_queued(cluster, thread, out, 2)
    sent = {j.episode_id: j.job_id for j in cluster.jobs()}
    cluster.flush_redis()  # as a Redis restarted without an append-only file: jobs gone
    wait_for(lambda: {j.attempts for j in cluster.jobs()} == {2}, timeout_s=30,
             what="both jobs sent again")

    cluster.start_worker("w1")
    thread.join(INGEST_TIMEOUT_S)
    assert not out.get("error") and not out["report"].failed, out
    assert {j.episode_id: j.job_id for j in cluster.jobs()} == sent  # under the same ids
    assert {(j.state, j.attempts) for j in cluster.jobs()} == {("done", 2)}
    assert len(cluster.calls()) == 2
    assert all(len(texts) == 1 for texts in transcripts(cluster).values())


def test_the_sent_record_never_hides_a_state_a_worker_wrote_first(cluster: Cluster) -> None:
    app = make_celery(cluster.settings())
    try:
        app.backend.store_result("fast-job", {"worker": "w1@test"}, "STARTED")
        record_sent(app, "fast-job")  # a worker was quicker than ingest
        record_sent(app, "slow-job")
        assert app.backend.get_task_meta("fast-job")["status"] == "STARTED"
        assert app.backend.get_task_meta("slow-job")["status"] == SENT
    finally:
        app.close()


@pytest.mark.parametrize("fake", [True, pytest.param(False, marks=pytest.mark.slow)],
                         ids=["fake-engine", "bundled-model"])
def test_a_worker_killed_mid_job_hands_it_to_another_and_one_transcript_is_kept(
        cluster: Cluster, fake: bool) -> None:
    cluster.start_worker("doomed", delay_s=600.0, fake=fake)
    thread, out = cluster.ingest_in_thread()
    wait_for(lambda: any(c.startswith("doomed") for c in cluster.calls()), timeout_s=60,
             what="the doomed worker to start a job")
    cluster.start_worker("survivor", fake=fake)
    cluster.kill("doomed")
    thread.join(INGEST_TIMEOUT_S)

    assert not out.get("error") and not out["report"].failed, out
    victim = cluster.calls()[0].split()[1]
    assert sorted(c for c in cluster.calls() if c.endswith(victim)) == [
        f"doomed {victim}", f"survivor {victim}"]
    assert all(len(texts) == 1 for texts in transcripts(cluster).values())
    with Catalogue(DataDir(cluster.root / "archive")) as catalogue:
        assert job_summary(catalogue).to_dict()["workers"] == [
            {"worker": "survivor@test", "queued": 0, "running": 0, "done": 2, "failed": 0}]


@pytest.mark.slow
def test_poddarkiv_worker_transcribes_the_clip_with_the_bundled_model(cluster: Cluster) -> None:
    cluster.start_cli_worker("whisper")
    report = cluster.ingest()

    assert report.counts().get("episode:transcribed") == 2, report.to_dict()
    for texts in transcripts(cluster).values():
        assert len(texts) == 1
        assert {"partnerskap", "upphandling"} <= set(normalise(texts[0]).split()), texts
    assert {j.worker for j in cluster.jobs()} == {f"base-cpu@{socket.gethostname()}"}


def test_a_publisher_transcript_that_cannot_be_used_is_said_as_in_process(
        cluster: Cluster) -> None:
    """The feed links a transcript that is gone: Whisper's, made by a worker, stands in, and
    the note saying why is in the run's report and the stored transcript, as in-process."""
    base = cluster.feed.url("").rstrip("/")
    link = f'<podcast:transcript url="{base}/t/1.vtt" type="text/vtt"/>'
    feed = feed_xml(base, 2).replace(
        b'<rss version="2.0">',
        b'<rss version="2.0" xmlns:podcast="https://podcastindex.org/namespace/1.0">').replace(
        b"<guid>klipp-1</guid>", b"<guid>klipp-1</guid>" + link.encode())
    cluster.feed.route("/feed.xml", reply(feed))  # /t/1.vtt answers 404
    cluster.start_worker("w1")
    report = cluster.ingest(prefer="publisher")

    [done] = [e for e in report.episodes if e.notes]
    assert done.status == "transcribed" and done.title == "Klipp 1" and not report.failed
    [note] = done.notes
    assert note.code == "publisher_transcript_unusable" and "/t/1.vtt" in str(note.get("urls"))
    assert "404" in str(note.get("reason"))
    with Catalogue(DataDir(cluster.root / "archive")) as catalogue:
        stored = catalogue.transcript(done.episode_id)
        assert stored is not None and stored.engine == "fake" and stored.notes == (note,)
