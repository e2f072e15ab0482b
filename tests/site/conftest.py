"""Fixtures for the site's tests: a sample archive, a search index at the seam, a client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.site.app import create_app
from tests.site.site_archive import build_archive

ADMIN_TOKEN = "hemligt-test-token"


@pytest.fixture()
def catalogue(tmp_path: Path) -> Iterator[Catalogue]:
    """The sample podcast (four episodes with transcripts and audio, one hostile episode)."""
    cat = build_archive(tmp_path / "data")
    yield cat
    cat.close()


@pytest.fixture()
def index(catalogue: Catalogue) -> Iterator[ArchiveIndex]:
    """A real Whoosh index of the sample archive."""
    idx = ArchiveIndex.open(catalogue.data.index)
    idx.rebuild(catalogue)
    yield idx
    idx.close()


@pytest.fixture()
def ingest_calls() -> list[tuple[str, ...]]:
    """Feed URL tuples the fake ingest runner was called with."""
    return []


@pytest.fixture()
def client(catalogue: Catalogue, index: ArchiveIndex,
           ingest_calls: list[tuple[str, ...]]) -> Iterator[TestClient]:
    """A TestClient on the site with an admin token and a recording ingest runner."""
    settings = Settings(data_dir=catalogue.data.root, admin_token=ADMIN_TOKEN)
    app = create_app(settings, catalogue=catalogue, index=index,
                     ingest_runner=lambda urls: ingest_calls.append(tuple(urls)))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client
