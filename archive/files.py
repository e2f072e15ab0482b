"""Files written whole or not at all, and their hashes: the one owner of both jobs.

Every file poddarkiv keeps under a final name (transcripts, the index's generation pointer,
model weights and their markers, hash memos) is written through :func:`atomic_output`: a
temporary file in the same folder, flushed and fsynced, then renamed over the final name. A
crash or a full disk leaves the old file or the whole new one, never half of one, and no
temporary file behind (archive checks look for ``*.tmp`` debris).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "HASH_CHUNK_BYTES",
    "atomic_copy",
    "atomic_output",
    "atomic_write_bytes",
    "atomic_write_text",
    "sha256_file",
]

#: Files are hashed and copied a mebibyte at a time (audio and model weights are large).
HASH_CHUNK_BYTES = 1024 * 1024


@contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """An open binary file that becomes ``path`` when the block ends without an exception.

    The data is flushed and fsynced before the rename (POSIX ``rename(2)`` is atomic, but
    without the fsync a crash soon after may leave the new name pointing at an empty file).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name no other process or thread picks ("x": create, never truncate another's file),
    # opened with the builtin open (the full-disk tests stand in for it).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    with atomic_output(path) as fh:
        fh.write(data)


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_copy(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` atomically."""
    with open(src, "rb") as source, atomic_output(dst) as target:
        shutil.copyfileobj(source, target, HASH_CHUNK_BYTES)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's contents (hex), read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
