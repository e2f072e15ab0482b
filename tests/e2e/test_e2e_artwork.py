"""The podcast's image comes from the site itself, so the strict CSP lets the browser show it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.site.site_archive import HOSTILE_ID

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/poddar/konkurrenten", "/sok?q=partnerskap", "/"])
def test_the_archives_copy_is_shown(page: Page, base_url: str, path: str) -> None:
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.goto(base_url + path)
    cover = page.locator("img.cover").first
    cover.scroll_into_view_if_needed()  # loading="lazy": it loads once near the viewport
    assert cover.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    assert cover.get_attribute("alt") == ""
    assert blocked == []


def test_a_search_card_shows_the_episodes_own_image(page: Page, base_url: str) -> None:
    """The episode without audio keeps an image of its own (conftest): its card shows that
    copy, from the site itself, and the CSP lets it load."""
    blocked: list[str] = []
    page.on("console", lambda msg: blocked.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    page.goto(base_url + "/sok?q=fint")
    card = page.locator("li.hit", has=page.locator(f'a[href="/avsnitt/{HOSTILE_ID}"]'))
    cover = card.locator("img.cover")
    cover.scroll_into_view_if_needed()
    assert cover.get_attribute("src") == f"/avsnitt/{HOSTILE_ID}/bild"
    assert cover.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    assert blocked == []
