"""The feed list the user edits: add, remove, list, OPML import and export.

Adding a feed only records its URL; the next ingest fetches it. Our feed id comes from the
first URL we saw, so a feed keeps its id (and its episodes theirs) when the publisher moves it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from poddarkiv.archive.models import Feed
from poddarkiv.archive.store import Catalogue
from poddarkiv.errors import ConfigError
from poddarkiv.ingest.identity import feed_id_for, normalise_feed_url
from poddarkiv.ingest.opml import read_opml, write_opml

__all__ = ["add_feed", "check_feed_url", "export_opml", "find_feed", "import_opml",
           "remove_feed"]


def check_feed_url(url: str) -> str:
    """``url`` trimmed, when it can be a feed's address; else :class:`ConfigError` saying why."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # a port that is not a number raises here
    except ValueError as exc:
        raise ConfigError(f"not a valid feed URL: {url!r} ({exc})") from exc
    if parts.scheme.lower() not in ("http", "https"):
        raise ConfigError(f"not an http(s) feed URL: {url!r}")
    if not parts.hostname:
        raise ConfigError(f"no host in the feed URL {url!r}")
    return url.strip()


def add_feed(catalogue: Catalogue, url: str, *, title: str = "") -> tuple[Feed, bool]:
    """Record ``url`` as a feed; return it and whether it was new."""
    url = check_feed_url(url)
    existing = find_feed(catalogue, url)
    if existing is not None:
        return existing, False
    feed = Feed(id=feed_id_for(url), url=normalise_feed_url(url), title=title)
    catalogue.save_feed(feed)
    return feed, True


def find_feed(catalogue: Catalogue, url_or_id: str) -> Feed | None:
    """A feed by our id, its URL, or its normalised URL."""
    return (catalogue.feed(url_or_id) or catalogue.feed_by_url(url_or_id)
            or catalogue.feed_by_url(normalise_feed_url(url_or_id))
            or catalogue.feed(feed_id_for(url_or_id)))


def remove_feed(catalogue: Catalogue, url_or_id: str) -> Feed:
    """Remove a feed and its episodes from the catalogue (run ``reindex`` after)."""
    feed = find_feed(catalogue, url_or_id)
    if feed is None:
        raise ConfigError(f"no such feed: {url_or_id}")
    catalogue.remove_feed(feed.id)
    return feed


def import_opml(catalogue: Catalogue, body: bytes, *, refused: list[str] | None = None
                ) -> list[tuple[Feed, bool]]:
    """Add every feed an OPML file lists; return each with whether it was new.

    Outlines whose URL cannot be a feed's are skipped, and listed in ``refused`` when given.
    """
    added = []
    for title, url in read_opml(body, refused=refused):
        try:
            added.append(add_feed(catalogue, url, title=title))
        except ConfigError:
            if refused is not None:
                refused.append(url)
    return added


def export_opml(catalogue: Catalogue) -> str:
    """Every feed as an OPML 2.0 document."""
    return write_opml(catalogue.feeds())
