"""The podcast's image comes from the site itself, so the strict CSP lets the browser show it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

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
