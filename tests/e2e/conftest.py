"""Fixtures for the browser tests: the sample site on loopback, and a headless Chromium.

Chromium is Debian's (``/usr/bin/chromium``, or ``$PODDARKIV_CHROMIUM``), driven by
Playwright; nothing is downloaded. axe-core comes from ``tests/e2e/node_modules`` (run
``npm ci --prefix tests/e2e``; ``scripts/install --dev`` does both). Without them the browser
tests are skipped, except under CI (``CI`` set), where a missing browser is an error.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from poddarkiv.archive.artwork import save_artwork, save_image
from tests.e2e.live_server import SampleSite, sample_site, serve
from tests.site.site_archive import FEED_ID, HOSTILE_ID, record_history

CHROMIUM = Path(os.environ.get("PODDARKIV_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--autoplay-policy=no-user-gesture-required"]
AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: How long a page or an element may take (milliseconds; the machine is small and shared).
TIMEOUT_MS = 15_000


def cover_png(size: int = 112) -> bytes:
    """A real PNG (a square of the site's accent colour), small enough to write here."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    row = b"\x00" + b"\x1f\x5f\x8b" * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b""))


def _missing(what: str) -> None:
    """Skip on a developer's machine; fail under CI, which must run the browser tests."""
    if os.environ.get("CI"):
        pytest.fail(what)
    pytest.skip(what)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleSite]:
    """The sample archive, indexed and themed, behind the real app; the feed has a recorded
    history (a move, skipped items, problems, failures, a report, cluster jobs) to show, and
    the archive keeps the podcast's image (so cards and the podcast page show it) and one
    episode's own image (so the episode pages show both kinds)."""
    built = sample_site(tmp_path_factory.mktemp("e2e") / "data")
    record_history(built.catalogue)
    cover = cover_png()
    save_artwork(built.catalogue.data, FEED_ID, cover, source_url="https://example.org/omslag.png",
                 sha256=hashlib.sha256(cover).hexdigest())
    _keep_an_episode_image(built, cover)
    yield built
    built.close()


def _keep_an_episode_image(built: SampleSite, image: bytes) -> None:
    """The episode without audio names an image of its own, which the archive keeps (the
    other episodes' pages show the podcast's copy)."""
    episode = built.catalogue.episode(HOSTILE_ID)
    assert episode is not None
    url = "https://example.org/avsnitt-bild.png"
    built.catalogue.save_episode(episode.replace(image=url))
    save_image(built.catalogue.data, url, image, sha256=hashlib.sha256(image).hexdigest())


@pytest.fixture(scope="session")
def base_url(site: SampleSite) -> Iterator[str]:
    """The site served by uvicorn on 127.0.0.1."""
    with serve(site.app) as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium."""
    if not CHROMIUM.exists():
        _missing(f"no Chromium at {CHROMIUM}: apt-get install chromium "
                 "(or set PODDARKIV_CHROMIUM)")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


def _page(browser: Browser, *, locale: str = "sv-SE", java_script_enabled: bool = True,
          bypass_csp: bool = False) -> Iterator[Page]:
    context = browser.new_context(locale=locale, java_script_enabled=java_script_enabled,
                                  bypass_csp=bypass_csp)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture()
def page(browser: Browser) -> Iterator[Page]:
    """A fresh Swedish-speaking browser tab (JavaScript errors fail the test)."""
    yield from _page(browser)


@pytest.fixture()
def english_page(browser: Browser) -> Iterator[Page]:
    """A tab whose browser asks for English."""
    yield from _page(browser, locale="en-GB")


@pytest.fixture()
def no_js_page(browser: Browser) -> Iterator[Page]:
    """A tab with JavaScript switched off."""
    yield from _page(browser, java_script_enabled=False)


@pytest.fixture()
def axe_page(browser: Browser) -> Iterator[Page]:
    """A tab that may inject axe-core (the site's CSP forbids inline scripts, so bypass it)."""
    if not AXE_JS.exists():
        _missing(f"{AXE_JS} is missing: run npm ci --prefix tests/e2e")
    yield from _page(browser, bypass_csp=True)
