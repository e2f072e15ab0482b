"""axe-core in a real browser: no WCAG 2.1 A or AA violation on any page type."""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

import pytest
from playwright.sync_api import Page

from poddarkiv.sample import SAMPLE_EPISODES
from tests.e2e.conftest import AXE_JS
from tests.e2e.live_server import ADMIN_TOKEN, SampleSite

pytestmark = pytest.mark.browser

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
EPISODE = SAMPLE_EPISODES[0].slug

PAGES = {
    "home": "/",
    "search": "/sok?q=partnerskap",
    "search-empty": "/sok",
    "search-no-hits": "/sok?q=zzzxq",
    "search-theme-filter": "/sok?q=kommun&theme=iop",
    "episode": f"/avsnitt/{EPISODE}?t=12",
    "episode-without-audio": "/avsnitt/fientlig",
    "podcasts": "/poddar",
    "podcast": "/poddar/konkurrenten",
    "help": "/hjalp",
    "about": "/om",
    "not-found": "/finns-inte",
    "themes": "/teman",
    "theme": "/tema/iop",
    "references": "/referenser",
    "reference": "/referens/lag/2016%3A1145",
    "people": "/personer",
    "person": "/person/anna-exempel",
    "admin-sign-in": "/admin",
    "episode-search-inside": f"/avsnitt/{EPISODE}?i=partnerskap",
}
#: Each page type at 320 CSS px (WCAG 1.4.10 reflow: no horizontal scrolling).
NARROW_PX = 320


def _violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE_JS))
    result: list[dict[str, Any]] = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))", AXE_TAGS)
    return result


def _assert_clean(page: Page) -> None:
    found = _violations(page)
    assert found == [], json.dumps(found, indent=1, ensure_ascii=False)


def _in(lang: str, path: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_has_no_aa_violations(axe_page: Page, base_url: str, path: str, lang: str) -> None:
    response = axe_page.goto(base_url + _in(lang, path))
    assert response is not None
    assert response.status == (404 if path == "/finns-inte" else 200)
    _assert_clean(axe_page)


@pytest.mark.parametrize("lang", ["sv", "en"])
@pytest.mark.parametrize("path", PAGES.values(), ids=PAGES.keys())
def test_page_reflows_at_320_px(page: Page, base_url: str, path: str, lang: str) -> None:
    page.set_viewport_size({"width": NARROW_PX, "height": 640})
    page.goto(base_url + _in(lang, path))
    wide = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth,"
        " [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right"
        " > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.'"
        " + e.className)]")
    assert wide[0] <= wide[1], f"{path}: {wide[0]} px wide in {wide[1]} px: {wide[2]}"


@pytest.mark.parametrize("path", ["/", "/sok?q=partnerskap", f"/avsnitt/{EPISODE}",
                                  "/tema/iop", "/poddar/konkurrenten", "/person/anna-exempel"])
def test_english_pages_mark_swedish_content(english_page: Page, base_url: str,
                                            path: str) -> None:
    """WCAG 3.1.2: every archive title and quote on an English page says it is Swedish."""
    english_page.goto(base_url + path)
    selector = ("main a[href^='/avsnitt/']:not(.time):not([download]):not([href$='/ljud']),"
                " main blockquote, main .snippet, main #transcript")
    found = english_page.evaluate(
        "(sel) => [...document.querySelectorAll(sel)]"
        ".map(e => [e.closest('[lang]').getAttribute('lang'), e.outerHTML.slice(0, 80)])",
        selector)
    assert found, f"{path}: nothing from the archive to check"
    unmarked = [html for lang, html in found if lang != "sv"]
    assert unmarked == []


def test_bad_request_page_has_no_aa_violations(axe_page: Page, base_url: str) -> None:
    bad = axe_page.request.post(base_url + "/admin/logga-in", form={"other": "x"})
    assert bad.status == 400
    axe_page.route(base_url + "/fel-400", lambda route: route.fulfill(response=bad))
    axe_page.goto(base_url + "/fel-400")
    _assert_clean(axe_page)


def test_signed_in_admin_page_has_no_aa_violations(axe_page: Page, base_url: str) -> None:
    axe_page.goto(base_url + "/admin")
    axe_page.get_by_label("Administratörsnyckel").fill(ADMIN_TOKEN)
    axe_page.get_by_role("button", name="Logga in").click()
    axe_page.get_by_role("button", name="Starta hämtning").wait_for()
    _assert_clean(axe_page)


def test_episode_is_clean_while_a_segment_is_highlighted(axe_page: Page, base_url: str) -> None:
    axe_page.goto(f"{base_url}/avsnitt/{EPISODE}")
    axe_page.locator("#transcript li .text").nth(2).click()
    axe_page.locator("#transcript li.current").wait_for()
    axe_page.evaluate("document.getElementById('player').pause()")
    _assert_clean(axe_page)


def test_the_check_itself_catches_a_violation(axe_page: Page, base_url: str) -> None:
    axe_page.goto(base_url + "/om")
    axe_page.evaluate("document.querySelector('main').insertAdjacentHTML('beforeend',"
                      " '<img src=\"/static/none.png\"><input type=\"text\">')")
    found = {v["id"] for v in _violations(axe_page)}
    assert {"image-alt", "label"} <= found


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_an_uncertain_transcript_is_clean(axe_page: Page, base_url: str, site: SampleSite,
                                          lang: str) -> None:
    """The low-confidence notice and the passage markers (archive.confidence) pass axe."""
    slug = SAMPLE_EPISODES[1].slug
    before = site.catalogue.transcript(slug)
    assert before is not None
    shaky = tuple(dataclasses.replace(s, avg_logprob=math.log(0.9 if i % 3 == 2 else 0.3),
                                      no_speech_prob=0.01, compression_ratio=1.3)
                  for i, s in enumerate(before.segments))
    site.catalogue.save_transcript(before.replace(segments=shaky))
    try:
        axe_page.goto(base_url + _in(lang, f"/avsnitt/{slug}"))
        assert axe_page.locator("#transcript li.uncertain .uncertain-mark").count() > 0
        assert axe_page.locator("p.low-confidence").count() == 1
        _assert_clean(axe_page)
    finally:
        site.catalogue.save_transcript(before)
