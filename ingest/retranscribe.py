"""Transcribing chosen episodes again, with the configured model, keeping every link working.

``poddarkiv retranscribe`` after ``poddarkiv models pull`` is how an archive moves to a better
model. Episodes are chosen by a :class:`Selection` (ids, podcasts, the model that made their
current transcript, their confidence; the filters given must all hold). Each chosen episode is
transcribed from its own audio (downloaded again only if it is gone) and the result is saved
through :meth:`~poddarkiv.archive.store.Catalogue.save_transcript`, the catalogue's one save
path: a new revision becomes current once its file is complete, the old revisions stay, and the
episode keeps its id, so permalinks and ``?t=`` links go on working. The episode is then
analysed again (themes, key terms) and re-indexed.

Corrections by people are never lost: every correction of the episode is applied again to the
new transcript, by time, before it is saved (:mod:`poddarkiv.archive.corrections`); where the new
segmentation does not fit a corrected span the correction is still applied and the conflict is
recorded for the admin page. :func:`reindex_episode` is the one way a new revision reaches the
index (the site's corrections use it too, under the same lock).

Unless ``force`` is given, an episode is skipped when its current transcript already comes
from the configured engine and model (so a selection can be re-run after an interruption) or
is the publisher's own (a person's transcript is worth more than a model's).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import httpx

from poddarkiv.archive.corrections import reapply_corrections, record_reapplied
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Feed, Transcript
from poddarkiv.archive.store import Catalogue
from poddarkiv.config import Settings
from poddarkiv.errors import CatalogueError, PoddarkivError
from poddarkiv.ingest.download import download_audio
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.pipeline import (
    EpisodeOutcome,
    Progress,
    ThemesStep,
    TranscriberFactory,
    TranscribeStep,
)
from poddarkiv.ingest.refresh import error_message

__all__ = [
    "EpisodeIndex",
    "RetranscribeReport",
    "Selection",
    "plan_retranscription",
    "reindex_episode",
    "retranscribe",
    "select_episodes",
]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which episodes to transcribe again; the filters given must all hold.

    ``podcasts`` are feed ids or feed URLs; ``model_was`` is a model name as transcripts record
    it (``base``, ``KBLab/kb-whisper-small``; ``poddarkiv models`` lists them);
    ``confidence_below`` picks episodes whose transcript's confidence score
    (:func:`poddarkiv.archive.confidence.episode_confidence`, 0..1) is under it. ``everything``
    selects all episodes with audio when no filter is given.
    """

    episode_ids: tuple[str, ...] = ()
    podcasts: tuple[str, ...] = ()
    model_was: str | None = None
    confidence_below: float | None = None
    everything: bool = False

    @property
    def filtered(self) -> bool:
        """Whether any filter is given."""
        return bool(self.episode_ids or self.podcasts or self.model_was is not None
                    or self.confidence_below is not None)


