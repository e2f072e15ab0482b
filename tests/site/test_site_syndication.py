"""Feeds out: each podcast re-published as RSS with our transcripts and chapters; OPML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from starlette.testclient import TestClient

from poddarkiv.site.syndication import PODCAST_NS
from tests.site.site_archive import FEED_ID

P = f"{{{PODCAST_NS}}}"


def test_rss_adds_podcast_transcript_and_chapters_to_each_transcribed_item(
        client: TestClient) -> None:
    response = client.get(f"/poddar/{FEED_ID}/rss.xml")
    assert response.headers["content-type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    items = {i.findtext("guid"): i for i in channel.findall("item")}
    assert len(items) == 5
    item = items["konkurrenten-exempel:iop-och-upphandling"]
    transcripts = {t.get("type"): t.get("url") for t in item.findall(f"{P}transcript")}
    assert transcripts["text/vtt"] == \
        "http://testserver/avsnitt/iop-och-upphandling/transkript.vtt"
    assert set(transcripts) == {"text/vtt", "application/x-subrip", "application/json",
                                "text/plain"}
    chapters = item.find(f"{P}chapters")
    assert chapters is not None and chapters.get("type") == "application/json+chapters"
    # The publisher's enclosure is kept, so their statistics stay right.
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == "https://example.org/iop-och-upphandling.mp3"
    # An episode without a transcript gets no transcript tags.
    assert items["fientlig"].find(f"{P}transcript") is None


def test_rss_links_point_at_the_site_and_the_feed_links_back_to_it(client: TestClient) -> None:
    channel = ET.fromstring(client.get(f"/poddar/{FEED_ID}/rss.xml").content).find("channel")
    assert channel is not None
    assert channel.findtext("link") == f"http://testserver/poddar/{FEED_ID}"
    page = client.get(f"/poddar/{FEED_ID}").text
    assert 'type="application/rss+xml" title="Konkurrenten' in page


def test_opml_lists_every_podcast_with_its_republished_feed(client: TestClient) -> None:
    response = client.get("/poddar.opml")
    assert response.headers["content-type"].startswith("text/x-opml")
    outlines = ET.fromstring(response.content).findall("body/outline")
    assert [(o.get("type"), o.get("xmlUrl")) for o in outlines] == [
        ("rss", f"http://testserver/poddar/{FEED_ID}/rss.xml")]


def test_unknown_podcast_feed_is_404(client: TestClient) -> None:
    assert client.get("/poddar/okand/rss.xml").status_code == 404
