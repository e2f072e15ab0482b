"""A failed write of the index leaves nothing behind: no lock, no half-written files.

:class:`~poddarkiv.archive.index.ArchiveIndex` writes through one Whoosh writer at a time and
calls :func:`abandon` when anything goes wrong between opening the writer and its commit.
"""

from __future__ import annotations

import shutil
from contextlib import suppress
from pathlib import Path

from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

__all__ = ["abandon"]


def abandon(ix: FileIndex, writer: SegmentWriter) -> None:
    """Cancel a failed write so that nothing of it stays: no lock, no half-written files.

    ``cancel`` itself can fail (on a full disk it flushes the segment), so the write's files are
    removed here too (its segment, its table of contents, its temporary folder), unless the
    newest table of contents names the segment: then the commit got that far and the segment is
    live. The lock is released last, so that no other writer's files are taken for ours.
    """
    with suppress(Exception):  # what cancel() leaves is dealt with below
        writer.cancel()
    try:
        _remove_uncommitted(ix, writer)
    finally:
        with suppress(Exception):  # already released by cancel()
            writer.writelock.release()


def _remove_uncommitted(ix: FileIndex, writer: SegmentWriter) -> None:
    try:
        toc = ix._read_toc()
        segment = writer.newsegment.segment_id()
    except Exception:
        return  # cannot tell whether the segment is live: leave its files
    if toc.generation >= writer.generation or segment in {s.segment_id() for s in toc.segments}:
        return
    ours = (segment, f"_{ix.indexname}_{writer.generation}.toc", f"{ix.indexname}.tmp")
    for path in Path(ix.storage.folder).iterdir():
        if path.name.startswith(ours):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
