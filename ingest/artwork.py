"""A feed's image into the archive (``archive.artwork``), fetched again only when its URL changes.

The image is fetched through the guarded client like everything else (address guard, redirects
checked hop by hop, deadline), under a small size cap, and kept only when its first bytes say
JPEG, PNG or WebP and the server did not call it something else (an HTML error page, an SVG).
A failure never fails the feed: it becomes one note in the feed's problems, starting with
:data:`NOTE_PREFIX`, which the next try replaces (or drops, once the image is kept). While no
copy from the feed's current URL is kept, every refresh tries again.
"""

from __future__ import annotations

import httpx

from poddarkiv.archive.artwork import (
    ARTWORK_TYPES,
    remove_artwork,
    save_artwork,
    sniff_image,
    stored_artwork,
)
from poddarkiv.archive.models import Feed
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.fetch import fetch
from poddarkiv.ingest.refresh import error_message

__all__ = ["ARTWORK_ACCEPT", "ARTWORK_MAX_BYTES", "NOTE_PREFIX", "keep_artwork", "with_note"]

#: The largest image kept, in bytes (a podcast's cover is rarely over a few hundred kB).
ARTWORK_MAX_BYTES = 2 * 1024 * 1024
ARTWORK_ACCEPT = "image/webp, image/png, image/jpeg;q=0.9"
#: How a note about the feed's image starts in the feed's problems.
NOTE_PREFIX = "image not kept: "
#: What a server may call an image we keep when it does not name its type.
_UNNAMED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _checked(body: bytes, content_type: str, url: str) -> None:
    """Raise :class:`FetchError` unless ``body`` is an image we keep, and not called another."""
    sniffed = sniff_image(body)
    if sniffed is None:
        said = f" (the server said {content_type})" if content_type else ""
        raise FetchError(f"{url} is not a JPEG, PNG or WebP image{said}", url=url)
    if content_type not in _UNNAMED and content_type not in ARTWORK_TYPES:
        raise FetchError(f"{url} was sent as {content_type}, not as an image we keep", url=url)


def keep_artwork(client: httpx.Client, feed: Feed, *, data: DataDir, settings: Settings,
                 policy: FetchPolicy | None = None) -> str | None:
    """Make sure the archive keeps a copy of ``feed.image``; return a note when it could not.

    No request is made when the stored copy came from the same URL. A feed that names no image
    any more loses its copy. Never raises for the image's own failures.
    """
    stored = stored_artwork(data, feed.id)
    if not feed.image:
        if stored is not None:
            remove_artwork(data, feed.id)
        return None
    if stored is not None and stored.source_url == feed.image:
        return None
    policy = policy or policy_for(settings).replace(max_bytes=ARTWORK_MAX_BYTES)
    try:
        result = fetch(client, feed.image, policy=policy, accept=ARTWORK_ACCEPT)
        _checked(result.body, result.content_type, feed.image)
        save_artwork(data, feed.id, result.body, source_url=feed.image, sha256=result.sha256)
    except Exception as exc:  # whatever the image does, the feed is stored: say why, go on
        return NOTE_PREFIX + error_message(exc)
    return None


def with_note(problems: tuple[str, ...], note: str | None) -> tuple[str, ...]:
    """``problems`` without an earlier image note, and with ``note`` when there is one."""
    kept = tuple(p for p in problems if not p.startswith(NOTE_PREFIX))
    return (*kept, note) if note else kept
