"""The admin page: off without a token, sign-in by POST, CSRF on every change."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.site.app import create_app
from tests.site.conftest import ADMIN_TOKEN
from tests.site.html_probe import parse


def _sign_in(client: TestClient) -> str:
    """Sign in and return the CSRF token from the admin page."""
    response = client.post("/admin/logga-in", data={"token": ADMIN_TOKEN},
                           follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert ADMIN_TOKEN not in response.headers["set-cookie"]
    page = parse(client.get("/admin").text)
    return page.find("input", type="hidden", name="csrf").attrs["value"]


@pytest.fixture()
def no_token_client(catalogue: Catalogue) -> Iterator[TestClient]:
    """The site without an admin token."""
    app = create_app(Settings(data_dir=catalogue.data.root), catalogue=catalogue, index=None,
                     ingest_runner=lambda urls: None)
    with TestClient(app) as client:
        yield client


def test_admin_is_off_without_a_token(no_token_client: TestClient) -> None:
    assert no_token_client.get("/admin").status_code == 404
    assert no_token_client.post("/admin/ingest", data={"csrf": "x"}).status_code == 404


def test_admin_asks_for_the_token_and_refuses_a_wrong_one(client: TestClient) -> None:
    assert parse(client.get("/admin").text).find("input", id="token").attrs["type"] == "password"
    wrong = client.post("/admin/logga-in", data={"token": "fel"}, follow_redirects=False)
    assert wrong.headers["location"] == "/admin?fel=1"
    assert client.get("/admin.json").status_code == 401


def test_signed_in_admin_sees_feed_status_and_last_report(client: TestClient,
                                                           catalogue: Catalogue) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    catalogue.save_report(now, now, {"feeds": 1, "transcribed": 3})
    _sign_in(client)
    page = parse(client.get("/admin").text)
    assert "Konkurrenten" in page.find("table", cls="status-table").text
    assert '"transcribed": 3' in page.find("pre", cls="report").text
    data = client.get("/admin.json").json()
    assert data["last_report"]["transcribed"] == 3
    assert data["feeds"][0]["episode_count"] == 5


def test_bearer_token_reads_the_json_twin(client: TestClient) -> None:
    data = client.get("/admin.json", headers={"authorization": f"Bearer {ADMIN_TOKEN}"}).json()
    assert data["ingest_available"] is True


def test_ingest_needs_the_csrf_token(client: TestClient,
                                     ingest_calls: list[tuple[str, ...]]) -> None:
    csrf = _sign_in(client)
    refused = client.post("/admin/ingest", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    started = client.post("/admin/ingest", data={"csrf": csrf}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"] == "/admin?startad=1"
    _wait_for_ingest(client)
    assert ingest_calls == [()]


def test_ingest_of_one_feed_passes_its_url(client: TestClient,
                                           ingest_calls: list[tuple[str, ...]]) -> None:
    csrf = _sign_in(client)
    client.post("/admin/ingest", data={"csrf": csrf, "feed": "konkurrenten"})
    _wait_for_ingest(client)
    assert ingest_calls == [("https://example.org/konkurrenten.xml",)]


def test_cross_site_posts_are_refused(client: TestClient) -> None:
    csrf = _sign_in(client)
    response = client.post("/admin/ingest", data={"csrf": csrf},
                           headers={"origin": "https://evil.example"})
    assert response.status_code == 403


def _wait_for_ingest(client: TestClient) -> None:
    status = client.get("/admin.json").json()["ingest"]
    for _ in range(200):
        if not status["running"] and status["finished"]:
            return
        time.sleep(0.01)
        status = client.get("/admin.json").json()["ingest"]
    raise AssertionError(f"ingest did not finish: {status}")


def test_a_failing_runner_is_reported_not_swallowed(catalogue: Catalogue) -> None:
    def boom(urls: object) -> None:
        raise RuntimeError("nätet är nere")

    app = create_app(Settings(data_dir=catalogue.data.root, admin_token=ADMIN_TOKEN),
                     catalogue=catalogue, index=None, ingest_runner=boom)
    with TestClient(app) as client:
        csrf = _sign_in(client)
        client.post("/admin/ingest", data={"csrf": csrf})
        _wait_for_ingest(client)
        assert "nätet är nere" in client.get("/admin.json").json()["ingest"]["error"]


def test_admin_shows_times_as_people_write_them(client: TestClient,
                                                catalogue: Catalogue) -> None:
    started = datetime(2025, 6, 1, 14, 5, tzinfo=UTC)
    catalogue.save_report(started, started, {"transcribed": 3, "errors": ["a", "b"]})
    _sign_in(client)
    page = parse(client.get("/admin").text)
    fields = page.find("dl", cls="report-fields").text
    assert "1 juni 2025 kl. 14:05 UTC" in fields and "2 poster" in fields
    assert "T14:05" not in fields  # no raw ISO timestamps


def test_wrong_keys_are_throttled(client: TestClient) -> None:
    for _ in range(5):
        wrong = client.post("/admin/logga-in", data={"token": "fel"}, follow_redirects=False)
        assert wrong.status_code == 303
    locked = client.post("/admin/logga-in", data={"token": "fel"}, follow_redirects=False)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    # The right key waits too, so a lockout cannot be used to test guesses.
    right = client.post("/admin/logga-in", data={"token": ADMIN_TOKEN}, follow_redirects=False)
    assert right.status_code == 429


def test_the_throttle_forgets_after_its_window() -> None:
    from poddarkiv.site.security import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(max_failures=2, window_s=60, clock=lambda: now[0])
    throttle.failed("a")
    throttle.failed("a")
    assert throttle.retry_after("a") == 61 and throttle.retry_after("b") == 0
    now[0] = 61
    assert throttle.retry_after("a") == 0
    throttle.failed("a")
    throttle.succeeded("a")
    assert throttle.retry_after("a") == 0
