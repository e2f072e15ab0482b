"""The archive's records: typed, frozen, and free of third-party types.

Everything that crosses a module boundary inside poddarkiv is one of these. Third-party
structures (feedparser's ``FeedParserDict``, Whisper's result dicts, Whoosh hits) are converted
into them at the boundary module that talks to that library, and only there.

Times are seconds (``float``) from the start of the episode's audio; datetimes are timezone-aware
UTC.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "Chapter",
    "Enclosure",
    "Episode",
    "EpisodeFailure",
    "EpisodeNote",
    "EpisodeNoteCode",
    "EpisodeThemes",
    "Feed",
    "NoteValue",
    "Person",
    "Segment",
    "SkippedItem",
    "Transcript",
    "TranscriptLink",
    "TranscriptSource",
    "Word",
]

TranscriptSource = Literal["whisper", "publisher"]
#: What a reader may need to know about how an episode was archived (:class:`EpisodeNote`).
#: ``publisher_*``: the publisher's transcript or chapters could not be used (``url``/``urls``,
#: ``reason``), or its transcript has no timings; ``episode_image_not_kept`` (``url``,
#: ``reason``); ``guard_*``: what the hallucination guards removed (``start``, ``end`` in
#: seconds, ``text``; ``guard_loop``: ``phrase``, ``count``, ``start``; ``guard_runaway`` also
#: ``chars_per_s``); ``text``: a note stored as free English text before notes had codes.
EpisodeNoteCode = Literal[
    "publisher_transcript_unusable", "publisher_transcript_untimed",
    "publisher_chapters_unusable", "episode_image_not_kept", "guard_credit",
    "guard_stock_phrase", "guard_silence", "guard_runaway", "guard_loop",
    "guard_repeated_segment", "guard_prompt_echo", "text",
]
NoteValue = str | int | float


@dataclass(frozen=True, slots=True)
class Enclosure:
    """The audio file an episode points at (RSS ``<enclosure>``)."""

    url: str
    type: str = ""
    length: int | None = None


@dataclass(frozen=True, slots=True)
class TranscriptLink:
    """A publisher transcript offered by the feed (Podcasting 2.0 ``<podcast:transcript>``)."""

    url: str
    type: str
    language: str | None = None
    rel: str | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A person named by the feed (Podcasting 2.0 ``<podcast:person>``)."""

    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True, slots=True)
class Chapter:
    """A chapter: where it starts and what it is called."""

    start: float
    title: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedItem:
    """An item of a feed that did not become an episode, and why (nothing is dropped silently).

    ``count`` is more than one for an entry that stands for many items (past a cap)."""

    title: str
    guid: str
    reason: str
    count: int = 1


@dataclass(frozen=True, slots=True)
class Feed:
    """A podcast feed as the catalogue knows it.

    ``id`` is our own stable identifier (derived from the first URL we saw); ``url`` is where the
    feed lives now and changes when the publisher moves it permanently; ``previous_urls`` are
    where it lived before, oldest first. ``problems`` are what the last parse noticed (the
    parser's complaints, ignored values, moves refused) and why the feed's image is not kept
    (``ingest.artwork``), ``skipped`` the items that did not become episodes, and
    ``item_count`` how many items the feed held.
    """

    id: str
    url: str
    title: str = ""
    description: str = ""
    link: str | None = None
    language: str | None = None
    image: str | None = None
    author: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_sha256: str | None = None
    error_count: int = 0
    last_error: str | None = None
    last_fetched: datetime | None = None
    next_fetch_after: datetime | None = None
    previous_urls: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    skipped: tuple[SkippedItem, ...] = ()
    item_count: int = 0

    def replace(self, **changes: Any) -> Feed:
        """A copy with ``changes`` applied (records are immutable)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Episode:
    """One episode of a feed, with what the feed said about it.

    ``id`` is our own identifier, derived from the episode's identity (guid, else the normalised
    enclosure URL, else the link, else title and date) so that re-ingesting never duplicates it.
    ``audio_path`` is relative to the data directory once the audio has been downloaded.
    ``chapters`` are the chapters the feed carries inline (Podlove Simple Chapters). An
    episode with neither audio nor a publisher transcript is :attr:`text_only`: the archive
    keeps its show notes.
    """

    id: str
    feed_id: str
    guid: str
    title: str
    description: str = ""
    link: str | None = None
    published: datetime | None = None
    duration_s: float | None = None
    season: int | None = None
    number: int | None = None
    image: str | None = None
    enclosure: Enclosure | None = None
    transcripts: tuple[TranscriptLink, ...] = ()
    chapters_url: str | None = None
    persons: tuple[Person, ...] = ()
    audio_path: str | None = None
    audio_sha256: str | None = None
    chapters: tuple[Chapter, ...] = ()

    @property
    def text_only(self) -> bool:
        """Whether the feed gave only text for this episode (no audio, no transcript)."""
        return self.enclosure is None and not self.transcripts

    def replace(self, **changes: Any) -> Episode:
        """A copy with ``changes`` applied (records are immutable)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class EpisodeFailure:
    """Why an episode's last attempt failed, and when to try again.

    ``retry_at`` is ``None`` for a failure that trying again cannot fix (the audio is over a
    limit, or is not audio): the episode waits until its enclosure changes (``enclosure_url``
    is the one that failed).
    """

    episode_id: str
    error: str
    count: int
    failed_at: datetime
    retry_at: datetime | None
    enclosure_url: str | None = None