@dataclass(frozen=True, slots=True)
class RetranscribeReport:
    """Per episode: what happened (``transcribed`` or ``failed``), and what was skipped, why;
    ``corrections_kept``: corrections by people applied again, ``corrections_to_check``: how
    many of them need a look (listed on the admin page)."""

    episodes: tuple[EpisodeOutcome, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    corrections_kept: int = 0
    corrections_to_check: int = 0

    @property
    def failed(self) -> bool:
        return any(e.status == "failed" for e in self.episodes)


@runtime_checkable
class EpisodeIndex(Protocol):
    """What re-indexing one episode needs of :class:`~poddarkiv.archive.index.ArchiveIndex`."""

    def index_episode(self, feed: Feed, episode: Episode, transcript: Transcript | None, *,
                      themes: Any = None) -> None: ...


class _Quiet:
    def feed_done(self, outcome: object) -> None: ...
    def episode_started(self, episode: Episode, what: str) -> None: ...
    def audio_progress(self, done_s: float, total_s: float) -> None: ...
    def episode_done(self, outcome: EpisodeOutcome) -> None: ...


def _feed_ids(catalogue: Catalogue, podcasts: Iterable[str]) -> set[str]:
    out = set()
    for given in podcasts:
        feed = catalogue.feed(given) or catalogue.feed_by_url(given)
        if feed is None:
            raise CatalogueError(f"no podcast {given!r} (give a feed id or URL: "
                                 "`poddarkiv feeds list`)")
        out.add(feed.id)
    return out


def _confidence_below(catalogue: Catalogue, episode: Episode, threshold: float) -> bool:
    from poddarkiv.archive.confidence import episode_confidence

    transcript = catalogue.transcript(episode.id)
    found = episode_confidence(transcript.segments) if transcript else None
    return found is not None and found.score < threshold


def select_episodes(catalogue: Catalogue, selection: Selection) -> list[Episode]:
    """The episodes ``selection`` names, oldest first; raises :class:`CatalogueError` for an
    unknown episode or podcast, or when nothing at all is chosen."""
    if not selection.filtered and not selection.everything:
        raise CatalogueError("say which episodes: episode ids, --podcast, --model-was, "
                             "--confidence-below, or --all")
    for episode_id in selection.episode_ids:
        if catalogue.episode(episode_id) is None:
            raise CatalogueError(f"no episode {episode_id!r}")
    feeds = _feed_ids(catalogue, selection.podcasts)
    made_by = (set(catalogue.episodes_transcribed_with(selection.model_was))
               if selection.model_was is not None else None)
    chosen = []
    for episode in reversed(catalogue.episodes()):  # oldest first, as ingest goes
        if selection.episode_ids and episode.id not in selection.episode_ids:
            continue
        if feeds and episode.feed_id not in feeds:
            continue
        if made_by is not None and episode.id not in made_by:
            continue
        if selection.confidence_below is not None and not _confidence_below(
                catalogue, episode, selection.confidence_below):
            continue
        chosen.append(episode)
    return chosen


def _why_skip(catalogue: Catalogue, episode: Episode, settings: Settings, *, force: bool,
              feed_ids: set[str]) -> str | None:
    if episode.feed_id not in feed_ids:
        return "its podcast is no longer in the catalogue"
    if episode.enclosure is None and not episode.audio_path:
        return "no audio to transcribe"
    current = catalogue.transcript_info(episode.id)
    if force or current is None:
        return None
    if current.source == "publisher":
        return "has the publisher's own transcript (--force replaces it)"
    if current.engine == settings.engine and current.model == settings.model:
        return f"already transcribed with {settings.model} ({settings.engine})"
    return None


def plan_retranscription(settings: Settings, selection: Selection, *, catalogue: Catalogue,
                         force: bool = False) -> list[tuple[Episode, str | None]]:
    """The selected episodes, each with why it would be skipped (``None``: it would be
    transcribed again). What ``retranscribe --dry-run`` prints; changes nothing."""
    feed_ids = {f.id for f in catalogue.feeds()}
    return [(episode, _why_skip(catalogue, episode, settings, force=force, feed_ids=feed_ids))
            for episode in select_episodes(catalogue, selection)]


def retranscribe(settings: Settings, selection: Selection, *, catalogue: Catalogue,
                 index: ArchiveIndex, client: httpx.Client,
                 transcriber_factory: TranscriberFactory, themes: ThemesStep | None = None,
                 progress: Progress | None = None, force: bool = False,
                 wait_s: float = 0.0) -> RetranscribeReport:
    """Transcribe the selected episodes again with ``settings``' engine and model.

    Holds the ingest lock (an ingest and a re-transcription never write at once). One
    episode's failure is recorded and the run goes on; its current transcript stays.
    """
    progress = progress or _Quiet()
    with ingest_lock(catalogue.data.ingest_lock, wait_s=wait_s):
        plan = plan_retranscription(settings, selection, catalogue=catalogue, force=force)
        outcomes, skipped = [], []
        kept = [0, 0]  # corrections applied again, of which in conflict
        transcriber = None
        for episode, reason in plan:
            if reason is not None:
                skipped.append((episode.id, reason))
                continue
            if transcriber is None:  # loaded once, and only when there is work
                transcriber = transcriber_factory()
            outcome = _redo(settings, episode, catalogue=catalogue, index=index, client=client,
                            transcribe=transcriber, themes=themes, progress=progress,
                            kept=kept)
            progress.episode_done(outcome)
            outcomes.append(outcome)
    return RetranscribeReport(tuple(outcomes), tuple(skipped), kept[0], kept[1])


def reindex_episode(catalogue: Catalogue, index: EpisodeIndex, episode: Episode,
                    transcript: Transcript, *, themes: ThemesStep | None) -> None:
    """After a new revision of the episode's transcript: analyse it again (when ``themes`` is
    given) and replace the episode's documents in the search index. Call it holding the
    ingest lock, as :func:`retranscribe` and the site's corrections do."""
    feed = catalogue.feed(episode.feed_id) or Feed(id=episode.feed_id, url="")
    analysed = themes(episode, transcript) if themes else None
    index.index_episode(feed, episode, transcript, themes=analysed)


def _save_keeping_corrections(catalogue: Catalogue, fresh: Transcript,
                              kept: list[int]) -> Transcript:
    """Save a new transcript with the episode's corrections applied again; count them."""
    fresh, applied = reapply_corrections(catalogue, fresh)
    info = catalogue.save_transcript(fresh)
    if applied:
        record_reapplied(catalogue, applied, info.id)
        kept[0] += len(applied)
        kept[1] += sum(1 for a in applied if a.conflict)
    return fresh


def _redo(settings: Settings, episode: Episode, *, catalogue: Catalogue,
          index: ArchiveIndex, client: httpx.Client, transcribe: TranscribeStep,
          themes: ThemesStep | None, progress: Progress, kept: list[int]) -> EpisodeOutcome:
    try:
        if not episode.audio_path or not (catalogue.data.root / episode.audio_path).exists():
            progress.episode_started(episode, "download")
            episode = download_audio(client, episode, data=catalogue.data, settings=settings)
            catalogue.save_episode(episode)
        progress.episode_started(episode, "transcribe")
        fresh = transcribe(episode, progress=progress.audio_progress)
        fresh = _save_keeping_corrections(catalogue, fresh, kept)
        reindex_episode(catalogue, index, episode, fresh, themes=themes)
    except PoddarkivError as exc:
        return EpisodeOutcome(episode.id, episode.title, "failed", str(exc))
    except Exception as exc:  # anything else fails this episode alone
        return EpisodeOutcome(episode.id, episode.title, "failed", error_message(exc))
    return EpisodeOutcome(episode.id, episode.title, "transcribed", audio_s=fresh.duration_s)
