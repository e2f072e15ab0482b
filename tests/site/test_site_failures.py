"""When something behind the site fails: search unavailable, a bug, a broken transcript file."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.search import SearchPage, SearchRequest
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import IndexError_
from poddarkiv.site import app as site_app
from poddarkiv.site.app import create_app
from tests.site.html_probe import parse


class BrokenIndex:
    """An index whose every search fails the way ``raises`` says."""

    def __init__(self, raises: Exception) -> None:
        self.raises = raises

    def search(self, request: SearchRequest) -> SearchPage:
        raise self.raises

    def related(self, episode_id: str, *, limit: int = 5) -> list[str]:
        raise self.raises

    def version(self) -> str:
        raise self.raises


def _client(catalogue: Catalogue, index: object) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=catalogue.data.root), catalogue=catalogue,
                     index=index)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture()
def no_index(catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The site when the index in the data directory cannot be opened."""
    monkeypatch.setattr(site_app, "_open_index", lambda catalogue, stop: None)
    yield from _client(catalogue, None)


def test_without_an_index_search_says_so_and_the_rest_works(no_index: TestClient) -> None:
    page = no_index.get("/sok", params={"q": "iop"})
    assert page.status_code == 503
    assert "inte tillgänglig" in parse(page.text).find("div", cls="results-status").text
    assert no_index.get("/sok.json", params={"q": "iop"}).json()["error"] == "unavailable"
    assert no_index.get("/avsnitt/iop-och-upphandling").status_code == 200
    assert no_index.get("/").status_code == 200


def test_a_failing_index_is_a_503_and_related_episodes_are_left_out(catalogue: Catalogue) -> None:
    for client in _client(catalogue, BrokenIndex(IndexError_("trasigt"))):
        assert client.get("/sok.json", params={"q": "iop"}).status_code == 503
        episode = client.get("/avsnitt/iop-och-upphandling.json")
        assert episode.status_code == 200


def test_a_bug_gives_the_friendly_error_page_without_a_traceback(catalogue: Catalogue) -> None:
    for client in _client(catalogue, BrokenIndex(RuntimeError("hemlig detalj"))):
        page = client.get("/sok", params={"q": "iop"})
        assert page.status_code == 500
        assert parse(page.text).find("h1").text == "Något gick fel"
        assert "hemlig detalj" not in page.text and "Traceback" not in page.text
        assert client.get("/sok.json", params={"q": "iop"}).json()["error"] == 500


def test_an_unreadable_transcript_file_is_reported_on_the_page(catalogue: Catalogue) -> None:
    info = catalogue.transcript_info("iop-och-upphandling")
    assert info is not None
    (catalogue.data.root / info.path).write_text("{inte json", encoding="utf-8")
    for client in _client(catalogue, None):
        data = client.get("/avsnitt/iop-och-upphandling.json").json()
        assert data["transcript"] is None and data["transcript_problem"]
        page = parse(client.get("/avsnitt/iop-och-upphandling").text)
        assert page.find("p", cls="notice").text == "Transkriptionen kunde inte läsas."
        assert client.get("/avsnitt/iop-och-upphandling/transkript.vtt").status_code == 404


class CountingIndex:
    """An index whose warm-up fails twice, then counts."""

    def __init__(self) -> None:
        self.calls = 0

    def warm(self) -> int:
        self.calls += 1
        if self.calls == 1:
            raise IndexError_("trasigt")
        if self.calls == 2:
            raise ValueError("I/O operation on closed file")  # Whoosh, a retired searcher
        return 0


def test_the_warm_up_goes_on_after_failures_and_stops_when_told() -> None:
    # The site warms the index at start, then again for new segments, until shutdown.
    index, stop = CountingIndex(), threading.Event()
    worker = threading.Thread(target=site_app._warm, args=(index, stop, 0.001))
    worker.start()
    deadline = time.monotonic() + 10
    while index.calls < 3 and time.monotonic() < deadline:
        time.sleep(0.001)
    stop.set()
    worker.join(timeout=5)
    assert index.calls >= 3 and not worker.is_alive()
