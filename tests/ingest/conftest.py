"""Fixtures for the ingest tests."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/httpserver.py is shared by several test folders. `python -m pytest` (scripts/test) puts
# the repository root on sys.path; a bare `pytest` does not, so make sure it is there.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.httpserver import http_server  # noqa: E402

__all__ = ["http_server"]
