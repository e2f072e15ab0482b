"""The search page shows how each episode matched, and says the archive's notes in the
reader's language."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.search import Snippet
from poddarkiv.site.serialize import snippet_html
from tests.site.html_probe import parse


def test_words_in_neighbouring_sentences_are_a_near_hit_linked_to_its_moment(
        client: TestClient) -> None:
    (hit,) = client.get("/sok.json", params={"q": "sgei stöd"}).json()["hits"]
    assert hit["tier"] == "near"
    passage = hit["passages"][0]
    assert passage["near"] and passage["kind"] == "transcript"
    assert f"t={passage['start']:g}" in passage["url"]
    page = client.get("/sok", params={"q": "sgei stöd"}).text
    assert "Orden sägs nära varandra" in page


def test_a_description_hit_shows_its_excerpt_without_a_time(client: TestClient) -> None:
    hits = client.get("/sok.json", params={"q": "fint"}).json()["hits"]
    (hit,) = [h for h in hits if h["episode_id"] == "fientlig"]
    assert hit["tier"] == "metadata"
    excerpt = hit["passages"][0]
    assert excerpt["kind"] == "description" and "t=" not in excerpt["url"]
    assert "<mark>" in excerpt["snippet_html"] and "<script" not in excerpt["snippet_html"]
    item = parse(client.get("/sok", params={"q": "fint"}).text).find("ul", cls="passages")
    assert item is not None and "Beskrivning" in item.text


def test_notes_are_codes_in_the_twin_and_sentences_in_the_reader_s_language(
        client: TestClient) -> None:
    results = client.get("/sok.json", params={"q": "upphandling förening"}).json()
    assert results["hits"] == []
    assert [n["code"] for n in results["notes"]] == ["no_episode_has_all_words"]
    assert results["message"].startswith("Inget avsnitt innehåller alla orden")
    english = client.get("/sok", params={"q": "upphandling förening", "lang": "en"}).text
    assert "No episode contains all the words" in english
    short = client.get("/sok.json", params={"q": "pa*", "lang": "en"}).json()
    assert short["notes"] == [{"code": "prefix_too_short", "prefix": "pa", "min_chars": 3},
                              {"code": "no_episode_has_it"}]
    assert "too short" in short["message"]
    unknown = client.get("/sok", params={"q": "zqxwv", "lang": "sv"}).text
    assert "Inget avsnitt innehåller det du sökte" in unknown
    assert "No episode contains what you searched for" in client.get(
        "/sok", params={"q": "zqxwv", "lang": "en"}).text


@pytest.mark.parametrize(("snippet", "html"), [
    (Snippet("om stöd till föreningar", ((3, 7), (13, 23))),
     "om <mark>stöd</mark> till <mark>föreningar</mark>"),
    (Snippet("<b>IOP</b> & <script>", ((3, 6),), cut_before=True, cut_after=True),
     "…&lt;b&gt;<mark>IOP</mark>&lt;/b&gt; &amp; &lt;script&gt;…"),
    (Snippet("inget markerat"), "inget markerat"),
])
def test_a_snippet_is_escaped_text_with_its_matched_words_marked(snippet: Snippet,
                                                                 html: str) -> None:
    assert snippet_html(snippet) == html
