"""One ingest run in a child process, which the kill -9 test may kill at a chosen point.

Run as ``python -m tests.reliability.fault_child DATA_DIR FEED_URL AUDIO_FILE [PHASE:K]``.
It ingests ``FEED_URL`` into ``DATA_DIR`` with the real pipeline (HTTP, download, catalogue,
index, themes), except that Whisper is replaced at its seam by a fake that sleeps
:data:`TRANSCRIBE_S` and first checks that the audio it was handed is byte for byte the file
the server serves (``AUDIO_FILE``): anything else is logged to ``DATA_DIR/../truncated.log``.

Its stdout speaks a line protocol the parent reads:

``PHASE download|transcribe|catalogue|index <episode or ->``
    the run entered that phase (the parent may kill it a random moment later);
``EVENTS <json>``
    how many hook events each phase saw (the parent learns how far a kill can land);
``REPORT <json>``
    the ingest report's counts, printed when the run finished.

``PHASE:K`` kills the process itself with SIGKILL at the K-th hook event of that phase:
``catalogue`` events are SQLite progress callbacks (every :data:`SQLITE_STEP` VM instructions),
``fsync`` and ``replace`` calls inside catalogue transactions and transcript writes; ``index``
events are Whoosh file writes, renames and ``fsync``\\ s inside a commit. So a kill lands in the
middle of a SQLite transaction, between writing a file and renaming it, or halfway through a
segment file, as well as at the moments a timed kill from outside would hit.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh.filedb import structfile

from poddarkiv.archive import store
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.compose import http_client, open_archive, themes_step
from poddarkiv.config import Settings
from poddarkiv.errors import TranscriptionError
from poddarkiv.ingest.pipeline import EpisodeOutcome, ingest

__all__ = ["SEGMENTS_PER_EPISODE", "TRANSCRIBE_S", "main"]

#: The fake transcriber's time per episode (the window a timed kill aims at).
TRANSCRIBE_S = 0.3
SEGMENTS_PER_EPISODE = 40
#: SQLite calls the progress handler every this many VM instructions.
SQLITE_STEP = 50


class Hooks:
    """Counts events per armed phase; kills the process at the chosen one."""

    def __init__(self, phase: str | None, kill_at: int) -> None:
        self.phase, self.kill_at = phase, kill_at
        self.armed: str | None = None
        self.events: Counter[str] = Counter()

    def event(self) -> None:
        if self.armed is None:
            return
        self.events[self.armed] += 1
        if self.armed == self.phase and self.events[self.armed] == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    @contextmanager
    def arm(self, phase: str) -> Iterator[None]:
        if self.armed is not None:  # nested: the outer phase keeps counting
            yield
            return
        self.armed = phase
        say("PHASE", phase, "-")
        try:
            yield
        finally:
            self.armed = None


def say(*words: object) -> None:
    print(*words, flush=True)


def _wrap(owner: Any, name: str, hooks: Hooks) -> None:
    real = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        hooks.event()
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)


def install(hooks: Hooks) -> None:
    """Hook every write the catalogue and the index make."""
    for name in ("fsync", "replace", "rename"):
        _wrap(os, name, hooks)
    _wrap(structfile.StructFile, "write", hooks)

    real_transaction = Catalogue.transaction

    @contextmanager
    def transaction(self: Catalogue) -> Iterator[Any]:
        with hooks.arm("catalogue"), real_transaction(self) as conn:
            yield conn

    setattr(Catalogue, "transaction", transaction)  # noqa: B010 - a test seam
    real_write = store.atomic_write_bytes

    def atomic_write_bytes(path: Path, data: bytes) -> None:
        with hooks.arm("catalogue"):
            real_write(path, data)

    store.atomic_write_bytes = atomic_write_bytes
    real_index = ArchiveIndex.index_many

    def index_many(self: ArchiveIndex, items: Any) -> int:
        with hooks.arm("index"):
            return int(real_index(self, items))

    setattr(ArchiveIndex, "index_many", index_many)  # noqa: B010 - a test seam


def _sqlite_hook(catalogue: Catalogue, hooks: Hooks) -> None:
    def progress() -> int:
        hooks.event()
        return 0

    catalogue._conn.set_progress_handler(progress, SQLITE_STEP)


class _Progress:
    def feed_done(self, outcome: object) -> None: ...

    def episode_started(self, episode: Episode, what: str) -> None:
        say("PHASE", what, episode.id)

    def audio_progress(self, done_s: float, total_s: float) -> None: ...

    def episode_done(self, outcome: EpisodeOutcome) -> None: ...


def fake_whisper(root: Path, expected_sha256: str, log: Path) -> Callable[[], Callable[..., Any]]:
    """The transcriber seam: check the audio is whole, sleep, return a plain transcript."""
    def factory() -> Callable[..., Transcript]:
        def step(episode: Episode, *, progress: Callable[[float, float], None]) -> Transcript:
            data = (root / (episode.audio_path or "missing")).read_bytes()
            if hashlib.sha256(data).hexdigest() != expected_sha256:
                with open(log, "a", encoding="utf-8") as fh:
                    fh.write(f"{episode.id} {len(data)} bytes\n")
                raise TranscriptionError(f"{episode.id}: audio is not the served file")
            time.sleep(TRANSCRIBE_S)
            segments = tuple(
                Segment(i * 2.0, i * 2.0 + 1.8,
                        f"Avsnitt {episode.title} mening {i} om partnerskap och upphandling.")
                for i in range(SEGMENTS_PER_EPISODE))
            return Transcript(episode_id=episode.id, source="whisper", language="sv",
                              segments=segments, engine="fake", model="fake")
        return step
    return factory


def main(argv: list[str]) -> int:
    root, feed_url, audio = Path(argv[0]), argv[1], Path(argv[2])
    phase, _, kill_at = argv[3].partition(":") if len(argv) > 3 else ("", "", "0")
    hooks = Hooks(phase or None, int(kill_at or 0))
    install(hooks)
    settings = Settings(data_dir=root, allow_private=True, prefer="whisper")
    expected = hashlib.sha256(audio.read_bytes()).hexdigest()
    with open_archive(settings) as archive, http_client(settings) as client:
        _sqlite_hook(archive.catalogue, hooks)
        report = ingest(settings, [feed_url], catalogue=archive.catalogue, index=archive.index,
                        client=client, progress=_Progress(), themes=themes_step(
                            archive.catalogue),
                        transcriber_factory=fake_whisper(root, expected,
                                                         root.parent / "truncated.log"))
    say("EVENTS", json.dumps(dict(hooks.events)))
    say("REPORT", json.dumps({"counts": report.counts(), "failed": report.failed,
                              "errors": [e.error for e in report.episodes if e.error]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
