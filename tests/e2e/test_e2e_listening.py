"""In a real browser: search, open a hit, and the player is at that moment; read along."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from poddarkiv.sample import SAMPLE_EPISODES

pytestmark = pytest.mark.browser

EPISODE = SAMPLE_EPISODES[3].slug  # rattsfallet-i-alingsas, a Whisper transcript
#: How close the player must be to the time asked for (seconds; MP3 seeking is approximate).
SEEK_TOLERANCE_S = 1.0


def _player_time(page: Page) -> float:
    page.wait_for_function(
        "() => { const a = document.getElementById('player');"
        " return a && a.readyState >= 1; }")
    return float(page.evaluate("document.getElementById('player').currentTime"))


def test_search_hit_opens_the_player_at_its_moment(page: Page, base_url: str) -> None:
    page.goto(base_url + "/")
    page.get_by_label("Sök i arkivet").fill("rättsosäkerhet")
    page.get_by_label("Sök i arkivet").press("Enter")
    expect(page).to_have_url(re.compile(r"/sok\?q="))
    hit_link = page.locator("li.hit a.time").first
    href = hit_link.get_attribute("href") or ""
    written = re.search(r"\?t=([\d.]+)", href).group(1)  # type: ignore[union-attr]
    seconds = float(written)
    assert seconds > 0, "pick a query whose passage is not at the start"
    hit_link.click()
    expect(page).to_have_url(re.compile(rf"/avsnitt/{EPISODE}\?t={re.escape(written)}"
                                        rf"#t-{re.escape(written)}$"))
    assert abs(_player_time(page) - seconds) <= SEEK_TOLERANCE_S
    current = page.locator("#transcript li.current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("aria-current", "true")
    # The matched passage itself, not the one before it (issue 15 #2).
    assert float(current.get_attribute("data-start") or "nan") == seconds
    expect(current).to_have_attribute("id", f"t-{written}")


def test_a_segment_anchor_alone_starts_the_audio_there(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    target = page.locator("#transcript li").nth(3)
    anchor = target.get_attribute("id") or ""
    seconds = float(anchor.removeprefix("t-"))
    page.goto(f"{base_url}/avsnitt/{EPISODE}#{anchor}")
    page.reload()  # a fresh load with only the fragment
    assert abs(_player_time(page) - seconds) <= SEEK_TOLERANCE_S


def test_clicking_a_segment_seeks_and_updates_the_citation(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    _player_time(page)
    segment = page.locator("#transcript li").nth(4)
    start = float(segment.get_attribute("data-start") or "nan")
    segment.locator(".text").click()
    page.wait_for_function(f"() => Math.abs(document.getElementById('player').currentTime"
                           f" - {start}) < {SEEK_TOLERANCE_S}")
    expect(segment).to_have_class(re.compile("current"))
    written = f"{start:.3f}".rstrip("0").rstrip(".")
    expect(page).to_have_url(re.compile(rf"\?t={re.escape(written)}#t-{re.escape(written)}$"))
    minutes, secs = divmod(int(start), 60)
    expect(page.locator("#cite-time")).to_have_text(f"{minutes}:{secs:02d}")
    expect(page.locator("#cite-text")).to_contain_text(f"?t={written}")
    said = segment.locator(".text").inner_text().strip()
    expect(page.locator("#cite-quote")).to_have_text(said)
    expect(page.locator("#cite-text")).to_contain_text(said)
    page.evaluate("document.getElementById('player').pause()")


def test_following_the_playback_can_be_switched_off(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    follow = page.get_by_label("Följ uppspelningen i texten")
    expect(follow).to_be_visible()
    expect(follow).to_be_checked()
    follow.uncheck()
    page.reload()
    expect(page.get_by_label("Följ uppspelningen i texten")).not_to_be_checked()


def test_without_javascript_links_still_reach_the_moment(no_js_page: Page, base_url: str) -> None:
    page = no_js_page
    page.goto(f"{base_url}/sok?q=partnerskap")
    link = page.locator("li.hit a.time").first
    href = link.get_attribute("href") or ""
    link.click()
    seconds = float(re.search(r"\?t=([\d.]+)", href).group(1))  # type: ignore[union-attr]
    expect(page.locator("#player")).to_have_attribute("src", re.compile(rf"#t={seconds}"))
    expect(page.locator("#transcript li.current")).to_have_count(1)
    expect(page.get_by_label("Följ uppspelningen i texten")).to_be_hidden()


def _settled_scroll(page: Page) -> float:
    """``window.scrollY`` once it has stayed put for a few frames."""
    last = -1.0
    for _ in range(50):
        now = float(page.evaluate("window.scrollY"))
        if now == last:
            return now
        last = now
        page.wait_for_timeout(150)
    raise AssertionError("the page never stopped scrolling")


def test_following_pauses_when_the_reader_scrolls_away(page: Page, base_url: str) -> None:
    page.set_viewport_size({"width": 800, "height": 500})
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    _player_time(page)
    resume = page.get_by_role("button", name="Tillbaka till uppspelningen")
    expect(resume).to_be_hidden()
    page.locator("#transcript li .text").nth(1).click()  # plays from there
    page.wait_for_function("() => !document.getElementById('player').paused")
    page.wait_for_timeout(1500)  # past the page's own scrolling
    page.mouse.wheel(0, 4000)  # the reader goes down to Citera
    expect(resume).to_be_visible()
    where = _settled_scroll(page)  # the wheel scrolls smoothly; wait until it has arrived
    marked = page.locator("#transcript li.current").get_attribute("data-start")
    # Segments are 4.7 s apart: wait for the next to be marked; the page must stay put.
    page.wait_for_function(f"() => document.querySelector('#transcript li.current')"
                           f".getAttribute('data-start') !== '{marked}'", timeout=8000)
    page.wait_for_timeout(1500)  # time for a (wrong) smooth scroll back to show
    # A few pixels of scroll anchoring as the marked line changes height are fine; a jump
    # back up to the playing line is not.
    assert abs(page.evaluate("window.scrollY") - where) < 100
    resume.click()
    expect(resume).to_be_hidden()
    page.evaluate("document.getElementById('player').pause()")


def test_player_controls_skip_and_change_speed(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/avsnitt/{EPISODE}?t=5")
    _player_time(page)
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 5)"
                           f" < {SEEK_TOLERANCE_S}")
    page.get_by_role("button", name="15 s framåt").click()
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 20)"
                           f" < {SEEK_TOLERANCE_S}")
    page.get_by_label("Hastighet").select_option("1.5")
    assert page.evaluate("document.getElementById('player').playbackRate") == 1.5
    page.locator("h1").click()  # focus out of the form field; the shortcuts work on the page
    page.keyboard.press("j")
    page.wait_for_function("() => Math.abs(document.getElementById('player').currentTime - 5)"
                           f" < {SEEK_TOLERANCE_S}")
    page.keyboard.press(">")
    assert page.evaluate("document.getElementById('player').playbackRate") == 2
    # WCAG 2.1.4: the single-key shortcuts can be switched off.
    page.get_by_label("Kortkommandon").uncheck()
    page.locator("h1").click()
    page.keyboard.press(">")
    page.wait_for_timeout(200)
    assert page.evaluate("document.getElementById('player').playbackRate") == 2


def test_the_marked_passage_offers_its_link(page: Page, base_url: str) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{base_url}/avsnitt/{EPISODE}?t=5")
    share = page.locator("#transcript li.current button.share")
    expect(share).to_have_count(1)
    start = page.locator("#transcript li.current").get_attribute("data-start") or ""
    share.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.endswith(f"/avsnitt/{EPISODE}?t={start.rstrip('0').rstrip('.')}")


def test_search_inside_an_episode_without_javascript(no_js_page: Page, base_url: str) -> None:
    page = no_js_page
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    page.get_by_role("searchbox", name="Sök i avsnittet").fill("kommun")
    page.get_by_role("button", name="Hitta").click()
    expect(page.locator(".find-passages li").first).to_be_visible()
    page.locator(".find-passages a.time").first.click()
    expect(page.locator("#transcript li.current")).to_have_count(1)
