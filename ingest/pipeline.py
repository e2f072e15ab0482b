"""Ingestion, orchestrated: refresh feeds, fetch audio, transcribe, store, index.

This module only decides *what* happens in which order; every step lives in its own module and
every dependency (HTTP client, transcriber, index, clock) is passed in. A failure in one feed or
one episode, whatever it is, is recorded in the report and the run goes on with the next. A
failed episode then waits before it is tried again (:mod:`poddarkiv.ingest.retry`); the report
counts the episodes that are waiting.

Order per run:

1. refresh each feed (one conditional request when nothing changed), and keep a copy of its
   image (:mod:`poddarkiv.ingest.artwork`: a request only when the image's URL changed);
2. for every episode without a current transcript: the publisher's transcript when the feed
   offers one and the settings prefer it, else download the audio and transcribe it, here or
   on the cluster (``jobs``). When the publisher's transcript was offered but could not be
   used, the Whisper transcript carries an :class:`~poddarkiv.archive.models.EpisodeNote`
   saying so, on both paths alike (:func:`_with_notes`; a cluster job keeps the note in its
   catalogue record until it is collected);
3. save the transcript (the old one stays current until the new file is complete), then index
   the episode. Episodes whose index documents are missing (say after a crash between the two)
   are indexed again. A text-only episode (no audio, no transcript: show notes only) is
   indexed without a transcript.
4. keep a copy of each processed episode's image (``ingest.artwork.EpisodeImages``: one
   request per distinct URL, none when the URL is the feed's image or is kept already, so an
   unchanged feed costs no request); a failure is a note on the episode's outcome. Requests
   per run are bounded (``EPISODE_IMAGE_FETCHES``): done episodes whose image was never tried
   are caught up, within what is left, on this and later runs.
5. delete the kept episode images that no episode names any more (an episode removed with its
   feed, or its image URL changed): ``archive.artwork.remove_unused_images``, under the ingest
   lock, so no image is being kept meanwhile. The report counts them (``images_removed``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

import httpx

from poddarkiv.archive.artwork import remove_unused_images
from poddarkiv.archive.chapters import parse_chapters_json
from poddarkiv.archive.codec import note_to_dict
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.knowledge import save_publisher_chapters
from poddarkiv.archive.models import Episode, EpisodeFailure, EpisodeNote, Feed, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.config import Settings
from poddarkiv.errors import ClusterError, PoddarkivError
from poddarkiv.ingest.artwork import NOTE_PREFIX, EpisodeImages, keep_artwork, with_note
from poddarkiv.ingest.download import download_audio
from poddarkiv.ingest.fetch import fetch, policy_for
from poddarkiv.ingest.identity import feed_id_for
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.publisher import fetch_publisher_transcript, rank_transcript_links
from poddarkiv.ingest.refresh import FeedOutcome, error_message, refresh_feed
from poddarkiv.ingest.retry import failure_after, is_limit, is_local, is_waiting

__all__ = [
    "EpisodeOutcome",
    "IngestReport",
    "JobQueue",
    "Progress",
    "TranscriberFactory",
    "ingest",
]

EpisodeStatus = Literal["publisher", "transcribed", "indexed", "queued", "failed"]


@dataclass(frozen=True, slots=True)
class EpisodeOutcome:
    """What happened to one episode in this run."""

    episode_id: str
    title: str
    status: EpisodeStatus
    error: str | None = None
    audio_s: float | None = None
    #: The failure was the audio itself (over a limit, not audio): no retry until it changes.
    limit: bool = False
    #: The failure was this machine's (a full disk): the next run tries again, no backoff.
    local: bool = False
    #: What did not fail the episode but the reader should know: the publisher's transcript or
    #: chapters could not be used, so Whisper's transcript or suggested chapters stand in; the
    #: episode's image could not be kept. Codes, said in words by ``site.episode_notes``.
    notes: tuple[EpisodeNote, ...] = ()


#: Skipped items listed per feed in a saved report (the feed keeps the full list).
MAX_SKIPPED_IN_REPORT = 50


@dataclass(frozen=True, slots=True)
class IngestReport:
    """The whole run: per feed and per episode, and whether anything failed.

    ``waiting`` counts the episodes not tried in this run because an earlier failure is
    still backing off (``--retry-failed`` tries them now).
    """

    started: datetime
    finished: datetime
    feeds: tuple[FeedOutcome, ...] = ()
    episodes: tuple[EpisodeOutcome, ...] = ()
    waiting: int = 0
    #: Kept episode images deleted because no episode names them any more.
    images_removed: int = 0

    @property
    def failed(self) -> bool:
        return any(f.status == "failed" for f in self.feeds) or any(
            e.status == "failed" for e in self.episodes)

    def counts(self) -> dict[str, int]:
        """How many feeds and episodes ended in each status."""
        out: dict[str, int] = {}
        for status in [f"feed:{f.status}" for f in self.feeds] + [
                f"episode:{e.status}" for e in self.episodes]:
            out[status] = out.get(status, 0) + 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat(),
            "failed": self.failed,
            "counts": self.counts(),
            "waiting": self.waiting,
            "images_removed": self.images_removed,
            "feeds": [_feed_dict(f) for f in self.feeds],
            "episodes": [{"episode_id": e.episode_id, "title": e.title, "status": e.status,
                          "error": e.error, "notes": [note_to_dict(n) for n in e.notes]}
                         for e in self.episodes],
        }


def _feed_dict(f: FeedOutcome) -> dict[str, object]:
    return {
        "feed_id": f.feed_id, "url": f.url, "status": f.status, "new": len(f.new_episode_ids),
        "updated": len(f.updated_episode_ids), "error": f.error, "moved_to": f.moved_to,
        "items": f.item_count, "skipped_count": f.skipped_count, "text_only": f.text_only,
        "skipped": [{"title": s.title, "guid": s.guid, "reason": s.reason, "count": s.count}
                    for s in f.skipped[:MAX_SKIPPED_IN_REPORT]],
        "problems": list(f.problems),
    }


class Progress(Protocol):
    """Where a run reports what it is doing (the CLI prints; tests record)."""

    def feed_done(self, outcome: FeedOutcome) -> None: ...
    def episode_started(self, episode: Episode, what: str) -> None: ...
    def audio_progress(self, done_s: float, total_s: float) -> None: ...
    def episode_done(self, outcome: EpisodeOutcome) -> None: ...


class _Silent:
    def feed_done(self, outcome: FeedOutcome) -> None: ...
    def episode_started(self, episode: Episode, what: str) -> None: ...
    def audio_progress(self, done_s: float, total_s: float) -> None: ...
    def episode_done(self, outcome: EpisodeOutcome) -> None: ...


class TranscribeStep(Protocol):
    """Turns an episode's downloaded audio into a transcript."""

    def __call__(self, episode: Episode, *,
                 progress: Callable[[float, float], None]) -> Transcript: ...


