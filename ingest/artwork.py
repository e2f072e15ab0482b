"""Feed and episode images into the archive (``archive.artwork``), each URL fetched once.

The image is fetched through the guarded client like everything else (address guard, redirects
checked hop by hop, deadline), under a small size cap, and kept only when its first bytes say
JPEG, PNG or WebP and the server did not call it something else (an HTML error page, an SVG).
A failure never fails the feed: it becomes one note in the feed's problems, starting with
:data:`NOTE_PREFIX`, which the next try replaces (or drops, once the image is kept). While no
copy from the feed's current URL is kept, every refresh tries again.

Episode images (:class:`EpisodeImages`) are kept by URL: one request per distinct URL, none
when the URL is the feed's own image (the feed's copy serves) or a copy of it is kept. A run
makes at most :data:`EPISODE_IMAGE_FETCHES` such requests; the images left over are fetched
by later runs (:meth:`EpisodeImages.catch_up`). A failure is a note on the episode's outcome
(:class:`~poddarkiv.archive.models.EpisodeNote` ``episode_image_not_kept``, with the URL and
the reason), and is recorded by the archive so that only processing an episode again
(not every run) tries that URL again.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import httpx

from poddarkiv.archive.artwork import (
    ARTWORK_TYPES,
    image_tried,
    refuse_image,
    remove_artwork,
    save_artwork,
    save_image,
    sniff_image,
    stored_artwork,
    stored_image,
)
from poddarkiv.archive.models import Episode, EpisodeNote, Feed
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.fetch import FetchResult, fetch
from poddarkiv.ingest.refresh import error_message

__all__ = [
    "ARTWORK_ACCEPT",
    "ARTWORK_MAX_BYTES",
    "EPISODE_IMAGE_FETCHES",
    "NOTE_PREFIX",
    "EpisodeImages",
    "keep_artwork",
    "with_note",
]

#: The largest image kept, in bytes (a podcast's cover is rarely over a few hundred kB).
ARTWORK_MAX_BYTES = 2 * 1024 * 1024
ARTWORK_ACCEPT = "image/webp, image/png, image/jpeg;q=0.9"
#: How a note about the feed's image starts in the feed's problems.
NOTE_PREFIX = "image not kept: "
#: The most episode-image requests one run makes. At the 2 MiB cap and the fetch deadline this
#: bounds the run's image work to minutes, so a back catalogue of 10,000 distinct images does
#: not stall the run that first meets it: the rest come over the following runs.
EPISODE_IMAGE_FETCHES = 200
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


def _image_policy(settings: Settings) -> FetchPolicy:
    return policy_for(settings).replace(max_bytes=ARTWORK_MAX_BYTES)


def _fetch_image(client: httpx.Client, url: str, policy: FetchPolicy) -> FetchResult:
    """The image at ``url``, through the guarded client, checked to be one we keep."""
    result = fetch(client, url, policy=policy, accept=ARTWORK_ACCEPT)
    _checked(result.body, result.content_type, url)
    return result


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
    try:
        result = _fetch_image(client, feed.image, policy or _image_policy(settings))
        save_artwork(data, feed.id, result.body, source_url=feed.image, sha256=result.sha256)
    except Exception as exc:  # whatever the image does, the feed is stored: say why, go on
        return NOTE_PREFIX + error_message(exc)
    return None


def with_note(problems: tuple[str, ...], note: str | None) -> tuple[str, ...]:
    """``problems`` without an earlier image note, and with ``note`` when there is one."""
    kept = tuple(p for p in problems if not p.startswith(NOTE_PREFIX))
    return (*kept, note) if note else kept


@dataclass(slots=True)
class EpisodeImages:
    """Keeps episodes' images for one run: each URL tried at most once, within ``budget``
    requests; :meth:`keep` and :meth:`catch_up` return the note for the episode, if any."""

    client: httpx.Client
    data: DataDir
    settings: Settings
    budget: int = EPISODE_IMAGE_FETCHES
    policy: FetchPolicy | None = None
    #: This run's answer per URL (``None``: kept), so a shared URL is fetched once.
    _tried: dict[str, EpisodeNote | None] = field(default_factory=dict)

    def keep(self, episode: Episode, feed: Feed) -> EpisodeNote | None:
        """Make sure ``episode``'s image is kept (a request only when no copy of its URL is);
        a URL refused before is tried again, since the episode is being processed again."""
        url = episode.image
        if not url or url == feed.image or stored_image(self.data, url) is not None:
            return None
        return self._fetch(url)

    def catch_up(self, episode: Episode, feed: Feed) -> EpisodeNote | None:
        """:meth:`keep` for an episode processed before, for a URL never tried (a run's
        requests were spent, or the archive predates episode images); no request otherwise."""
        url = episode.image
        if not url or url == feed.image:
            return None
        if url not in self._tried and image_tried(self.data, url):
            return None
        return self._fetch(url)

    def _fetch(self, url: str) -> EpisodeNote | None:
        if url in self._tried:
            return self._tried[url]
        if self.budget <= 0:
            return None  # this run's requests are spent: a later run catches up
        self.budget -= 1
        note: EpisodeNote | None = None
        try:
            result = _fetch_image(self.client, url, self.policy or _image_policy(self.settings))
            save_image(self.data, url, result.body, sha256=result.sha256)
        except Exception as exc:  # whatever the image does, the episode stands: say why
            reason = error_message(exc)
            note = EpisodeNote.of("episode_image_not_kept", url=url, reason=reason)
            _refuse(self.data, url, reason)
        self._tried[url] = note
        return note


def _refuse(data: DataDir, url: str, reason: str) -> None:
    # Not recorded (a full disk, say): a later run tries the URL again, which is all it costs.
    with contextlib.suppress(OSError):
        refuse_image(data, url, reason)
