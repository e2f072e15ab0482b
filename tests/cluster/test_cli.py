"""The cluster's commands: ``worker``, ``ingest --broker`` and ``serve --workers``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from poddarkiv.cli import cli
from tests.cluster.conftest import ROOT, Cluster


@pytest.mark.parametrize(("command", "options"), [
    ("worker", ["--broker", "--model", "--device", "--shared-data", "--threads"]),
    ("ingest", ["--broker"]),
    ("serve", ["--workers"]),
])
def test_the_commands_offer_their_cluster_options(command: str, options: list[str]) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output


@pytest.mark.parametrize("args", [["worker"], ["ingest", "--broker", "amqp://mq:5672//"]])
def test_a_missing_or_foreign_broker_is_a_clean_error(args: list[str], tmp_path: object,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PODDARKIV_BROKER", raising=False)
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), *args])
    assert result.exit_code == 1
    assert "redis://" in result.output and "Traceback" not in result.output


def test_ingest_takes_the_broker_from_the_environment_and_prints_progress_per_worker(
        cluster: Cluster) -> None:
    # ``--broker`` itself: test_cluster.py's killed-ingest test starts ingest with it.
    cluster.start_worker("w1")
    result = subprocess.run(
        [sys.executable, "-m", "poddarkiv", "--data-dir", str(cluster.root / "archive"),
         "ingest", "--prefer", "whisper", "--allow-private", cluster.feed_url],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PODDARKIV_BROKER": cluster.redis.url})

    assert result.returncode == 0, result.stderr
    assert "cluster: 0 queued, 0 running, 2 done, 0 failed (w1@test: 2 done)" in result.stderr
    assert "Episodes: 2 queued, 2 transcribed." in result.stdout


def test_a_worker_whose_visibility_timeout_a_long_episode_outlasts_does_not_start(
        tmp_path: object) -> None:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path), "worker", "--broker", "redis://127.0.0.1:1/0"],
        env={"PODDARKIV_JOB_VISIBILITY_TIMEOUT_S": "7200",
             "PODDARKIV_AUDIO_MAX_DURATION_S": "10800"})
    assert result.exit_code == 1
    assert "job_visibility_timeout_s = 7200 s" in result.output
    assert "audio_max_duration_s = 10800 s" in result.output
    assert "Traceback" not in result.output