TranscriberFactory = Callable[[], TranscribeStep]


class JobQueue(Protocol):
    """Transcription elsewhere (Celery workers: :class:`poddarkiv.ingest.cluster.ClusterQueue`).

    Episodes are submitted instead of transcribed here; once every episode is through, the
    run collects the transcripts and stores and indexes them itself (the only writer)."""

    def pending(self, episode_id: str) -> bool: ...
    def submit(self, episode: Episode, *, notes: tuple[EpisodeNote, ...] = ()) -> None:
        """Send ``episode`` to be transcribed; ``notes`` come back with it from :meth:`collect`
        (kept with the job, so a later run collecting it has them too)."""
    def collect(self) -> Iterable[
        tuple[Episode, Transcript | PoddarkivError, tuple[EpisodeNote, ...]]]: ...


ThemesStep = Callable[[Episode, Transcript | None], object]


@dataclass(slots=True)
class _Run:
    settings: Settings
    catalogue: Catalogue
    index: ArchiveIndex
    client: httpx.Client
    transcriber_factory: TranscriberFactory
    progress: Progress
    themes: ThemesStep | None
    jobs: JobQueue | None = None
    _transcriber: TranscribeStep | None = field(default=None)
    clock: Clock = utcnow
    waiting: int = 0
    images: EpisodeImages | None = None

    def transcriber(self) -> TranscribeStep:
        # Loaded lazily: a run with nothing to transcribe never loads Whisper.
        if self._transcriber is None:
            self._transcriber = self.transcriber_factory()
        return self._transcriber


