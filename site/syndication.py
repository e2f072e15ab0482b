"""Feeds out: each podcast re-published as RSS with our transcripts and chapters, and OPML.

The re-published feed keeps the publisher's enclosure (so their statistics stay right) and adds
Podcasting 2.0 ``<podcast:transcript>`` (WebVTT, SRT, JSON, text) and ``<podcast:chapters>``
pointing at this site, so any podcast app gets the archive's transcripts.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from email.utils import format_datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from poddarkiv.archive.models import Episode, Feed
from poddarkiv.site import urls
from poddarkiv.site.resources import resources
from poddarkiv.site.sanitize import safe_url

__all__ = ["PODCAST_NS", "opml", "rss"]

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
RSS_MAX_ITEMS = 500
_TRANSCRIPT_TYPES = {"vtt": "text/vtt", "srt": "application/x-subrip",
                     "json": "application/json", "txt": "text/plain"}

ET.register_namespace("podcast", PODCAST_NS)
ET.register_namespace("itunes", ITUNES_NS)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def _item(channel: ET.Element, base: str, ep: Episode, has_transcript: bool, lang: str) -> None:
    item = _sub(channel, "item")
    _sub(item, "title", ep.title)
    _sub(item, "guid", ep.guid, isPermaLink="false")
    _sub(item, "link", base + urls.episode(ep.id))
    if ep.description:
        _sub(item, "description", ep.description)
    if ep.published:
        _sub(item, "pubDate", format_datetime(ep.published))
    enclosure_url = safe_url(ep.enclosure.url) if ep.enclosure else None
    if enclosure_url and ep.enclosure:
        _sub(item, "enclosure", url=enclosure_url, type=ep.enclosure.type or "audio/mpeg",
             length=str(ep.enclosure.length or 0))
    elif ep.audio_path:
        _sub(item, "enclosure", url=base + urls.audio(ep.id), type="audio/mpeg", length="0")
    if ep.duration_s:
        _sub(item, f"{{{ITUNES_NS}}}duration", str(int(ep.duration_s)))
    if has_transcript:
        for fmt, media_type in _TRANSCRIPT_TYPES.items():
            _sub(item, f"{{{PODCAST_NS}}}transcript", url=base + urls.transcript(ep.id, fmt),
                 type=media_type, language=lang, **({"rel": "captions"} if fmt == "vtt" else {}))
        _sub(item, f"{{{PODCAST_NS}}}chapters", url=base + urls.chapters(ep.id),
             type="application/json+chapters")


def feed_xml(feed: Feed, episodes: list[Episode], transcribed: set[str], base: str) -> bytes:
    """The RSS 2.0 document for ``feed`` (``base`` is the site's origin, no trailing slash)."""
    rss_el = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss_el, "channel")
    _sub(channel, "title", feed.title or feed.url)
    _sub(channel, "link", base + urls.podcast(feed.id))
    _sub(channel, "description", feed.description or feed.title or feed.url)
    lang = feed.language or "sv"
    _sub(channel, "language", lang)
    if feed.author:
        _sub(channel, f"{{{ITUNES_NS}}}author", feed.author)
    for ep in episodes:
        _item(channel, base, ep, ep.id in transcribed, lang)
    return _document(rss_el)


def _document(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def rss(request: Request) -> Response:
    """``/poddar/ID/rss.xml``: the podcast re-published with transcripts and chapters."""
    catalogue = resources(request).catalogue
    feed = catalogue.feed(request.path_params["feed_id"])
    if feed is None:
        raise HTTPException(404)
    episodes = catalogue.episodes(feed_id=feed.id, limit=RSS_MAX_ITEMS)
    transcribed = {ep.id for ep in episodes if catalogue.transcript_info(ep.id) is not None}
    body = feed_xml(feed, episodes, transcribed, str(request.base_url).rstrip("/"))
    return Response(body, media_type="application/rss+xml; charset=utf-8")


def opml(request: Request) -> Response:
    """``/poddar.opml``: every podcast, as our re-published feed."""
    base = str(request.base_url).rstrip("/")
    root = ET.Element("opml", {"version": "2.0"})
    head = _sub(root, "head")
    _sub(head, "title", "poddarkiv")
    body = _sub(root, "body")
    for feed in resources(request).catalogue.feeds():
        # Subscribers get our re-published feed: the same episodes, with transcripts.
        attrs = {"type": "rss", "text": feed.title or feed.url, "title": feed.title or feed.url,
                 "xmlUrl": base + urls.rss(feed.id), "htmlUrl": base + urls.podcast(feed.id)}
        _sub(body, "outline", **attrs)
    return Response(_document(root), media_type="text/x-opml; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="poddarkiv.opml"'})
