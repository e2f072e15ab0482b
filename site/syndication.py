"""Feeds out: each podcast re-published as RSS with our transcripts and chapters, and OPML.

The re-published feed keeps the publisher's enclosure (so their statistics stay right) and adds
Podcasting 2.0 ``<podcast:transcript>`` (WebVTT, SRT, Podcasting 2.0 JSON, text) and
``<podcast:chapters>`` pointing at this site, so any podcast app gets the archive's transcripts.
Feeds carry ``atom:link rel="self"``, ``lastBuildDate``, an ETag and ``Last-Modified``, and
answer a matching conditional GET with 304 (:func:`feed_response`).
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from poddarkiv.archive.models import Episode, Feed
from poddarkiv.archive.writers import MEDIA_TYPES, PODCAST_JSON
from poddarkiv.ingest.opml import Outline, write_outlines
from poddarkiv.site import urls
from poddarkiv.site.resources import resources
from poddarkiv.site.sanitize import safe_url

__all__ = ["ATOM_NS", "PODCAST_NS", "feed_response", "opml", "rss"]

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM_NS = "http://www.w3.org/2005/Atom"
RSS_MAX_ITEMS = 500
#: Feeds may be cached this long (seconds) before a reader asks again (with its ETag).
FEED_MAX_AGE_S = 15 * 60
#: Transcript files in the feed (``archive.writers`` formats); JSON as Podcasting 2.0's own.
_FEED_FORMATS = ("vtt", "srt", PODCAST_JSON, "txt")

ET.register_namespace("podcast", PODCAST_NS)
ET.register_namespace("itunes", ITUNES_NS)
ET.register_namespace("atom", ATOM_NS)


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
        for fmt in _FEED_FORMATS:
            _sub(item, f"{{{PODCAST_NS}}}transcript", url=base + urls.transcript(ep.id, fmt),
                 type=MEDIA_TYPES[fmt], language=lang,
                 **({"rel": "captions"} if fmt == "vtt" else {}))
        _sub(item, f"{{{PODCAST_NS}}}chapters", url=base + urls.chapters(ep.id),
             type="application/json+chapters")


def newest(episodes: list[Episode]) -> datetime | None:
    """When the newest of ``episodes`` was published (a feed's ``lastBuildDate``)."""
    dates = [e.published for e in episodes if e.published]
    return max(dates) if dates else None


def _channel(feed: Feed, base: str, self_url: str, built: datetime | None) -> ET.Element:
    rss_el = ET.Element("rss", {"version": "2.0"})
    channel = _sub(rss_el, "channel")
    title, link = feed.title or feed.url, base + urls.podcast(feed.id)
    _sub(channel, "title", title)
    _sub(channel, "link", link)
    _sub(channel, "description", feed.description or title)
    _sub(channel, "language", feed.language or "sv")
    # RSS Advisory Board best practice: a feed names its own URL with atom:link rel="self".
    _sub(channel, f"{{{ATOM_NS}}}link", href=self_url, rel="self", type="application/rss+xml")
    if built:
        _sub(channel, "lastBuildDate", format_datetime(built))
    image = safe_url(feed.image)
    if image:
        img = _sub(channel, "image")
        _sub(img, "url", image)
        _sub(img, "title", title)
        _sub(img, "link", link)
        _sub(channel, f"{{{ITUNES_NS}}}image", href=image)
    if feed.author:
        _sub(channel, f"{{{ITUNES_NS}}}author", feed.author)
    return rss_el


def feed_xml(feed: Feed, episodes: list[Episode], transcribed: set[str], base: str,
             *, self_url: str | None = None) -> bytes:
    """The RSS 2.0 document for ``feed`` (``base`` is the site's origin, no trailing slash)."""
    rss_el = _channel(feed, base, self_url or base + urls.rss(feed.id), newest(episodes))
    channel = rss_el[0]
    for ep in episodes:
        _item(channel, base, ep, ep.id in transcribed, feed.language or "sv")
    return document(rss_el)


def document(root: ET.Element) -> bytes:
    """An XML document with its declaration, UTF-8."""
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _not_modified_since(request: Request, modified: datetime | None) -> bool:
    raw = request.headers.get("if-modified-since")
    if not raw or modified is None:
        return False
    try:
        since = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and modified.replace(microsecond=0) <= since


def feed_response(request: Request, body: bytes, media_type: str,
                  modified: datetime | None) -> Response:
    """A feed with an ETag and ``Last-Modified``; 304 when the reader already has it.

    RFC 9110 §13.2.2: If-None-Match is evaluated first; If-Modified-Since only without it.
    """
    if modified is not None and modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)  # a feed date without a zone is read as UTC
    # Weak: the compression layer may send the same feed gzipped (RFC 9110 §8.8.3).
    etag = 'W/"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    headers = {"etag": etag, "cache-control": f"public, max-age={FEED_MAX_AGE_S}"}
    if modified is not None:
        headers["last-modified"] = format_datetime(modified.astimezone(UTC), usegmt=True)
    match = request.headers.get("if-none-match")
    # RFC 9110 §13.1.2: If-None-Match uses the weak comparison.
    fresh = (etag.removeprefix("W/") in [t.strip().removeprefix("W/") for t in match.split(",")]
             if match
             else _not_modified_since(request, modified))
    if fresh:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def rss(request: Request) -> Response:
    """``/poddar/ID/rss.xml``: the podcast re-published with transcripts and chapters."""
    catalogue = resources(request).catalogue
    feed = catalogue.feed(request.path_params["feed_id"])
    if feed is None:
        raise HTTPException(404)
    episodes = catalogue.episodes(feed_id=feed.id, limit=RSS_MAX_ITEMS)
    transcribed = {ep.id for ep in episodes if catalogue.transcript_info(ep.id) is not None}
    body = feed_xml(feed, episodes, transcribed, str(request.base_url).rstrip("/"),
                    self_url=str(request.url))
    return feed_response(request, body, "application/rss+xml; charset=utf-8", newest(episodes))


def opml(request: Request) -> Response:
    """``/poddar.opml``: every podcast, as our re-published feed (``ingest.opml`` writes it)."""
    base = str(request.base_url).rstrip("/")
    # Subscribers get our re-published feed: the same episodes, with transcripts.
    outlines = [Outline(feed.title or feed.url, base + urls.rss(feed.id),
                        base + urls.podcast(feed.id), feed.language)
                for feed in resources(request).catalogue.feeds()]
    return Response(write_outlines(outlines), media_type="text/x-opml; charset=utf-8", headers={
        "content-disposition": 'attachment; filename="poddarkiv.opml"'})
