"""A real site on 127.0.0.1 for the browser tests, the screenshots and ``bench/site.py``.

:func:`sample_site` builds the sample archive (``tests/site/site_archive.py``) with a real
Whoosh index and the themes applied; :func:`serve` runs any ASGI app under uvicorn in a thread
and yields its base URL.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.knowledge import apply_themes
from poddarkiv.archive.store import Catalogue
from poddarkiv.archive.themes import load_taxonomy
from poddarkiv.config import Settings
from poddarkiv.site.app import create_app
from tests.site.site_archive import build_archive

__all__ = ["ADMIN_TOKEN", "SampleSite", "sample_site", "serve"]

ADMIN_TOKEN = "e2e-admin-token"
SERVER_START_TIMEOUT_S = 20.0


@dataclass
class SampleSite:
    """The app over the sample archive, and what it was built from."""

    app: Starlette
    catalogue: Catalogue
    index: ArchiveIndex

    def close(self) -> None:
        self.index.close()
        self.catalogue.close()


def sample_site(root: Path, *, ingest_calls: list[tuple[str, ...]] | None = None) -> SampleSite:
    """The site over the sample archive in ``root``, searchable and themed."""
    catalogue = build_archive(root, with_people=True)
    index = ArchiveIndex.open(catalogue.data.index)
    index.rebuild(catalogue)
    apply_themes(catalogue, index, load_taxonomy())
    calls = ingest_calls if ingest_calls is not None else []
    app = create_app(Settings(data_dir=root, admin_token=ADMIN_TOKEN), catalogue=catalogue,
                     index=index, ingest_runner=lambda urls: calls.append(tuple(urls)))
    return SampleSite(app, catalogue, index)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run ``app`` on a free loopback port until the block ends; yield ``http://127.0.0.1:N``."""
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                            lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="poddarkiv-e2e-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(SERVER_START_TIMEOUT_S)