@dataclass(frozen=True, slots=True)
class Word:
    """One word with its timing, when the engine gives word timestamps."""

    start: float
    end: float
    text: str
    probability: float | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of speech: the unit we index, link to and show beside the player.

    ``avg_logprob``, ``no_speech_prob`` and ``compression_ratio`` are what the Whisper engine
    reported for the segment (``None`` for a publisher's transcript, or one stored before they
    were kept); :mod:`poddarkiv.archive.confidence` turns them into one confidence.
    ``speaker`` is who speaks, when the publisher's transcript says so (a WebVTT voice tag, a
    Podcasting 2.0 JSON ``speaker``); Whisper does not tell voices apart, so its segments have
    none.
    """

    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    words: tuple[Word, ...] = ()
    compression_ratio: float | None = None
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class EpisodeNote:
    """Something to tell the reader about how an episode was archived: a code and its
    parameters (URLs tried, a reason, a time), never a sentence. The site says it in the
    reader's language (``poddarkiv.site.episode_notes``), and so does the CLI; a ``reason``
    is the error's own English message, kept as data."""

    code: EpisodeNoteCode
    params: tuple[tuple[str, NoteValue], ...] = ()

    @classmethod
    def of(cls, code: EpisodeNoteCode, **params: NoteValue) -> EpisodeNote:
        """The note ``code`` with ``params``, sorted by name (so equal notes are equal)."""
        return cls(code, tuple(sorted(params.items())))

    def get(self, name: str) -> NoteValue | None:
        """The parameter ``name``, or ``None``."""
        return dict(self.params).get(name)


@dataclass(frozen=True, slots=True)
class Transcript:
    """A complete transcript of one episode's audio.

    ``source`` says where it came from: our Whisper run (``engine`` and ``model`` say which) or
    the publisher's own transcript (``model`` is then the transcript's URL). ``notes`` records
    what guards removed or changed, and why the publisher's transcript was not used, so
    nothing is dropped silently.
    """

    episode_id: str
    source: TranscriptSource
    language: str
    segments: tuple[Segment, ...]
    engine: str = ""
    model: str = ""
    model_sha256: str | None = None
    duration_s: float | None = None
    created: datetime | None = None
    notes: tuple[EpisodeNote, ...] = field(default=())

    @property
    def text(self) -> str:
        """The whole transcript as one string."""
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())

    def replace(self, **changes: Any) -> Transcript:
        """A copy with ``changes`` applied (records are immutable)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, slots=True)
class EpisodeThemes:
    """Themes assigned to one episode: ``(slug, score)`` pairs, and slugs per segment index."""

    episode: tuple[tuple[str, float], ...] = ()
    segments: Mapping[int, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def slugs(self) -> tuple[str, ...]:
        """The episode's theme slugs, best first."""
        return tuple(slug for slug, _ in self.episode)
