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
    seconds = int(re.search(r"\?t=(\d+)", href).group(1))  # type: ignore[union-attr]
    assert seconds > 0, "pick a query whose passage is not at the start"
    hit_link.click()
    expect(page).to_have_url(re.compile(rf"/avsnitt/{EPISODE}\?t={seconds}#t-{seconds}$"))
    assert abs(_player_time(page) - seconds) <= SEEK_TOLERANCE_S
    current = page.locator("#transcript li.current")
    expect(current).to_have_count(1)
    expect(current).to_have_attribute("aria-current", "true")
    start = float(current.get_attribute("data-start") or "nan")
    assert start <= seconds + SEEK_TOLERANCE_S


def test_a_segment_anchor_alone_starts_the_audio_there(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/avsnitt/{EPISODE}")
    target = page.locator("#transcript li").nth(3)
    anchor = target.get_attribute("id") or ""
    seconds = int(anchor.removeprefix("t-"))
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
    expect(page).to_have_url(re.compile(rf"\?t={int(start)}#t-{int(start)}$"))
    minutes, secs = divmod(int(start), 60)
    expect(page.locator("#cite-time")).to_have_text(f"{minutes}:{secs:02d}")
    expect(page.locator("#cite-text")).to_contain_text(f"?t={int(start)}")
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
    seconds = re.search(r"\?t=(\d+)", href).group(1)  # type: ignore[union-attr]
    expect(page.locator("#player")).to_have_attribute("src", re.compile(rf"#t={seconds}"))
    expect(page.locator("#transcript li.current")).to_have_count(1)
    expect(page.get_by_label("Följ uppspelningen i texten")).to_be_hidden()
