"""Fixtures for the reliability tests: the loopback HTTP server, and the figures they measure.

Tests record what they measured with the ``figures`` fixture (``figures["name"] = value``);
the values are printed at the end of the run under "reliability figures", which is where the
numbers in ``docs/reliability.md`` come from.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

# `python -m pytest` (scripts/test) puts the repository root on sys.path; a bare `pytest` does
# not, and these tests import shared helpers as `tests.…`.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tests.httpserver import http_server  # noqa: E402

__all__ = ["figures", "http_server"]

_FIGURES: dict[str, Any] = {}


@pytest.fixture()
def figures() -> dict[str, Any]:
    """Where a test records a measured figure (printed at the end of the run)."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for name, value in sorted(_FIGURES.items()):
        terminalreporter.write_line(f"{name}: {value}")
