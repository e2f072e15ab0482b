"""Fixtures for the sample podcast's tests: a running sample server and a client for it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from poddarkiv.sample.server import SampleServer, serve_sample


@pytest.fixture(scope="module")
def sample_server() -> Iterator[SampleServer]:
    """The bundled sample served on a free loopback port for the module's tests."""
    with serve_sample() as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    """An httpx client with a short timeout (the server is local: anything slow is a bug)."""
    with httpx.Client(timeout=5.0) as http:
        yield http
