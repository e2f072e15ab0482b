"""Hostile queries and URLs: the site never answers 500, and answers within a second.

The cases are data (``tests/data/hostile/queries.toml``, each with its expectation); then
hypothesis throws arbitrary query strings and parameters at ``/sok`` and ``/sok.json``
(:data:`~tests.reliability.budget.FUZZ_EXAMPLES` examples; more with
``PODDARKIV_FUZZ_EXAMPLES``).
"""

from __future__ import annotations

import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.config import Settings
from poddarkiv.site.app import create_app
from tests.reliability.budget import FUZZ_EXAMPLES
from tests.site.site_archive import build_archive

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile" / "queries.toml"
#: Every answer, hostile or fuzzed, comes within this.
MAX_ANSWER_S = 1.0

_CASES: dict[str, list[dict[str, Any]]] = tomllib.loads(CORPUS.read_text("utf-8"))


def _value(raw: str | list[list[Any]]) -> str:
    """A corpus value: a string, or ``[[text, times], ...]`` pieces joined."""
    if isinstance(raw, str):
        return raw
    return "".join(str(text) * int(times) for text, times in raw)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The site on the sample archive, with a complete index."""
    catalogue = build_archive(tmp_path_factory.mktemp("hostile-q") / "data")
    index = ArchiveIndex.open(catalogue.data.index)
    index.rebuild(catalogue)
    app = create_app(Settings(data_dir=catalogue.data.root), catalogue=catalogue, index=index)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
    index.close()
    catalogue.close()


def _timed_get(client: TestClient, path: str, params: dict[str, str]) -> tuple[Any, float]:
    started = time.perf_counter()
    response = client.get(path, params=params)
    return response, time.perf_counter() - started


def _ask(client: TestClient, params: dict[str, str]) -> dict[str, Any]:
    """Both the page and its twin; asserts the promises every case shares; returns the JSON."""
    page, page_s = _timed_get(client, "/sok", params)
    twin, twin_s = _timed_get(client, "/sok.json", params)
    assert page.status_code != 500 and twin.status_code != 500
    assert page.status_code == twin.status_code
    assert page_s < MAX_ANSWER_S and twin_s < MAX_ANSWER_S, (page_s, twin_s)
    data: dict[str, Any] = twin.json()
    data["_status"] = twin.status_code
    return data


def test_the_corpus_has_every_case_the_issue_names() -> None:
    names = {c["name"] for c in _CASES["query"] + _CASES["page"]}
    assert {"bare-star", "question-marks-star", "nested-brackets-5000", "word-32kb",
            "or-300-terms", "page-zero", "page-negative", "page-letters", "page-exponent",
            "page-5000-digits", "per-page-5000-digits"} <= names
    assert len(_value([["9", 5000]])) == 5000


@pytest.mark.parametrize("case", _CASES["query"], ids=lambda c: c["name"])
def test_hostile_query(client: TestClient, case: dict[str, Any]) -> None:
    data = _ask(client, {"q": _value(case["q"])})
    assert data["_status"] == case.get("status", 200)
    if case.get("hits") == "none":
        assert data["total_episodes"] == 0 and data["hits"] == []
    elif case.get("hits") == "some":
        assert data["total_episodes"] >= 1
    if case.get("message"):
        assert data["message"]


@pytest.mark.parametrize("case", _CASES["page"], ids=lambda c: c["name"])
def test_hostile_parameters(client: TestClient, case: dict[str, Any]) -> None:
    params = {key: _value(value) for key, value in case["params"].items()}
    data = _ask(client, params)
    assert data["_status"] == case.get("status", 200)
    for key in ("page", "per_page"):
        if key in case:
            assert data["query"][key] == case[key]


# -- fuzzing --------------------------------------------------------------------------------

_SYNTAX = st.sampled_from([
    "*", "?", "(", ")", '"', "-", "+", "OR", "AND", "NOT", ":", "[", "]", "{", "}", "~", "^",
    "TO", "\\", "title:", "partnerskap", "upphandling", "iop", "idé", "för*", "x" * 300,
])
_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40)
_QUERY = st.lists(st.one_of(_SYNTAX, _TEXT), max_size=40).map(" ".join)
_NUMBERISH = st.one_of(st.integers().map(str), _TEXT, st.sampled_from(["1e3", "0x10", "9" * 500]))
_PARAMS = st.fixed_dictionaries(
    {"q": _QUERY},
    optional={"page": _NUMBERISH, "per_page": _NUMBERISH, "sort": _TEXT, "from": _TEXT,
              "to": _TEXT, "podcast": _TEXT, "theme": _TEXT, "highlight": _TEXT},
)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(params=_PARAMS)
def test_fuzzed_searches_never_fail_and_answer_within_a_second(
        client: TestClient, figures: dict[str, Any], params: dict[str, str]) -> None:
    started = time.perf_counter()
    data = _ask(client, params)
    assert data["_status"] in (200, 400)
    elapsed = time.perf_counter() - started
    figures["fuzz: requests (page and twin)"] = figures.get(
        "fuzz: requests (page and twin)", 0) + 2
    figures["fuzz: slowest pair of answers (s)"] = round(max(
        elapsed, figures.get("fuzz: slowest pair of answers (s)", 0.0)), 3)
