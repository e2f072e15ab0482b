"""Test corpora that ship inside other projects' source distributions on PyPI.

The feedparser and podcastparser sdists carry their authors' test feeds; the corpus tests
download each sdist once (``pip download``, the package index being the one network this
project may reach) and cache it under ``PODDARKIV_TEST_CACHE`` or the temporary directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

__all__ = ["DOWNLOAD_TIMEOUT_S", "sdist"]

DOWNLOAD_TIMEOUT_S = 300


def sdist(requirement: str, tarball: str, cache_name: str) -> Path:
    """The sdist of ``requirement`` (file name ``tarball``), downloaded once into the cache.

    Skips the test, saying why, when the package index cannot be reached.
    """
    root = os.environ.get("PODDARKIV_TEST_CACHE") or tempfile.gettempdir()
    folder = Path(root) / cache_name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / tarball
    if path.exists():
        return path
    command = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
               "--quiet", requirement, "-d", str(folder)]
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=DOWNLOAD_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"cannot download {requirement} (no package index?): {exc}")
    if done.returncode != 0 or not path.exists():
        pytest.skip(f"cannot download {requirement} (no package index?): "
                    + (done.stderr.strip().splitlines() or ["pip failed"])[-1])
    return path
