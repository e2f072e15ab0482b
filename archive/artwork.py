"""The archive's own copy of each podcast's image: kept, read back, and what it may be.

The site never loads an image from a feed's host (its CSP allows images from itself only), so
the archive keeps a copy of each feed's image in ``artwork/``, named by the feed's id:
``artwork/<feed id>.<jpg|png|webp>``, with ``artwork/<feed id>.json`` beside it saying which
URL it came from, its media type and its SHA-256 (the site's ETag). Both are written
atomically, the image first, so a sidecar never names a file that is not whole; a copy without
its sidecar is not shown. Only JPEG, PNG and WebP are kept, recognised by their first bytes
(:func:`sniff_image`), never by a name or a header; SVG is refused, since it can carry script.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from poddarkiv.archive.files import atomic_write_bytes, atomic_write_text
from poddarkiv.archive.store import DataDir

__all__ = [
    "ARTWORK_TYPES",
    "Artwork",
    "feeds_with_artwork",
    "remove_artwork",
    "save_artwork",
    "sniff_image",
    "stored_artwork",
]

#: The media types kept, and each one's file extension.
ARTWORK_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class Artwork:
    """A stored copy: its file, media type, hash, and the URL it was fetched from."""

    feed_id: str
    file_name: str
    media_type: str
    sha256: str
    source_url: str


def sniff_image(body: bytes) -> str | None:
    """The media type ``body`` starts like (JPEG, PNG or WebP), else ``None``."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(body) >= 12 and body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


def _sidecar(feed_id: str) -> str:
    return f"{feed_id}.json"


def stored_artwork(data: DataDir, feed_id: str) -> Artwork | None:
    """The feed's stored copy, or ``None`` when there is none (or it is not whole)."""
    if not _SAFE_ID.match(feed_id):
        return None
    try:
        meta = json.loads((data.artwork / _sidecar(feed_id)).read_text("utf-8"))
        media_type, sha256, source_url = meta["media_type"], meta["sha256"], meta["source_url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    ext = ARTWORK_TYPES.get(media_type) if isinstance(media_type, str) else None
    if ext is None or not isinstance(sha256, str) or not isinstance(source_url, str):
        return None
    file_name = f"{feed_id}.{ext}"
    if not (data.artwork / file_name).is_file():
        return None
    return Artwork(feed_id, file_name, media_type, sha256, source_url)


def save_artwork(data: DataDir, feed_id: str, body: bytes, *, source_url: str,
                 sha256: str) -> Artwork:
    """Keep ``body`` as the feed's copy; raises :class:`ValueError` when it is not an image
    we keep (or the id cannot name a file)."""
    media_type = sniff_image(body)
    if media_type is None or not _SAFE_ID.match(feed_id):
        raise ValueError("not a JPEG, PNG or WebP image" if media_type is None
                         else f"feed id {feed_id!r} cannot name a file")
    artwork = Artwork(feed_id, f"{feed_id}.{ARTWORK_TYPES[media_type]}", media_type, sha256,
                      source_url)
    atomic_write_bytes(data.artwork / artwork.file_name, body)
    atomic_write_text(data.artwork / _sidecar(feed_id), json.dumps(
        {"source_url": source_url, "media_type": media_type, "sha256": sha256}))
    for ext in ARTWORK_TYPES.values():  # an earlier copy of another type
        if f"{feed_id}.{ext}" != artwork.file_name:
            (data.artwork / f"{feed_id}.{ext}").unlink(missing_ok=True)
    return artwork


def remove_artwork(data: DataDir, feed_id: str) -> None:
    """Forget the feed's copy (its feed names no image any more); the sidecar goes first."""
    if not _SAFE_ID.match(feed_id):
        return
    (data.artwork / _sidecar(feed_id)).unlink(missing_ok=True)
    for ext in ARTWORK_TYPES.values():
        (data.artwork / f"{feed_id}.{ext}").unlink(missing_ok=True)


def feeds_with_artwork(data: DataDir) -> frozenset[str]:
    """The ids of the feeds with a stored copy (one listing of the folder, for a page)."""
    try:
        names = {entry.name for entry in data.artwork.iterdir()}
    except OSError:
        return frozenset()
    return frozenset(
        name[:-5] for name in names if name.endswith(".json")
        and any(f"{name[:-5]}.{ext}" in names for ext in ARTWORK_TYPES.values()))
