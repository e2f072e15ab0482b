"""In a real browser: the language switch, and using the site with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


def test_the_language_switch_turns_the_site_english_and_back(page: Page, base_url: str) -> None:
    page.goto(base_url + "/om")
    expect(page.locator("html")).to_have_attribute("lang", "sv")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("About the archive")
    # The choice sticks while browsing.
    page.get_by_role("link", name="Podcasts", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Podcasts in the archive")
    page.get_by_role("link", name="Svenska").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Poddar i arkivet")


def test_an_english_browser_gets_english(english_page: Page, base_url: str) -> None:
    english_page.goto(base_url + "/")
    expect(english_page.locator("html")).to_have_attribute("lang", "en")
    expect(english_page.get_by_role("heading", name="Latest episodes")).to_be_visible()


def _tab_until(page: Page, predicate: str, *, limit: int = 80) -> None:
    """Press Tab until ``predicate`` (JS, on document.activeElement as ``el``) holds."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return {predicate}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


def test_keyboard_only_search_listen_and_cite(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Hoppa till innehållet", "the first Tab stop is the skip link"
    expect(page.locator(".skip-link")).to_be_visible()

    _tab_until(page, "el.id === 'quick-q'")
    page.keyboard.type("upphandling")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/sok\?q=upphandling"))

    _tab_until(page, "el.classList.contains('time') && el.closest('li.hit') !== null")
    href = page.evaluate("document.activeElement.getAttribute('href')")
    seconds = int(re.search(r"\?t=(\d+)", href).group(1))  # type: ignore[union-attr]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"\?t={seconds}#t-{seconds}$"))
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    now = page.evaluate("document.getElementById('player').currentTime")
    assert abs(now - seconds) <= 1.0

    # The player's own controls and every segment are reachable; Enter on a segment seeks.
    _tab_until(page, "el.id === 'player'")
    _tab_until(page, "el.classList.contains('time') && el.closest('#transcript') !== null"
                     " && el.closest('li').dataset.start > 0")
    target = float(page.evaluate("document.activeElement.closest('li').dataset.start"))
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => Math.abs(document.getElementById('player').currentTime - {target}) < 1")
    page.evaluate("document.getElementById('player').pause()")
    # Focus is visible wherever it lands.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
