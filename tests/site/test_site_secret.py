"""``serve --workers N``: every site process keys admin sessions and CSRF tokens alike.

uvicorn's processes each build the app with :func:`poddarkiv.runner.site_app`; the parent
makes one key and hands it over in the environment, so a cookie and a form made by one process
pass in another.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import uvicorn
from starlette.testclient import TestClient

from poddarkiv import runner
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from tests.site.conftest import ADMIN_TOKEN
from tests.site.html_probe import parse


def _processes(monkeypatch: pytest.MonkeyPatch, catalogue: Catalogue) -> tuple[Any, Any]:
    """Two site apps built as ``serve --workers 2`` builds them (uvicorn itself is faked)."""
    started: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    monkeypatch.setattr(runner, "run_ingest", lambda *args, **kwargs: None)  # no real fetches
    # The parent writes the environment its processes inherit: a copy, so the test leaks none.
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()
                                        if not k.startswith("PODDARKIV_")})
    settings = Settings(data_dir=catalogue.data.root, admin_token=ADMIN_TOKEN, site_workers=2)
    runner._serve_processes(settings)
    assert started and started[0]["workers"] == 2
    assert len(bytes.fromhex(os.environ[runner.SITE_SECRET_ENV])) >= 32
    return runner.site_app(), runner.site_app()


def test_worker_processes_share_the_admin_secret(monkeypatch: pytest.MonkeyPatch,
                                                 catalogue: Catalogue) -> None:
    first_app, second_app = _processes(monkeypatch, catalogue)
    with TestClient(first_app) as first, TestClient(second_app) as second:
        signed_in = first.post("/admin/logga-in", data={"token": ADMIN_TOKEN},
                               follow_redirects=False)
        assert signed_in.status_code == 303
        csrf = parse(first.get("/admin").text).find("input", name="csrf").attrs["value"]
        second.cookies.update(first.cookies)
        # The other process knows the session and accepts the first one's CSRF token.
        assert second.get("/admin.json").status_code == 200
        posted = second.post("/admin/ingest", data={"csrf": csrf}, follow_redirects=False)
        assert posted.status_code == 303, posted.text


def test_a_site_without_a_shared_secret_makes_its_own(monkeypatch: pytest.MonkeyPatch,
                                                      catalogue: Catalogue) -> None:
    monkeypatch.setenv("PODDARKIV_DATA_DIR", str(catalogue.data.root))
    monkeypatch.setenv("PODDARKIV_ADMIN_TOKEN", ADMIN_TOKEN)
    monkeypatch.setenv(runner.SITE_SECRET_ENV, "not hex")
    with TestClient(runner.site_app()) as first, TestClient(runner.site_app()) as second:
        first.post("/admin/logga-in", data={"token": ADMIN_TOKEN}, follow_redirects=False)
        second.cookies.update(first.cookies)
        assert first.get("/admin.json").status_code == 200
        assert second.get("/admin.json").status_code == 401