def ingest(
    settings: Settings,
    urls: Sequence[str] = (),
    *,
    catalogue: Catalogue,
    index: ArchiveIndex,
    client: httpx.Client,
    transcriber_factory: TranscriberFactory,
    progress: Progress | None = None,
    themes: ThemesStep | None = None,
    clock: Clock = utcnow,
    wait_s: float = 0.0,
    jobs: JobQueue | None = None,
) -> IngestReport:
    """Refresh ``urls`` (or every known feed), then transcribe and index what is new.

    With ``jobs``, Whisper runs on the cluster: episodes are queued, then collected.
    Raises :class:`~poddarkiv.errors.BusyError` when another ingest holds the data directory.
    """
    run = _Run(settings, catalogue, index, client, transcriber_factory,
               progress or _Silent(), themes, jobs=jobs, clock=clock,
               images=EpisodeImages(client, catalogue.data, settings))
    started = clock()
    with ingest_lock(catalogue.data.ingest_lock, wait_s=wait_s):
        feed_outcomes = tuple(_refresh_all(run, urls, clock))
        episode_outcomes = tuple(_process_episodes(run))
        removed = _remove_unused_images(run)
    report = IngestReport(started, clock(), feed_outcomes, episode_outcomes, run.waiting,
                          images_removed=removed)
    catalogue.save_report(report.started, report.finished, report.to_dict())
    return report


def _remove_unused_images(run: _Run) -> int:
    """Delete the kept episode images no episode names any more; a failure (a read-only
    disk, say) leaves them for a later run, as it costs only space."""
    try:
        return remove_unused_images(run.catalogue.data, run.catalogue.episode_image_urls())
    except (OSError, PoddarkivError):
        return 0


def _refresh_all(run: _Run, urls: Sequence[str], clock: Callable[[], datetime]
                 ) -> Iterable[FeedOutcome]:
    targets: list[str | Feed] = list(urls) if urls else list(run.catalogue.feeds())
    for target in targets:
        try:
            outcome = refresh_feed(run.catalogue, run.client, target, settings=run.settings,
                                   clock=clock)
        except Exception as exc:  # even a broken catalogue fails this feed only
            feed_id, url = (target.id, target.url) if isinstance(target, Feed) else (
                feed_id_for(target), target)
            outcome = FeedOutcome(feed_id, url, "failed", error=error_message(exc))
        if outcome.status in ("new", "updated", "unchanged"):
            outcome = _keep_artwork(run, outcome)
        run.progress.feed_done(outcome)
        yield outcome


def _keep_artwork(run: _Run, outcome: FeedOutcome) -> FeedOutcome:
    """Keep the feed's image; a failure becomes a note in the feed's problems, never more."""
    try:
        feed = run.catalogue.feed(outcome.feed_id)
        if feed is None:
            return outcome
        note = keep_artwork(run.client, feed, data=run.catalogue.data, settings=run.settings)
        problems = with_note(feed.problems, note)
        if problems != feed.problems:
            run.catalogue.save_feed(feed.replace(problems=problems))
    except Exception as exc:  # the feed was stored: its image alone is not worth failing it
        note = NOTE_PREFIX + error_message(exc)
    return dataclasses.replace(outcome, problems=with_note(outcome.problems, note))


def _process_episodes(run: _Run) -> Iterable[EpisodeOutcome]:
    feeds = {f.id: f for f in run.catalogue.feeds()}
    indexed = run.index.indexed_episode_ids()
    failures = run.catalogue.episode_failures()
    now = run.clock()
    for episode in reversed(run.catalogue.episodes()):  # oldest first
        feed = feeds.get(episode.feed_id)
        if feed is None:
            continue
        has_transcript = run.catalogue.transcript_info(episode.id) is not None
        if (has_transcript or episode.text_only) and episode.id in indexed:
            _catch_up_image(run, feed, episode)
            continue  # done (a text-only episode has nothing to transcribe: its notes are indexed)
        if not has_transcript and run.jobs is not None and run.jobs.pending(episode.id):
            continue  # on the cluster already: collected below, never sent twice
        if not has_transcript and is_waiting(failures.get(episode.id), episode, now):
            run.waiting += 1
            continue
        outcome = _process_episode(run, feed, episode,
                                   transcribe=not has_transcript and not episode.text_only)
        outcome = _keep_image(run, feed, episode, outcome)
        _remember(run, episode, outcome, failures)
        run.progress.episode_done(outcome)
        yield outcome
    if run.jobs is not None:
        yield from _collect_jobs(run, feeds, failures)


