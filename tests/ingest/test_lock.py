"""Only one ingest runs per data directory; a dead holder never leaves the lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from poddarkiv.errors import BusyError
from poddarkiv.ingest.lock import ingest_lock


def test_a_second_holder_is_told_clearly_that_an_ingest_is_running(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    with (ingest_lock(lock), pytest.raises(BusyError, match="another ingest is running"),
          ingest_lock(lock)):
        pass


def test_the_lock_is_free_again_after_release(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    with ingest_lock(lock):
        pass
    with ingest_lock(lock):
        assert lock.read_text() == str(os.getpid())


def test_a_killed_holder_releases_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    code = ("import sys, time; from pathlib import Path\n"
            "from poddarkiv.ingest.lock import ingest_lock\n"
            "with ingest_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)")
    child = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(BusyError, match=f"process {child.pid}"), ingest_lock(lock):
            pass
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        with ingest_lock(lock, wait_s=5.0):
            pass
    finally:
        child.kill()
        child.wait()


def test_waiting_gives_up_after_the_deadline(tmp_path: Path) -> None:
    lock = tmp_path / "ingest.lock"
    started = time.monotonic()
    with ingest_lock(lock), pytest.raises(BusyError), ingest_lock(lock, wait_s=0.5):
        pass
    assert time.monotonic() - started >= 0.5
