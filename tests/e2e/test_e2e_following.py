"""In a real browser: follow a debate. Save a search as a feed, and see it grow after an ingest."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest
from playwright.sync_api import Page, expect

from poddarkiv.archive.models import Enclosure, Episode, Segment, Transcript
from tests.e2e.live_server import SampleSite, sample_site, serve
from tests.site.site_archive import FEED_ID

pytestmark = pytest.mark.browser

NEW_ID = "nytt-om-upphandling"


@pytest.fixture()
def own_site(tmp_path: Path) -> Iterator[tuple[SampleSite, str]]:
    """A site of its own: this test adds an episode, which the shared site must not see."""
    built = sample_site(tmp_path / "data")
    with serve(built.app) as url:
        yield built, url
    built.close()


def _ingest_new_episode(site: SampleSite) -> None:
    """What an ingest does for one new episode: catalogue it, store its transcript, index it."""
    feed = site.catalogue.feed(FEED_ID)
    assert feed is not None
    episode = Episode(id=NEW_ID, feed_id=FEED_ID, guid=NEW_ID, title="Nytt om upphandling",
                      published=datetime(2030, 1, 1, tzinfo=UTC), duration_s=20.0,
                      enclosure=Enclosure(url="https://example.invalid/nytt.mp3",
                                          type="audio/mpeg"))
    transcript = Transcript(episode_id=NEW_ID, source="whisper", language="sv", segments=(
        Segment(0.0, 6.5, "Välkommen tillbaka."),
        Segment(6.75, 12.0, "Regeringen vill ändra reglerna om upphandling."),
    ), engine="faster-whisper", model="base", created=datetime(2030, 1, 1, tzinfo=UTC))
    site.catalogue.save_episode(episode)
    site.catalogue.save_transcript(transcript)
    site.index.index_episode(feed, episode, transcript)


def test_a_saved_search_feed_parses_and_updates_after_an_ingest(
        page: Page, own_site: tuple[SampleSite, str]) -> None:
    site, base_url = own_site
    page.goto(base_url + "/sok?q=upphandling")
    follow = page.get_by_role("link", name="Bevaka sökningen")
    expect(follow).to_be_visible()
    feed_url = base_url + (follow.get_attribute("href") or "")
    before = page.request.get(feed_url)
    parsed = feedparser.parse(io.BytesIO(before.body()))
    assert not parsed.bozo and parsed.entries
    assert all("/avsnitt/" in e.link for e in parsed.entries)
    assert any("?t=" in e.link for e in parsed.entries)  # spoken passages link to their moment
    assert NEW_ID not in parsed.entries[0].link

    _ingest_new_episode(site)
    after = page.request.get(feed_url, headers={"if-none-match": before.headers["etag"]})
    assert after.status == 200  # changed, so not 304
    newest = feedparser.parse(io.BytesIO(after.body())).entries[0]
    assert newest.link == f"{base_url}/avsnitt/{NEW_ID}?t=6.75"
    assert "upphandling" in newest.summary

    # The entry's link opens the matched passage itself.
    page.goto(newest.link)
    current = page.locator("#transcript li.current")
    expect(current).to_have_attribute("data-start", "6.75")
