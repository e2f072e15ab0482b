"""Stable identities for feeds and episodes.

Re-ingesting a feed must never duplicate an episode, and a publisher rotating the signed CDN
token in an enclosure URL must never look like a new episode (which would mean a new download
and a new transcription). An episode is identified by, in order of preference:

1. its ``<guid>`` (an URL-shaped guid is normalised like an enclosure URL, since many feeds use
   the enclosure URL itself as the guid);
2. its normalised enclosure URL: lowercase scheme and host, no default port, no fragment, no
   tracking redirector prefix, and no query string on a media file (tokens and signatures live
   there; a query on a ``download.php``-style URL is kept minus known token parameters);
3. its link;
4. a hash of its title and publication date.

None of this ever raises: a guid or URL that is not a valid URL (``http://example.c[o.test/``,
an unreplaced template such as ``http://[domain]/episode/12``) is used as written, trimmed and
lowercased up to its path, so one malformed item can never stop a feed.

Items that share a guid (a publisher's bug: twenty debates under one guid) are all kept:
:func:`assign_episode_ids` gives the others an id told apart by their enclosure, else their
title and date. Which item keeps the plain id must not depend on its place in the feed: a new
episode at the top must never take the id, and so the record, audio and transcript, of the
one that held it. So an item first gets back any id an earlier run gave it (the stored
episode under that id has the same audio, or, without audio, the same title); only the rest
are assigned in document order.

Our own ids are short hashes: the first :data:`ID_HEX_CHARS` hex digits of a SHA-256, so they
are safe as file names and stable across runs. A feed's id comes from the first URL we saw
for it and does not change when the feed moves.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from poddarkiv.archive.models import Episode

__all__ = [
    "ID_HEX_CHARS",
    "StoredEpisode",
    "assign_episode_ids",
    "episode_id_for",
    "episode_identity",
    "feed_id_for",
    "normalise_feed_url",
    "normalise_media_url",
]

#: 64 bits: collisions are negligible for any archive a person could build.
ID_HEX_CHARS = 16

_DEFAULT_PORTS = {"http": 80, "https": 443}
_MEDIA_EXTENSIONS = frozenset({
    "aac", "flac", "m4a", "m4b", "m4v", "mov", "mp2", "mp3", "mp4", "mpga", "oga", "ogg", "opus",
    "wav", "weba", "webm",
})
# Query parameters that carry signatures, expiry times and tracking, never identity.
_VOLATILE_PARAMS = re.compile(
    r"^(utm_.*|x-amz-.*|token|auth|expires?|signature|sig|key-pair-id|policy|hash|hmac|ts|"
    r"timestamp|ttl|_|aw[a-z]*id|aid|source|ref|listeningsessionid)$",
    re.IGNORECASE,
)
# Tracking redirectors put in front of the real enclosure URL ("prefixes"); each pattern
# matches the host and path of the prefix, and the rest of the path is the real URL.
_PREFIXES = re.compile(
    r"^(?:"
    r"(?:www\.|dts\.)?podtrac\.com/(?:pts/)?redirect\.[a-z0-9]+/"
    r"|chrt\.fm/track/[^/]+/"
    r"|(?:www\.)?podtrac\.com/[^/]+/"
    r"|pdst\.fm/e/"
    r"|op3\.dev/e(?:,[^/]*)?/"
    r"|(?:verifi\.)?podscribe\.com/rss/p/"
    r"|pscrb\.fm/rss/p/"
    r"|arttrk\.com/p/[^/]+/"
    r"|mgln\.ai/e/[^/]+/"
    r"|prfx\.byspotify\.com/e/"
    r"|claritaspod\.com/measure/"
    r"|chtbl\.com/track/[^/]+/"
    r"|tracking\.swap\.fm/track/[^/]+/"
    r")",
    re.IGNORECASE,
)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def _split(url: str) -> tuple[str, str, str, str]:
    """Scheme, lowercase host with any non-default port, path and query of ``url``."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # "Invalid IPv6 URL" and friends: keep the text, minus the scheme
        scheme, _sep, rest = url.strip().partition("://")
        host, slash, tail = rest.partition("/")
        path, _q, query = (slash + tail).partition("?")
        return scheme.lower(), host.lower(), path or "/", query.partition("#")[0]
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return scheme, host, parts.path or "/", parts.query


def normalise_feed_url(url: str) -> str:
    """``url`` with lowercase scheme and host, no default port and no fragment.

    The query string stays: ``?show=1`` and ``?show=2`` are different feeds.
    """
    scheme, host, path, query = _split(url)
    return _join(scheme, host, path, query)


def _join(scheme: str, host: str, path: str, query: str) -> str:
    try:
        return urlunsplit((scheme, host, path, query, ""))
    except ValueError:
        return f"{scheme}://{host}{path}" + (f"?{query}" if query else "")


def normalise_media_url(url: str) -> str:
    """An enclosure URL reduced to what identifies the file (see the module docstring)."""
    scheme, host, path, query = _split(url)
    for _ in range(5):  # prefixes nest ("podtrac → chartable → megaphone"); a bound keeps it sane
        rest = _PREFIXES.sub("", f"{host}{path}", count=1)
        if rest == f"{host}{path}":
            break
        host, _sep, tail = rest.partition("/")
        if host.lower() in ("http:", "https:"):  # a prefix that embeds the scheme too
            host, _sep, tail = tail.lstrip("/").partition("/")
        host, path = host.lower(), "/" + tail
    extension = path.rsplit("/", 1)[-1].rpartition(".")[2].lower()
    if extension in _MEDIA_EXTENSIONS:
        query = ""
    else:
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                if not _VOLATILE_PARAMS.match(k)]
        query = urlencode(sorted(kept))
    return _join(scheme, host, path, query)


