"""Fixtures for the ingest tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

# tests/httpserver.py is shared by several test folders. `python -m pytest` (scripts/test) puts
# the repository root on sys.path; a bare `pytest` does not, so make sure it is there.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from poddarkiv.archive.store import DataDir  # noqa: E402
from poddarkiv.ingest.fetch import FetchPolicy, make_client  # noqa: E402
from tests.httpserver import http_server  # noqa: E402

__all__ = ["client", "data", "http_server"]


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """A guarded client that may reach the loopback server (tests with their own fetch policy
    define their own ``client``)."""
    with make_client(FetchPolicy(allow_private=True)) as c:
        yield c


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """An empty data directory."""
    return DataDir(tmp_path / "data").ensure()
