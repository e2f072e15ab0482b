"""Feeds out: each podcast re-published as RSS with our transcripts and chapters; OPML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from starlette.testclient import TestClient

from poddarkiv.archive.store import Catalogue
from poddarkiv.ingest.captions import parse_json_transcript
from poddarkiv.site.syndication import ATOM_NS, PODCAST_NS
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
    assert transcripts["application/json"].endswith("/transkript.podcast.json")
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


def test_the_json_transcript_in_the_feed_is_podcasting_2_and_reads_back(
        client: TestClient) -> None:
    """Apps read ``application/json`` as Podcasting 2.0 JSON; so does our own reader."""
    channel = ET.fromstring(client.get(f"/poddar/{FEED_ID}/rss.xml").content).find("channel")
    assert channel is not None
    item = next(i for i in channel.findall("item") if i.find(f"{P}transcript") is not None)
    url = next(t.get("url") for t in item.findall(f"{P}transcript")
               if t.get("type") == "application/json")
    body = client.get(str(url).removeprefix("http://testserver"))
    assert body.headers["content-type"].startswith("application/json")
    data = body.json()
    assert data["version"] and {"startTime", "endTime", "body"} <= set(data["segments"][0])
    episode_id = str(url).split("/")[-2]
    ours = client.get(f"/avsnitt/{episode_id}.json").json()["segments"]
    segments = parse_json_transcript(body.text)
    assert [round(s.start, 3) for s in segments] == [s["start"] for s in ours]
    assert [s.text for s in segments] == [s["text"] for s in ours]


def test_rss_names_itself_its_build_date_and_image_and_answers_304(client: TestClient) -> None:
    response = client.get(f"/poddar/{FEED_ID}/rss.xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel is not None
    self_link = channel.find(f"{{{ATOM_NS}}}link")
    assert self_link is not None and self_link.get("rel") == "self"
    assert self_link.get("href") == f"http://testserver/poddar/{FEED_ID}/rss.xml"
    assert channel.findtext("lastBuildDate")
    assert response.headers["last-modified"].endswith("GMT")
    etag = response.headers["etag"]
    again = client.get(f"/poddar/{FEED_ID}/rss.xml", headers={"if-none-match": etag})
    assert again.status_code == 304 and again.content == b""
    since = client.get(f"/poddar/{FEED_ID}/rss.xml",
                       headers={"if-modified-since": response.headers["last-modified"]})
    assert since.status_code == 304


def test_rss_carries_the_podcast_image(client: TestClient, catalogue: Catalogue) -> None:
    feed = catalogue.feed(FEED_ID)
    assert feed is not None
    catalogue.save_feed(feed.replace(image="https://example.org/omslag.jpg"))
    channel = ET.fromstring(client.get(f"/poddar/{FEED_ID}/rss.xml").content).find("channel")
    assert channel is not None
    assert channel.findtext("image/url") == "https://example.org/omslag.jpg"


def test_opml_outlines_have_the_required_text_attribute(client: TestClient) -> None:
    outline = ET.fromstring(client.get("/poddar.opml").content).find("body/outline")
    assert outline is not None and outline.get("text")  # OPML 2.0: text is required