def _keep_image(run: _Run, feed: Feed, episode: Episode, outcome: EpisodeOutcome
                ) -> EpisodeOutcome:
    """Keep the episode's image; a failure is a note on its outcome, never more."""
    note = run.images.keep(episode, feed) if run.images is not None else None
    return dataclasses.replace(outcome, notes=(*outcome.notes, note)) if note else outcome


def _catch_up_image(run: _Run, feed: Feed, episode: Episode) -> None:
    """A done episode's image never tried (see ``EpisodeImages.catch_up``): its failure is
    recorded by the archive with the URL, as the episode has no outcome in this run."""
    if run.images is not None:
        run.images.catch_up(episode, feed)


def _remember(run: _Run, episode: Episode, outcome: EpisodeOutcome,
              failures: dict[str, EpisodeFailure]) -> None:
    """Start (or lengthen) a failed episode's wait; forget it once the episode succeeds."""
    previous = failures.get(episode.id)
    try:
        if outcome.status == "failed" and not outcome.local:
            run.catalogue.save_episode_failure(failure_after(
                previous, episode, outcome.error or "failed", limit=outcome.limit,
                now=run.clock()))
        elif previous is not None and outcome.status != "queued":
            run.catalogue.clear_episode_failure(episode.id)
    except PoddarkivError:
        pass  # a catalogue that cannot record this will fail the next episode loudly


def _collect_jobs(run: _Run, feeds: dict[str, Feed], failures: dict[str, EpisodeFailure]
                  ) -> Iterable[EpisodeOutcome]:
    """Store and index what the cluster transcribed (see :class:`JobQueue`); a failed job
    backs off like an episode that failed here."""
    assert run.jobs is not None
    for episode, result, notes in run.jobs.collect():
        feed = feeds.get(episode.feed_id)
        if isinstance(result, PoddarkivError) or feed is None:
            outcome = EpisodeOutcome(episode.id, episode.title, "failed", str(result))
        else:
            outcome = _process_episode(run, feed, episode, transcribe=False, collected=result,
                                       notes=notes)
        _remember(run, episode, outcome, failures)
        run.progress.episode_done(outcome)
        yield outcome


def _process_episode(run: _Run, feed: Feed, episode: Episode, *, transcribe: bool,
                     collected: Transcript | None = None,
                     notes: tuple[EpisodeNote, ...] = ()) -> EpisodeOutcome:
    """Transcribe (or take the ``collected`` transcript and its job's ``notes``), store and
    index one episode; whatever fails, fails this episode only."""
    status: EpisodeStatus = "indexed" if collected is None else "transcribed"
    try:
        transcript = run.catalogue.transcript(episode.id)
        fresh = collected
        if transcribe:
            fresh, status, notes = _transcribe_episode(run, episode)
            if fresh is None:
                return EpisodeOutcome(episode.id, episode.title, "queued")
        if fresh is not None:
            transcript = fresh = _with_notes(fresh, notes)
            run.catalogue.save_transcript(fresh)
            episode = run.catalogue.episode(episode.id) or episode
            notes += _fetch_chapters(run, episode)
        themes = run.themes(episode, transcript) if run.themes else None
        run.index.index_episode(feed, episode, transcript, themes=themes)  # type: ignore[arg-type]
    except ClusterError:
        raise  # the broker is gone: every episode would fail alike; the catalogue keeps the jobs
    except PoddarkivError as exc:
        return EpisodeOutcome(episode.id, episode.title, "failed", str(exc), limit=is_limit(exc),
                              local=is_local(exc))
    except OSError as exc:  # a full disk, say: this episode fails, the run goes on
        return EpisodeOutcome(episode.id, episode.title, "failed", _os_error_message(exc),
                              local=is_local(exc))
    except Exception as exc:  # anything else still fails this episode alone
        return EpisodeOutcome(episode.id, episode.title, "failed", error_message(exc))
    duration = transcript.duration_s if transcript else None
    return EpisodeOutcome(episode.id, episode.title, status, audio_s=duration, notes=notes)


