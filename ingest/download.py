"""Download an episode's audio into the data directory, safely and only once.

``audio/<episode id>.<ext>`` is the only name a download ever gets: the id is ours and the
extension comes from the media type (the response's, else the feed's), never from a title or a
URL. The body streams into ``audio/<id>.partial`` beside the target, bounded by the audio size
cap and checked against ``Content-Length``; the response's validator is kept in
``audio/<id>.partial.json`` so an interrupted download resumes with ``Range`` and ``If-Range``
(RFC 9110 §13.1.5: a changed file is then sent whole instead of being spliced onto the old
bytes). A full disk (``ENOSPC``, or ``EDQUOT`` for a spent quota) is the exception: the partial
file and its validator are removed, since nothing can be resumed into a disk with no room. The
finished file must probe as audio within the duration cap; it is then fsynced and renamed into
place atomically. A final file exists only once it was complete and checked, so an episode
whose audio file exists is never downloaded again, whatever its enclosure URL's CDN token says
now.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from poddarkiv.archive.files import sha256_file
from poddarkiv.archive.models import Episode
from poddarkiv.archive.store import DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import AudioError, FetchError
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.fetch import stream_to_file

__all__ = ["AUDIO_EXTENSIONS", "Probe", "audio_extension", "download_audio", "find_audio"]

#: Media type → file extension. Anything else is saved as ``.bin`` (PyAV sniffs the content).
AUDIO_EXTENSIONS = {
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg": "mp3",
    "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac",
    "audio/x-aac": "aac", "audio/ogg": "ogg", "audio/vorbis": "ogg", "audio/opus": "opus",
    "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/flac": "flac",
    "audio/x-flac": "flac", "audio/webm": "webm", "video/mp4": "mp4", "video/webm": "webm",
    "video/quicktime": "mov", "video/x-m4v": "m4v",
}
_SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

#: ``probe(path)`` raises :class:`AudioError` when the file is not usable audio.
Probe = Callable[[Path], object]


def audio_extension(*media_types: str) -> str:
    """The extension for the first media type we know, else ``"bin"``."""
    for media_type in media_types:
        ext = AUDIO_EXTENSIONS.get(media_type.split(";", 1)[0].strip().lower())
        if ext:
            return ext
    return "bin"


def find_audio(data: DataDir, episode: Episode) -> Path | None:
    """The episode's finished audio file, if one is on disk."""
    if episode.audio_path and re.fullmatch(rf"audio/{re.escape(episode.id)}\.\w+",
                                           episode.audio_path):
        path = data.root / episode.audio_path
        if path.is_file():
            return path
    for path in sorted(data.audio.glob(f"{episode.id}.*")):
        if path.is_file() and not path.name.endswith((".partial", ".partial.json")):
            return path
    return None


def _validator(headers: dict[str, str]) -> str | None:
    """A validator ``If-Range`` accepts: a strong ETag, else Last-Modified (RFC 9110 §13.1.5)."""
    etag = headers.get("etag", "").strip()
    if etag and not etag.startswith("W/"):
        return etag
    return headers.get("last-modified") or None


def _resume_point(partial: Path, meta: Path) -> tuple[int, str | None]:
    """Where to resume and with which validator; (0, None) when resuming is not safe."""
    try:
        validator = json.loads(meta.read_text("utf-8")).get("validator")
        size = partial.stat().st_size
    except (OSError, ValueError, AttributeError):
        return 0, None
    return (size, validator) if size > 0 and isinstance(validator, str) else (0, None)


def _stream(client: httpx.Client, url: str, partial: Path, meta: Path, *,
            policy: FetchPolicy) -> str:
    """Fetch into ``partial`` (resuming when safe); return the response's media type."""
    offset, validator = _resume_point(partial, meta)

    def remember(headers: dict[str, str]) -> None:
        try:
            meta.write_text(json.dumps({"validator": _validator(headers)}), "utf-8")
        except OSError as exc:  # say what the user knows: the audio's URL, not our file names
            raise FetchError(f"cannot save the download of {url}: {exc.strerror or exc}",
                             url=url) from exc

    try:
        result = stream_to_file(client, url, partial, policy=policy, offset=offset,
                                if_range=validator, on_headers=remember)
    except FetchError as exc:
        if exc.status != 416 or not offset:
            raise
        partial.unlink(missing_ok=True)  # the server cannot resume: start again once
        result = stream_to_file(client, url, partial, policy=policy, on_headers=remember)
    return result.content_type


def _disk_full(exc: FetchError) -> bool:
    """Whether the fetch failed because the disk is full (or the user's quota is spent)."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not possible on every platform; the rename is still atomic
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def download_audio(client: httpx.Client, episode: Episode, *, data: DataDir,
                   settings: Settings, policy: FetchPolicy | None = None,
                   probe: Probe | None = None) -> Episode:
    """Make sure the episode's audio is on disk; return the episode with ``audio_path`` set.

    ``audio_path`` is relative to the data directory and ``audio_sha256`` is the file's hash.
    Raises :class:`FetchError` when the download fails (a partial file stays for the next
    try, unless the disk is full) and :class:`AudioError` when the episode has no audio or the
    file is not audio within the duration cap (the partial file is removed).
    """
    if not _SAFE_ID.match(episode.id):
        raise AudioError(f"episode id {episode.id!r} cannot name a file")
    existing = find_audio(data, episode)
    if existing is not None:
        rel = existing.relative_to(data.root).as_posix()
        return episode.replace(audio_path=rel, audio_sha256=episode.audio_sha256
                               if rel == episode.audio_path and episode.audio_sha256
                               else sha256_file(existing))
    if episode.enclosure is None:
        raise AudioError(f"episode {episode.title!r} has no audio enclosure")
    data.audio.mkdir(parents=True, exist_ok=True)
    partial = data.audio / f"{episode.id}.partial"
    meta = data.audio / f"{episode.id}.partial.json"
    policy = policy or policy_for(settings, kind="audio")
    try:
        media_type = _stream(client, episode.enclosure.url, partial, meta, policy=policy)
    except FetchError as exc:
        if _disk_full(exc):  # nothing to resume into: give the space back
            partial.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
        raise
    try:
        _probe(probe, settings)(partial)
    except AudioError as exc:
        partial.unlink(missing_ok=True)
        meta.unlink(missing_ok=True)
        # The probe says what is wrong, never where; the user knows the audio by its URL.
        raise AudioError(f"the audio at {episode.enclosure.url}: {exc}") from exc
    final = data.audio / f"{episode.id}.{audio_extension(media_type, episode.enclosure.type)}"
    digest = sha256_file(partial)
    os.replace(partial, final)
    _fsync_dir(data.audio)
    meta.unlink(missing_ok=True)
    return episode.replace(audio_path=final.relative_to(data.root).as_posix(),
                           audio_sha256=digest)


def _probe(probe: Probe | None, settings: Settings) -> Probe:
    if probe is not None:
        return probe
    from poddarkiv.ingest.audio import probe_audio  # PyAV loads only when audio is checked

    return lambda path: probe_audio(path, max_duration_s=settings.audio_max_duration_s)
