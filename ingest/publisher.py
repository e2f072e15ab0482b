"""Publisher transcripts: choose the best one a feed offers, fetch it, read it into segments.

Public bodies in Sweden must offer text alternatives to recorded audio, and many of their feeds
link transcripts with ``<podcast:transcript>``. When an episode has one, poddarkiv uses it
instead of running Whisper (``--prefer publisher``, the default).

Choice: the settings' language first (``sv``), then transcripts with no language given, then
the rest; within each, timed formats before untimed ones: WebVTT, SRT, JSON, HTML, plain text.
If the best link fails (HTTP error, unreadable body, no segments), the next is tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import httpx

from poddarkiv.archive.models import Episode, EpisodeNote, Segment, Transcript, TranscriptLink
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError, TranscriptionError
from poddarkiv.ingest.captions import (
    parse_html_transcript,
    parse_json_transcript,
    parse_vtt_or_srt,
)
from poddarkiv.ingest.client import FetchPolicy, policy_for
from poddarkiv.ingest.fetch import fetch

__all__ = [
    "ENGINE",
    "TranscriptFormat",
    "fetch_publisher_transcript",
    "parse_publisher_transcript",
    "rank_transcript_links",
    "transcript_format",
]

#: ``Transcript.engine`` for publisher transcripts.
ENGINE = "publisher"

TranscriptFormat = Literal["vtt", "srt", "json", "html", "text"]
_ORDER: tuple[TranscriptFormat, ...] = ("vtt", "srt", "json", "html", "text")
_TYPES: dict[str, TranscriptFormat] = {
    "text/vtt": "vtt", "text/webvtt": "vtt",
    "application/x-subrip": "srt", "application/srt": "srt", "application/x-srt": "srt",
    "text/srt": "srt", "text/x-srt": "srt",
    "application/json": "json", "text/json": "json",
    "text/html": "html", "application/xhtml+xml": "html",
    "text/plain": "text",
}
_EXTENSIONS: dict[str, TranscriptFormat] = {
    "vtt": "vtt", "srt": "srt", "json": "json", "html": "html", "htm": "html", "txt": "text",
}
_ACCEPT = "text/vtt, application/x-subrip, application/json, text/html;q=0.8, */*;q=0.5"


def transcript_format(content_type: str, url: str = "", body: bytes = b""
                      ) -> TranscriptFormat | None:
    """The format named by a media type, else by the URL's extension, else sniffed."""
    media = content_type.split(";", 1)[0].strip().lower()
    if body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"WEBVTT"):
        return "vtt"  # the signature is certain, whatever the server's Content-Type says
    if media in _TYPES and media != "text/plain":
        return _TYPES[media]
    extension = url.split("?", 1)[0].rsplit("/", 1)[-1].rpartition(".")[2].lower()
    if extension in _EXTENSIONS:
        return _EXTENSIONS[extension]
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"WEBVTT"):
        return "vtt"
    if head.startswith((b"{", b"[")):
        return "json"
    if b"-->" in head:
        return "srt"
    if head.startswith(b"<"):
        return "html"
    return _TYPES.get(media) if media or body else None


def _language_rank(link: TranscriptLink, language: str) -> int:
    if link.language is None:
        return 1
    return 0 if link.language.split("-", 1)[0] == language.split("-", 1)[0] else 2


def rank_transcript_links(links: Iterable[TranscriptLink], *, language: str = "sv"
                          ) -> list[TranscriptLink]:
    """The links worth trying, best first; links in no format we read are left out."""
    known = [(link, transcript_format(link.type, link.url)) for link in links]
    usable = [(link, fmt) for link, fmt in known if fmt is not None]
    usable.sort(key=lambda pair: (_language_rank(pair[0], language), _ORDER.index(pair[1])))
    return [link for link, _ in usable]


def _decode(body: bytes, content_type: str) -> str:
    charset = ""
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"')
    for encoding in (charset or "utf-8-sig", "utf-8-sig", "cp1252"):
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", "replace")


def parse_publisher_transcript(body: bytes, content_type: str, *, url: str = ""
                               ) -> tuple[Segment, ...]:
    """Segments from a transcript body in any format this module reads.

    Raises :class:`TranscriptionError` when the format is unknown.
    """
    fmt = transcript_format(content_type, url, body)
    if fmt is None:
        raise TranscriptionError(f"unknown transcript format {content_type!r} at {url}")
    text = _decode(body, content_type)
    if fmt in ("vtt", "srt"):
        return parse_vtt_or_srt(text)
    if fmt == "json":
        return parse_json_transcript(text)
    return parse_html_transcript(text)


def _transcript(episode: Episode, link: TranscriptLink, segments: tuple[Segment, ...], *,
                language: str, clock: Clock) -> Transcript:
    notes = []
    if all(s.start == 0.0 and s.end == 0.0 for s in segments):
        notes.append(EpisodeNote.of("publisher_transcript_untimed"))
    end = max((s.end for s in segments), default=0.0)
    return Transcript(
        episode_id=episode.id, source="publisher",
        language=(link.language or language).split("-", 1)[0],
        segments=segments, engine=ENGINE, model=link.url,
        duration_s=episode.duration_s or (end or None), created=clock(), notes=tuple(notes),
    )


def fetch_publisher_transcript(client: httpx.Client, episode: Episode, *, settings: Settings,
                               policy: FetchPolicy | None = None,
                               clock: Clock = utcnow) -> Transcript | None:
    """The episode's publisher transcript, or ``None`` when the feed offers none we can read.

    Links are tried best first (see the module docstring). When every usable link fails, the
    last error is raised (:class:`FetchError` or :class:`TranscriptionError`), so the caller
    can fall back to Whisper and say why.
    """
    policy = policy or policy_for(settings)
    error: FetchError | TranscriptionError | None = None
    for link in rank_transcript_links(episode.transcripts, language=settings.language):
        try:
            result = fetch(client, link.url, policy=policy, accept=_ACCEPT)
            segments = parse_publisher_transcript(
                result.body, result.headers.get("content-type", link.type), url=link.url)
        except (FetchError, TranscriptionError) as exc:
            error = exc
            continue
        if segments:
            return _transcript(episode, link, segments, language=settings.language, clock=clock)
        error = TranscriptionError(f"no segments in the publisher transcript {link.url}")
    if error is not None:
        raise error
    return None
