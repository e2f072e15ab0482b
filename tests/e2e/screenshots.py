"""Screenshots of the main pages for the README, taken in headless Chromium.

    .venv/bin/python -m tests.e2e.screenshots [docs/screenshots]

Builds the sample site (``tests/e2e/live_server.py``), serves it on loopback, and writes one PNG
per page into the folder. Run it again after changing the look of the site.
"""

from __future__ import annotations

import hashlib
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from poddarkiv.archive.artwork import save_artwork
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, cover_png
from tests.e2e.live_server import sample_site, serve
from tests.site.site_archive import FEED_ID

VIEWPORT = {"width": 1200, "height": 900}
MOBILE = {"width": 390, "height": 844}
#: name → path
SHOTS: dict[str, str] = {
    "home": "/",
    "search": "/sok?q=partnerskap",
    "episode": "/avsnitt/rattsfallet-i-alingsas?t=14",
    "episode-english": "/avsnitt/iop-och-upphandling?lang=en",
    "theme": "/tema/iop",
}


def _shoot(page: Page, url: str, out: Path, *, full_page: bool) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if "/avsnitt/" in url:
        page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    page.screenshot(path=str(out), full_page=full_page)


def main(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        site = sample_site(Path(tmp) / "data")
        cover = cover_png()  # the archive keeps the podcast's image, as an ingest would
        save_artwork(site.catalogue.data, FEED_ID, cover, source_url="https://example.org/omslag.png",
                     sha256=hashlib.sha256(cover).hexdigest())
        with serve(site.app) as base, sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            for name, viewport in (("", VIEWPORT), ("-mobile", MOBILE)):
                page = browser.new_page(viewport=viewport, locale="sv-SE")  # type: ignore[arg-type]
                for shot, path in SHOTS.items():
                    if name and shot not in ("episode", "search", "theme"):
                        continue
                    out = folder / f"{shot}{name}.png"
                    _shoot(page, base + path, out, full_page=not name)
                    written.append(out)
                page.close()
            browser.close()
        site.close()
    return written


if __name__ == "__main__":
    for path in main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")):
        print(path)
