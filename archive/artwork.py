"""The archive's own copies of podcast and episode images: kept, read back, and what they may be.

The site never loads an image from a feed's host (its CSP allows images from itself only), so
the archive keeps a copy of each feed's image in ``artwork/``, named by the feed's id:
``artwork/<feed id>.<jpg|png|webp>``, with ``artwork/<feed id>.json`` beside it saying which
URL it came from, its media type and its SHA-256 (the site's ETag). Both are written
atomically, the image first, so a sidecar never names a file that is not whole; a copy without
its sidecar is not shown. Only JPEG, PNG and WebP are kept, recognised by their first bytes
(:func:`sniff_image`), never by a name or a header; SVG is refused, since it can carry script.

Episode images are kept the same way in ``artwork/e/``, but named by their *URL*
(:func:`image_key`: hex of its SHA-256, so a name is always safe), since many episodes share one
image: each distinct URL is one copy. An episode whose image is its feed's image uses the
feed's copy (:func:`episode_artwork`). A URL that could not be kept gets a sidecar without a
media type (:func:`refuse_image`), saying why, so that it is not tried again on every run.
An archive from before episode images simply has no ``artwork/e/``.

A copy kept by URL stays while some episode names that URL; :func:`remove_unused_images`
deletes the others (an episode removed, or its image URL changed). It is given the URLs in use
and touches nothing else: never a copy another episode still names, never a file it did not
name itself (a half-written temporary). It removes the sidecar first, so an interrupted sweep
leaves at worst an image file nobody shows, which the next sweep removes.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from poddarkiv.archive.files import atomic_write_bytes, atomic_write_text
from poddarkiv.archive.models import Episode
from poddarkiv.archive.store import DataDir

__all__ = [
    "ARTWORK_TYPES",
    "EPISODE_FOLDER",
    "Artwork",
    "episode_artwork",
    "feeds_with_artwork",
    "image_key",
    "image_tried",
    "refuse_image",
    "remove_artwork",
    "remove_unused_images",
    "save_artwork",
    "save_image",
    "sniff_image",
    "stored_artwork",
    "stored_image",
]

#: The media types kept, and each one's file extension.
ARTWORK_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
#: The folder under ``artwork/`` that holds the episode images, by URL.
EPISODE_FOLDER = "e"
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
#: Hex digits of the URL's SHA-256 that name an episode image (128 bits: no collisions).
_KEY_CHARS = 32
#: A file of ``artwork/e/`` as this module names it: a key, then a sidecar or an image.
_EPISODE_FILE = re.compile(
    "^([0-9a-f]{" + str(_KEY_CHARS) + r"})\.(json|" + "|".join(ARTWORK_TYPES.values()) + ")$")


@dataclass(frozen=True, slots=True)
class Artwork:
    """A stored copy: its key (the feed's id, or :func:`image_key`), its file (relative to
    ``artwork/``), media type, hash, and the URL it was fetched from."""

    key: str
    file_name: str
    media_type: str
    sha256: str
    source_url: str

    @property
    def by_url(self) -> bool:
        """Whether this is an episode image kept by its URL (not a feed's own copy)."""
        return self.file_name.startswith(f"{EPISODE_FOLDER}/")


def sniff_image(body: bytes) -> str | None:
    """The media type ``body`` starts like (JPEG, PNG or WebP), else ``None``."""
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(body) >= 12 and body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_key(url: str) -> str:
    """The safe file key (hex only) of the episode image at ``url``."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:_KEY_CHARS]


def _read_meta(folder: Path, key: str) -> dict[str, object] | None:
    try:
        meta = json.loads((folder / f"{key}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _stored(data: DataDir, prefix: str, key: str) -> Artwork | None:
    """The copy named ``key`` in ``artwork/<prefix>``, or ``None`` (none, or not whole)."""
    meta = _read_meta(data.artwork / prefix, key)
    if meta is None:
        return None
    media_type, sha256, source_url = (meta.get("media_type"), meta.get("sha256"),
                                      meta.get("source_url"))
    if not (isinstance(media_type, str) and media_type in ARTWORK_TYPES
            and isinstance(sha256, str) and isinstance(source_url, str)):
        return None  # a refused URL's sidecar (no media type), or not ours
    ext = ARTWORK_TYPES[media_type]
    file_name = f"{prefix}/{key}.{ext}" if prefix else f"{key}.{ext}"
    if not (data.artwork / file_name).is_file():
        return None
    return Artwork(key, file_name, media_type, sha256, source_url)


def _save(data: DataDir, prefix: str, key: str, body: bytes, *, source_url: str,
          sha256: str) -> Artwork:
    """Keep ``body`` as the copy named ``key``: the image, then its sidecar, then no other."""
    media_type = sniff_image(body)
    if media_type is None:
        raise ValueError("not a JPEG, PNG or WebP image")
    folder = data.artwork / prefix
    name = f"{key}.{ARTWORK_TYPES[media_type]}"
    atomic_write_bytes(folder / name, body)
    atomic_write_text(folder / f"{key}.json", json.dumps(
        {"source_url": source_url, "media_type": media_type, "sha256": sha256}))
    for ext in ARTWORK_TYPES.values():  # an earlier copy of another type
        if f"{key}.{ext}" != name:
            (folder / f"{key}.{ext}").unlink(missing_ok=True)
    return Artwork(key, f"{prefix}/{name}" if prefix else name, media_type, sha256, source_url)


def stored_artwork(data: DataDir, feed_id: str) -> Artwork | None:
    """The feed's stored copy, or ``None`` when there is none (or it is not whole)."""
    return _stored(data, "", feed_id) if _SAFE_ID.match(feed_id) else None


def save_artwork(data: DataDir, feed_id: str, body: bytes, *, source_url: str,
                 sha256: str) -> Artwork:
    """Keep ``body`` as the feed's copy; raises :class:`ValueError` when it is not an image
    we keep (or the id cannot name a file)."""
    if not _SAFE_ID.match(feed_id):
        raise ValueError(f"feed id {feed_id!r} cannot name a file")
    return _save(data, "", feed_id, body, source_url=source_url, sha256=sha256)


def stored_image(data: DataDir, url: str) -> Artwork | None:
    """The kept copy of the episode image at ``url``, or ``None``."""
    found = _stored(data, EPISODE_FOLDER, image_key(url))
    return found if found is not None and found.source_url == url else None


def save_image(data: DataDir, url: str, body: bytes, *, sha256: str) -> Artwork:
    """Keep ``body`` as the copy of the episode image at ``url`` (shared by every episode
    naming it); raises :class:`ValueError` when it is not an image we keep."""
    return _save(data, EPISODE_FOLDER, image_key(url), body, source_url=url, sha256=sha256)


def refuse_image(data: DataDir, url: str, reason: str) -> None:
    """Record that the episode image at ``url`` could not be kept, and why (no copy is shown;
    :func:`image_tried` says it was tried)."""
    if stored_image(data, url) is None:
        atomic_write_text(data.artwork / EPISODE_FOLDER / f"{image_key(url)}.json",
                          json.dumps({"source_url": url, "refused": reason}))


def image_tried(data: DataDir, url: str) -> bool:
    """Whether the episode image at ``url`` was kept or refused before."""
    meta = _read_meta(data.artwork / EPISODE_FOLDER, image_key(url))
    return meta is not None and meta.get("source_url") == url


def episode_artwork(data: DataDir, episode: Episode) -> Artwork | None:
    """The copy shown for ``episode``'s image: its feed's copy when that came from the same
    URL, else the copy kept by URL; ``None`` when the archive keeps neither."""
    if not episode.image:
        return None
    feed_copy = stored_artwork(data, episode.feed_id)
    if feed_copy is not None and feed_copy.source_url == episode.image:
        return feed_copy
    return stored_image(data, episode.image)


def remove_artwork(data: DataDir, feed_id: str) -> None:
    """Forget the feed's copy (its feed names no image any more); the sidecar goes first."""
    if not _SAFE_ID.match(feed_id):
        return
    (data.artwork / f"{feed_id}.json").unlink(missing_ok=True)
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


def remove_unused_images(data: DataDir, used_urls: Iterable[str]) -> int:
    """Delete the episode images kept by URL (and refusals) that no URL in ``used_urls``
    names any more; return how many copies went. Call it where no image is being kept at the
    same time (ingest, under its lock). Files it did not name itself are left alone."""
    folder = data.artwork / EPISODE_FOLDER
    used = {image_key(url) for url in used_urls}
    try:
        names = sorted(entry.name for entry in folder.iterdir())
    except OSError:
        return 0  # no episode image was ever kept
    unused: dict[str, list[str]] = {}
    for name in names:
        found = _EPISODE_FILE.match(name)
        if found is not None and found.group(1) not in used:
            unused.setdefault(found.group(1), []).append(name)
    for key, files in unused.items():
        # The sidecar first: from then on the copy is not shown, whatever is left of it.
        for name in sorted(files, key=lambda n: n != f"{key}.json"):
            (folder / name).unlink(missing_ok=True)
    return len(unused)
