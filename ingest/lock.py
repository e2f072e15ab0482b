"""One ingest at a time per data directory.

An advisory ``flock`` on ``ingest.lock``: the kernel releases it when the holder dies, even by
``kill -9``, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from poddarkiv.errors import BusyError

__all__ = ["LOCK_POLL_S", "ingest_lock"]

LOCK_POLL_S = 0.2


@contextmanager
def ingest_lock(
    path: Path, *, wait_s: float = 0.0, sleep: Callable[[float], None] = time.sleep
) -> Iterator[None]:
    """Hold the ingest lock at ``path``; wait up to ``wait_s`` seconds, then raise BusyError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = _read_holder(path)
                    raise BusyError(
                        f"another ingest is running on this archive{holder}; "
                        "wait for it to finish or pass --wait"
                    ) from None
                sleep(LOCK_POLL_S)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
