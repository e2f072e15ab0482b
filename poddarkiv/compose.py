"""Building the real dependencies from :class:`Settings`: the one place that wires things up.

The library takes every dependency as a parameter; the CLI, the demo and the site's ``serve``
get theirs from here, so that choice is made once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.knowledge import analyse_episode
from poddarkiv.archive.models import Episode, Transcript
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import AudioError, CatalogueError
from poddarkiv.ingest.client import make_client, policy_for

__all__ = ["Archive", "http_client", "open_archive", "themes_step", "whisper_step"]


@dataclass(frozen=True, slots=True)
class Archive:
    """An open catalogue and index over one data directory."""

    catalogue: Catalogue
    index: ArchiveIndex

    def close(self) -> None:
        self.index.close()
        self.catalogue.close()


@contextmanager
def open_archive(settings: Settings, *, create: bool = True) -> Iterator[Archive]:
    """Open the catalogue and the index in ``settings.data_dir``, creating them if needed.

    With ``create=False`` a data directory without a catalogue is a :class:`CatalogueError`
    (a search or an export never leaves an empty archive behind a mistyped path).
    """
    data = DataDir(settings.data_dir)
    if not create and not data.catalogue.is_file():
        raise CatalogueError(
            f"no archive in {data.root} (it has no catalogue.sqlite): "
            "`poddarkiv ingest FEED_URL` makes one, or --data-dir names another")
    catalogue = Catalogue(data)
    try:
        index = ArchiveIndex.open(catalogue.data.index)
    except BaseException:
        catalogue.close()
        raise
    archive = Archive(catalogue, index)
    try:
        yield archive
    finally:
        archive.close()


def http_client(settings: Settings) -> httpx.Client:
    """The HTTP client every fetch goes through (our User-Agent, timeouts, no auto-redirects)."""
    return make_client(policy_for(settings))


def whisper_step(settings: Settings, data: DataDir
                 ) -> Callable[[], Callable[..., Transcript]]:
    """A factory for the pipeline's transcribe step: decode the audio once, then Whisper."""

    def factory() -> Callable[..., Transcript]:
        # The transcription stack (PyAV, numpy, the engines) loads when the first episode is
        # transcribed, not when the archive is opened: a run with nothing new never loads it.
        from poddarkiv.ingest.audio import decode_audio
        from poddarkiv.ingest.transcribe import make_transcriber

        transcriber = make_transcriber(settings)

        def step(episode: Episode, *, progress: Callable[[float, float], None]) -> Transcript:
            if not episode.audio_path:
                raise AudioError(f"episode {episode.id} has no downloaded audio")
            audio = decode_audio(data.root / episode.audio_path)
            return transcriber.transcribe(audio, episode_id=episode.id, progress=progress)

        return step

    return factory


def themes_step(catalogue: Catalogue) -> Callable[[Episode, Transcript | None], object]:
    """Assign themes, key terms and references for an episode and store them."""

    def step(episode: Episode, transcript: Transcript | None) -> object:
        return analyse_episode(catalogue, episode, transcript)

    return step