def _os_error_message(exc: OSError) -> str:
    """``No space left on device: <path>``, or as close as ``exc`` allows."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason}: {exc.filename}" if exc.filename else reason


def _with_notes(transcript: Transcript, notes: tuple[EpisodeNote, ...]) -> Transcript:
    """``transcript`` carrying ``notes`` too (why Whisper's transcript stands in for the
    publisher's): the one place they join it, whether it was made here or on the cluster."""
    new = tuple(n for n in notes if n not in transcript.notes)
    return transcript.replace(notes=(*transcript.notes, *new)) if new else transcript


def _transcribe_episode(run: _Run, episode: Episode
                        ) -> tuple[Transcript | None, EpisodeStatus, tuple[EpisodeNote, ...]]:
    """The transcript, how it came, and why the publisher's was not used when it was offered;
    ``None`` when the job went to the cluster (its notes go with it)."""
    # The archive keeps the audio even when the publisher's transcript is used, so the
    # site plays every episode from its own copy.
    episode, audio_error = _ensure_audio(run, episode)
    notes: tuple[EpisodeNote, ...] = ()
    if run.settings.prefer == "publisher" and episode.transcripts:
        published, notes = _publisher_transcript(run, episode)
        if published is not None:
            return published, "publisher", ()
    if audio_error is not None:
        raise audio_error
    if run.jobs is not None:
        run.progress.episode_started(episode, "queue")
        run.jobs.submit(episode, notes=notes)  # they join the transcript when it comes back
        return None, "queued", ()
    run.progress.episode_started(episode, "transcribe")
    return run.transcriber()(episode, progress=run.progress.audio_progress), "transcribed", notes


def _publisher_transcript(run: _Run, episode: Episode
                          ) -> tuple[Transcript | None, tuple[EpisodeNote, ...]]:
    """The publisher's transcript when it can be used, else ``None`` and why not (the URLs
    tried, best first, and the reason)."""
    run.progress.episode_started(episode, "publisher")
    try:
        published = fetch_publisher_transcript(run.client, episode, settings=run.settings)
    except PoddarkivError as exc:  # fall back to Whisper, and say why
        tried = ", ".join(link.url for link in rank_transcript_links(
            episode.transcripts, language=run.settings.language))
        return None, (EpisodeNote.of("publisher_transcript_unusable", urls=tried,
                                     reason=error_message(exc)),)
    return (published, ()) if published is not None and published.segments else (None, ())


def _ensure_audio(run: _Run, episode: Episode) -> tuple[Episode, PoddarkivError | None]:
    """The episode with its audio on disk, or the error that prevented the download."""
    if episode.audio_path and (run.catalogue.data.root / episode.audio_path).exists():
        return episode, None
    run.progress.episode_started(episode, "download")
    try:
        episode = download_audio(run.client, episode, data=run.catalogue.data,
                                 settings=run.settings)
    except PoddarkivError as exc:
        return episode, exc
    run.catalogue.save_episode(episode)
    return episode, None


def _fetch_chapters(run: _Run, episode: Episode) -> tuple[EpisodeNote, ...]:
    """Store the publisher's chapters when the feed links them (or carries them inline, as
    Podlove Simple Chapters); without them, themes suggest chapters. A broken chapters file
    never fails the episode: it is a note on the episode's outcome."""
    if not episode.chapters_url:
        if episode.chapters:
            save_publisher_chapters(run.catalogue, episode.id, episode.chapters)
        return ()
    try:
        result = fetch(run.client, episode.chapters_url, policy=policy_for(run.settings),
                       accept="application/json+chapters, application/json;q=0.9")
        save_publisher_chapters(run.catalogue, episode.id, parse_chapters_json(result.body))
    except PoddarkivError as exc:  # suggested chapters stand in
        return (EpisodeNote.of("publisher_chapters_unusable", url=episode.chapters_url,
                               reason=error_message(exc)),)
    return ()
