"""What a person meets on every page: compression, icon, caching headers, previews, languages,
the accessibility statement, the search form's filters and result cards."""

from __future__ import annotations

import gzip

import pytest
from starlette.testclient import TestClient

from poddarkiv.sample import SAMPLE_EPISODES
from tests.site.html_probe import parse

FIRST = SAMPLE_EPISODES[0].slug


def test_pages_are_compressed_audio_is_not(client: TestClient) -> None:
    page = client.get(f"/avsnitt/{FIRST}", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    raw = client.get("/static/site.css", headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    audio = client.get(f"/avsnitt/{FIRST}/ljud", headers={"accept-encoding": "gzip",
                                                         "range": "bytes=0-99"})
    assert audio.status_code == 206 and "content-encoding" not in audio.headers
    assert len(gzip.compress(page.content)) < len(page.content)


def test_static_files_and_audio_do_not_vary_by_language(client: TestClient) -> None:
    assert "vary" not in client.get(f"/avsnitt/{FIRST}/ljud").headers
    css = client.get("/static/site.css").headers.get("vary", "")
    assert "Accept-Language" not in css and "Cookie" not in css
    assert "Accept-Language" in client.get("/om").headers["vary"]


def test_there_is_a_favicon(client: TestClient) -> None:
    html = parse(client.get("/").text)
    icon = html.find("link", rel="icon").attrs["href"]
    assert client.get(icon).headers["content-type"].startswith("image/svg+xml")
    old = client.get("/favicon.ico", follow_redirects=False)
    assert old.status_code == 301 and old.headers["location"] == icon


@pytest.mark.parametrize("path", ["/", "/om", f"/avsnitt/{FIRST}", "/sok?q=kommun"])
def test_every_page_has_canonical_hreflang_and_open_graph(client: TestClient,
                                                          path: str) -> None:
    html = parse(client.get(path, params={"lang": "en"}).text)
    canonical = html.find("link", rel="canonical").attrs["href"]
    assert canonical.startswith("http://testserver/") and "lang=" not in canonical
    langs = {a.attrs["hreflang"] for a in html.find_all("link", rel="alternate")
             if "hreflang" in a.attrs}
    assert langs == {"sv", "en", "x-default"}
    og = {m.attrs["property"]: m.attrs["content"] for m in html.find_all("meta")
          if "property" in m.attrs}
    assert og["og:locale"] == "en_GB" and og["og:title"] and og["og:description"]


def test_english_pages_mark_swedish_content(client: TestClient) -> None:
    home = parse(client.get("/", params={"lang": "en"}).text)
    assert home.find("html").attrs["lang"] == "en"
    titles = home.find("ul", cls="episode-list").find_all("a")
    assert titles and all(a.attrs.get("lang") == "sv" for a in titles)
    search = parse(client.get("/sok", params={"q": "kommun", "lang": "en"}).text)
    hit = search.find("li", cls="hit")
    assert hit.find("h3").find("a").attrs["lang"] == "sv"
    assert all(s.attrs["lang"] == "sv" for s in hit.find_all("span", cls="snippet"))
    episode = parse(client.get(f"/avsnitt/{FIRST}", params={"lang": "en"}).text)
    assert episode.find("h1").attrs["lang"] == "sv"
    assert episode.find("ol", id="transcript").attrs["lang"] == "sv"


def test_search_filters_have_their_own_button(client: TestClient) -> None:
    html = parse(client.get("/sok", params={"q": "kommun"}).text)
    fieldset = html.find("fieldset", cls="filters")
    assert fieldset.find("button", type="submit").text == "Använd avgränsningen"


def test_result_cards_say_length_count_and_where(client: TestClient) -> None:
    data = client.get("/sok.json", params={"q": "kommun"}).json()
    hit = data["hits"][0]
    assert hit["duration_s"] == 31.0 and hit["passage_count"] >= len(hit["passages"]) >= 1
    passage = hit["passages"][0]
    assert 0 <= passage["position"] <= 100 and passage["segment"] >= 0
    card = parse(client.get("/sok", params={"q": "kommun"}).text).find("li", cls="hit")
    assert "0:31" in card.find("p", cls="meta").text
    timeline = card.find("svg", cls="timeline")
    assert timeline.attrs["role"] == "img" and timeline.find_all("rect", cls="timeline-mark")


def test_accessibility_statement_has_what_digg_asks_for(client: TestClient) -> None:
    html = parse(client.get("/om").text)
    statement = html.find("main").text
    assert "delvis förenlig" in statement  # compliance status, not a blanket AA claim
    assert "PODDARKIV_CONTACT" in statement  # no contact configured: said so, not hidden
    digg = [a for a in html.find_all("a") if "digg.se" in a.attrs.get("href", "")]
    assert digg and "anmal-bristande-tillganglighet" in digg[0].attrs["href"]
    assert html.find("h3", id="metod") and "självskattning" in statement


def test_the_statement_links_the_configured_contact(catalogue: object) -> None:
    from poddarkiv.archive.store import Catalogue
    from poddarkiv.config import Settings
    from poddarkiv.site.app import create_app

    assert isinstance(catalogue, Catalogue)
    app = create_app(Settings(data_dir=catalogue.data.root, contact="tillganglighet@example.org"),
                     catalogue=catalogue, index=None)
    with TestClient(app) as client:
        html = parse(client.get("/om").text)
    links = [a.attrs["href"] for a in html.find_all("a")]
    assert "mailto:tillganglighet@example.org" in links


def test_help_documents_the_keyboard_shortcuts(client: TestClient) -> None:
    html = parse(client.get("/hjalp").text)
    keys = [k.text for k in html.find("table", cls="shortcuts").find_all("kbd")]
    assert keys == ["k", "j", "l", "<", ">"]


def test_a_description_passage_links_to_the_episode_not_to_second_zero() -> None:
    from poddarkiv.archive.search import EpisodeHit, PassageHit, Snippet
    from poddarkiv.site.serialize import hit_json

    spoken = PassageHit(13.797, 18.0, "om upphandling", Snippet("om upphandling", ((3, 14),)),
                        1.0, index=4)
    notes = PassageHit(0.0, 0.0, "IOP och upphandling", Snippet("IOP"), 0.5, kind="description")
    hit = EpisodeHit("ep", "feed", "Titel", "Podd", None, 1.0, (spoken, notes), True)
    data = hit_json(hit, duration_s=100.0)
    first, second = data["passages"]
    assert first["url"] == "/avsnitt/ep?t=13.797#t-13.797" and first["segment"] == 4
    assert first["position"] == 13.8
    assert second["url"] == "/avsnitt/ep" and second["position"] is None
    assert second["kind"] == "description"
