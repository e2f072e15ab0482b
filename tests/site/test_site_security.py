"""The site's protective layer: headers, caching, caps, and parameters that never cause a 500."""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from poddarkiv.site.security import MAX_BODY_BYTES


def test_every_response_has_csp_and_security_headers(client: TestClient) -> None:
    for path in ("/", "/sok.json?q=iop", "/finns-inte", "/static/site.css"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["x-frame-options"] == "DENY"


def test_static_files_are_cached_for_long_under_a_versioned_url(client: TestClient) -> None:
    home = client.get("/").text
    css = home.split('rel="stylesheet" href="')[1].split('"')[0]
    assert css.startswith("/static/site.css?v=")
    headers = client.get(css).headers
    assert "max-age=31536000" in headers["cache-control"]
    assert "immutable" in headers["cache-control"]


def test_pages_vary_by_language(client: TestClient) -> None:
    vary = client.get("/").headers["vary"].lower()
    assert "accept-language" in vary and "cookie" in vary


def test_oversized_request_bodies_are_refused(client: TestClient) -> None:
    big = "token=" + "x" * (MAX_BODY_BYTES + 1)
    response = client.post("/admin/logga-in", content=big,
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_oversized_chunked_bodies_are_refused_while_reading(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the reader must count
        for _ in range(MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024

    response = client.post("/admin/logga-in", content=chunks(),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413


def test_wrong_method_is_not_a_server_error(client: TestClient) -> None:
    assert client.post("/sok").status_code == 405


_PARAM = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=_PARAM, page=_PARAM, sort=_PARAM, date=_PARAM, t=_PARAM)
def test_query_parameters_never_cause_a_server_error(client: TestClient, q: str, page: str,
                                                     sort: str, date: str, t: str) -> None:
    params = {"q": q, "page": page, "sort": sort, "from": date, "per_page": page, "theme": q}
    assert client.get("/sok.json", params=params).status_code < 500
    assert client.get("/avsnitt/iop-och-upphandling.json", params={"t": t}).status_code < 500
    assert client.get("/poddar/konkurrenten.json", params={"page": page}).status_code < 500
    assert client.get("/sok", params={"q": q, "lang": sort}).status_code < 500
