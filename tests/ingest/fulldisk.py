"""A disk that fills up, for the ingest tests.

:func:`full_disk_open` stands in for ``open`` in the module under test (monkeypatched as that
module's global ``open``): a file it opens for writing takes a few more bytes and then fails
the way ``write(2)`` does on a full file system, with ``OSError(ENOSPC)``.
"""

from __future__ import annotations

import builtins
import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["FREE_BYTES", "FullFile", "full_disk_open"]

#: How many bytes a file may still take before the disk is full.
FREE_BYTES = 4096


class FullFile:
    """A file that takes ``free_bytes`` more bytes, then fails like a full disk."""

    def __init__(self, inner: Any, free_bytes: int) -> None:
        self._inner, self._free = inner, free_bytes

    def write(self, data: bytes) -> int:
        if len(data) > self._free:
            self._inner.write(data[:self._free])
            self._free = 0
            raise OSError(errno.ENOSPC, "No space left on device")
        self._free -= len(data)
        return int(self._inner.write(data))

    def __enter__(self) -> FullFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def full_disk_open(free_bytes: int = FREE_BYTES, *,
                   only: Callable[[Path], bool] = lambda path: True) -> Callable[..., Any]:
    """An ``open`` under which files opened for writing (and chosen by ``only``) hit a full disk."""
    real_open = builtins.open

    def fake_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(file, mode, *args, **kwargs)
        if any(m in mode for m in "wax+") and only(Path(file)):
            return FullFile(handle, free_bytes)
        return handle

    return fake_open
