"""The themes, reference and person pages: their .json twins, a few selectors, and the path from
the home page to the moment in the audio where a theme is discussed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.knowledge import apply_themes
from poddarkiv.archive.themes import load_taxonomy
from poddarkiv.config import Settings
from poddarkiv.site import urls
from poddarkiv.site.app import create_app
from poddarkiv.site.themes_views import openapi_paths, routes
from tests.site.html_probe import parse
from tests.site.site_archive import build_archive


class NoSearch:
    """An index that knows nothing: these pages read the catalogue only."""

    def search(self, request: object) -> object:
        raise AssertionError("the themes pages do not search")

    def related(self, episode_id: str, *, limit: int = 5) -> list[str]:
        return []

    def version(self) -> str:
        return "empty"


@pytest.fixture()
def themed(tmp_path: Path) -> Iterator[TestClient]:
    """The site over the sample archive with themes applied, and an index that knows nothing."""
    catalogue = build_archive(tmp_path / "data")
    apply_themes(catalogue, None, load_taxonomy())
    app = create_app(Settings(data_dir=catalogue.data.root), catalogue=catalogue,
                     index=NoSearch())  # type: ignore[arg-type]
    with TestClient(app, base_url="http://testserver") as client:
        yield client
    catalogue.close()


def _links(html: str, prefix: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(rf'href="({re.escape(prefix)}[^"]*)"',
                                                        html)]


def test_themes_overview_twin(themed: TestClient) -> None:
    body = themed.get("/teman.json").json()
    slugs = [t["slug"] for t in body["themes"]]
    assert slugs[:2] == ["iop", "upphandling"] and len(slugs) == 10
    iop = body["themes"][0]
    assert iop["url"] == "/tema/iop" and iop["episode_count"] == 4
    assert iop["name_en"] and iop["description"]


def test_theme_twin_ranks_episodes_and_links_passages_to_times(themed: TestClient) -> None:
    body = themed.get("/tema/rattsfall.json").json()
    assert body["theme"]["name"] == "Rättsfall och rättsosäkerhet"
    assert [e["episode_id"] for e in body["episodes"]] == ["rattsfallet-i-alingsas"]
    passage = body["passages"][1]
    start = urls.seconds(passage["start_s"])  # the passage's own start, to the millisecond
    assert passage["url"] == f"/avsnitt/rattsfallet-i-alingsas?t={start}#t-{start}"
    assert body["passage_total"] == len(body["passages"]) and body["pages"] == 1


def test_theme_page_html(themed: TestClient) -> None:
    response = themed.get("/tema/statsstod")
    assert response.status_code == 200
    assert "<h1>Statsstöd och SGEI</h1>" in response.text
    assert 'href="/tema/statsstod.json"' in response.text
    assert 'aria-current="page"' in response.text  # "Teman" is the current menu item
    assert _links(response.text, "/avsnitt/statsstod-och-sgei?t=")


def test_theme_page_in_english(themed: TestClient) -> None:
    response = themed.get("/tema/statsstod?lang=en")
    assert "<h1>State aid and SGEI</h1>" in response.text


def test_from_home_to_every_theme_episode_and_moment(themed: TestClient) -> None:
    """The issue's "done when": home → theme → episode, and → the moment in the audio."""
    home = themed.get("/").text
    themes_page = themed.get(_links(home, "/teman")[0]).text
    theme_links = sorted(set(_links(themes_page, "/tema/")))
    assert len(theme_links) == 10
    reached_episodes, moments = set(), []
    for link in theme_links:
        body = themed.get(link + ".json").json()
        reached_episodes |= {e["episode_id"] for e in body["episodes"]}
        moments += [p["url"] for p in body["passages"]]
    assert reached_episodes == {"iop-och-upphandling", "statsstod-och-sgei",
                                "sma-foreningar-som-partner", "rattsfallet-i-alingsas"}
    assert themed.get(moments[0].split("?")[0]).status_code == 200
    assert all("?t=" in m for m in moments)


def test_home_shows_the_overview(themed: TestClient) -> None:
    home = themed.get("/").text
    assert 'class="theme-overview"' in home
    assert '<a href="/tema/iop">' in home
    assert '<a href="/tema/lov">' not in home  # no episode has it


def test_reference_twin_and_official_text(themed: TestClient) -> None:
    listing = themed.get("/referenser.json").json()
    keys = {(r["kind"], r["key"]) for r in listing["references"]}
    assert ("lag", "2016:1145") in keys
    body = themed.get("/referens/lag/2016:1145.json").json()
    assert body["reference"]["url"] == "https://lagen.nu/2016:1145"
    assert body["mentions"][0]["url"].startswith("/avsnitt/iop-och-upphandling?t=")
    html = themed.get("/referens/lag/2016%3A1145").text
    assert 'href="https://lagen.nu/2016:1145"' in html


def test_people_pages(themed: TestClient) -> None:
    assert themed.get("/personer.json").json() == {"people": []}
    assert themed.get("/personer").status_code == 200


@pytest.mark.parametrize("path", [
    "/tema/finns-inte", "/tema/finns-inte.json", "/referens/okand/x", "/referens/lag/1999:1",
    "/referens/lag/" + "x" * 300, "/person/ingen", "/person/ingen.json",
])
def test_unknown_pages_are_404(themed: TestClient, path: str) -> None:
    assert themed.get(path).status_code == 404


@pytest.mark.parametrize("page", ["0", "-5", "abc", "99999999999999", "9999"])
def test_odd_page_numbers_never_fail(themed: TestClient, page: str) -> None:
    assert themed.get(f"/tema/iop.json?page={page}").status_code == 200


def test_every_route_has_a_json_twin_described_in_openapi() -> None:
    paths = [r.path for r in routes]
    pages = [p for p in paths if not p.endswith(".json")]
    assert all(f"{p}.json" in paths for p in pages)
    assert all(f"{p}.json" in openapi_paths for p in pages)


def test_theme_counts_agree_and_no_internal_score_is_shown(themed: TestClient) -> None:
    """Issue 15 #11: "0 avsnitt · 1 stycke" and "poäng 4.0" are gone."""
    for theme in themed.get("/teman.json").json()["themes"]:
        if theme["passage_count"]:
            assert theme["episode_count"] >= 1, theme["slug"]
        page = themed.get(f"/tema/{theme['slug']}.json").json()
        with_passages = {p["episode_id"] for p in page["passages"]}
        assert with_passages <= {e["episode_id"] for e in page["episodes"]}, theme["slug"]
    html = themed.get("/tema/iop").text
    assert "poäng" not in html and "score" not in themed.get("/tema/iop?lang=en").text


def test_passage_lists_flow_as_text_and_mark_swedish_content(themed: TestClient) -> None:
    page = parse(themed.get("/tema/rattsfall", params={"lang": "en"}).text)
    quote = page.find("ul", cls="passages").find("blockquote")
    assert quote.attrs["lang"] == "sv"
    css = themed.get("/static/site.css").text
    assert ".passages li { margin" in css and ".hits .passages li" in css