def feed_id_for(url: str) -> str:
    """Our id for a feed first seen at ``url``."""
    return _digest("feed", normalise_feed_url(url))[:ID_HEX_CHARS]


def episode_identity(*, guid: str | None, enclosure_url: str | None, link: str | None,
                     title: str, published: datetime | None) -> str:
    """What identifies an episode within its feed, as a tagged string (``"guid:…"``, …)."""
    if guid and guid.strip():
        value = guid.strip()
        if re.match(r"^https?://", value, re.IGNORECASE):
            value = normalise_media_url(value)
        return f"guid:{value}"
    if enclosure_url:
        return f"enclosure:{normalise_media_url(enclosure_url)}"
    if link:
        return f"link:{normalise_feed_url(link)}"
    when = published.isoformat() if published else ""
    return f"title:{_digest(title.strip(), when)}"


def episode_id_for(feed_id: str, identity: str) -> str:
    """Our id for the episode with ``identity`` in feed ``feed_id``."""
    return _digest("episode", feed_id, identity)[:ID_HEX_CHARS]


#: The catalogue's episode under an id, if any (``Catalogue.episode``).
StoredEpisode = Callable[[str], Episode | None]


def _variant_ids(episode: Episode, feed_id: str) -> list[str]:
    """Ids for an item whose plain id another item holds: by enclosure, then title and date."""
    when = episode.published.isoformat() if episode.published else ""
    keys = [f"title:{episode.title}|{when}"]
    if episode.enclosure is not None:
        media = normalise_media_url(episode.enclosure.url)
        keys = [f"enclosure:{media}", *keys, f"enclosure:{media}|title:{episode.title}|{when}"]
    return [episode_id_for(feed_id, f"{episode.id}#{key}") for key in keys]


def _same_item(stored: Episode, episode: Episode) -> bool:
    """Whether ``stored`` is ``episode`` as an earlier run kept it: the same audio (tokens
    aside), or, for items without audio, the same title."""
    if stored.enclosure is None or episode.enclosure is None:
        return stored.enclosure is episode.enclosure is None and stored.title == episode.title
    return (normalise_media_url(stored.enclosure.url)
            == normalise_media_url(episode.enclosure.url))


def _earlier_id(episode: Episode, feed_id: str, stored: StoredEpisode,
                taken: dict[str, Episode]) -> str | None:
    """The id an earlier run gave ``episode``, if it is still free in this run."""
    holder = stored(episode.id)
    if holder is None:
        return None  # variants are only given while the plain id is held
    if episode.id not in taken and _same_item(holder, episode):
        return episode.id
    for other in _variant_ids(episode, feed_id):
        if other not in taken and (old := stored(other)) is not None and _same_item(old, episode):
            return other
    return None


def _next_id(episode: Episode, feed_id: str, taken: dict[str, Episode],
             held: frozenset[str]) -> str | None:
    """The first free id for ``episode`` (never one in ``held``), or ``None`` for an exact
    duplicate of a taken one."""
    candidates = [episode.id, *_variant_ids(episode, feed_id)]
    if any(taken[i] == episode.replace(id=i) for i in candidates if i in taken):
        return None
    return next((i for i in candidates if i not in taken and i not in held), None)


def _held_elsewhere(episodes: Sequence[Episode], stored: StoredEpisode | None,
                    taken: dict[str, Episode]) -> frozenset[str]:
    """Plain ids shared by several items, none of which is the episode stored under it (it
    left the feed): no item may take it, or it would inherit that episode's audio."""
    counts = Counter(e.id for e in episodes)
    return frozenset(i for i, n in counts.items() if n > 1 and i not in taken
                     and stored is not None and stored(i) is not None)


def assign_episode_ids(episodes: Sequence[Episode], *, feed_id: str,
                       stored: StoredEpisode | None = None
                       ) -> tuple[tuple[Episode, ...], tuple[Episode, ...]]:
    """Each item with an id unique in its feed and the same on every run (see the module
    docstring), in feed order, and the exact duplicates (same guid, audio and title) left out.

    ``episodes`` carry their plain ids (from :func:`episode_identity`); ``stored`` looks up
    what an earlier run kept (without it, ids are assigned in document order).
    """
    taken: dict[str, Episode] = {}
    chosen: list[str | None] = [None] * len(episodes)
    for n, episode in enumerate(episodes):
        if stored is not None and (earlier := _earlier_id(episode, feed_id, stored, taken)):
            chosen[n], taken[earlier] = earlier, episode.replace(id=earlier)
    held = _held_elsewhere(episodes, stored, taken)
    duplicates: list[Episode] = []
    for n, episode in enumerate(episodes):
        if chosen[n] is None:
            if (free := _next_id(episode, feed_id, taken, held)) is None:
                duplicates.append(episode)
                continue
            chosen[n], taken[free] = free, episode.replace(id=free)
    kept = tuple(taken[i] for i in chosen if i is not None)
    return kept, tuple(duplicates)
