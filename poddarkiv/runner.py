"""The library functions behind each CLI command, with real dependencies wired in.

Each takes :class:`Settings` and returns data; printing stays in the CLI. Tests call these
directly with injected pieces, or the lower-level functions they wrap.

The site (uvicorn, Starlette, Jinja2), the cluster (Celery, an optional extra) and the demo's
sample server are imported inside the functions that use them, so that ``ingest``, ``search``
and ``export`` never load them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poddarkiv.archive.knowledge import stored_episode_themes
from poddarkiv.archive.store import Catalogue, DataDir, ModelUsage
from poddarkiv.archive.writers import render_transcript
from poddarkiv.compose import http_client, open_archive, themes_step, whisper_step
from poddarkiv.config import Settings, settings_from_env, settings_to_env
from poddarkiv.errors import ModelError, PoddarkivError
from poddarkiv.ingest.inventory import InstalledModel, installed_models
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.pipeline import IngestReport, Progress, ingest

if TYPE_CHECKING:
    from poddarkiv.archive.models import Episode
    from poddarkiv.archive.search import SearchPage, SearchRequest
    from poddarkiv.ingest.cluster import ClusterQueue
    from poddarkiv.ingest.hub import PulledModel
    from poddarkiv.ingest.retranscribe import RetranscribeReport, Selection

__all__ = [
    "SITE_SECRET_ENV",
    "ModelsReport",
    "export_transcript",
    "list_models",
    "plan_retranscribe",
    "pull_hub_model",
    "rebuild_index",
    "run_demo",
    "run_ingest",
    "run_retranscribe",
    "search_archive",
    "serve_site",
    "site_app",
    "upgrade_index",
]

Echo = Callable[[str], None]

#: Where ``serve --workers N`` hands its site processes their shared key (hex): admin
#: sessions and CSRF tokens are HMACs under it. Made afresh by each ``serve``.
SITE_SECRET_ENV = "PODDARKIV_SITE_SECRET"


def _quiet(_: str) -> None:
    pass


def run_ingest(settings: Settings, urls: Sequence[str] = (), *, progress: Progress | None = None,
               wait_s: float = 0.0, echo: Echo = _quiet) -> IngestReport:
    """Ingest ``urls`` (or every known feed) into the archive at ``settings.data_dir``.

    An index built by another version of poddarkiv is rebuilt first (see :func:`upgrade_index`).
    """
    upgrade_index(settings, echo=echo)
    with open_archive(settings) as archive, http_client(settings) as client:
        jobs = _cluster_queue(settings, archive.catalogue, echo if progress else _quiet)
        try:
            return ingest(
                settings, urls, catalogue=archive.catalogue, index=archive.index, client=client,
                transcriber_factory=whisper_step(settings, archive.catalogue.data),
                themes=themes_step(archive.catalogue), progress=progress, wait_s=wait_s,
                jobs=jobs,
            )
        finally:
            if jobs is not None:
                jobs.close()


def _cluster_queue(settings: Settings, catalogue: Catalogue, echo: Echo
                   ) -> ClusterQueue | None:
    """With a broker, transcription goes to Celery workers (:mod:`poddarkiv.ingest.cluster`);
    ``echo`` hears the cluster's progress line whenever it changes."""
    if not settings.broker:
        return None
    from poddarkiv.ingest.cluster import ClusterQueue, format_summary

    return ClusterQueue(settings, catalogue, report=lambda summary: echo(format_summary(summary)))


def rebuild_index(settings: Settings) -> tuple[int, int]:
    """Rebuild the index from the catalogue; return (episode docs, passage docs)."""
    with open_archive(settings) as archive:
        catalogue = archive.catalogue
        with ingest_lock(catalogue.data.ingest_lock, wait_s=60.0):
            # Themes as last applied: a rebuild restores the index, it does not re-analyse.
            archive.index.rebuild(
                catalogue, themes_for=lambda ep, _tr: stored_episode_themes(catalogue, ep.id))
        return archive.index.doc_counts()


def search_archive(settings: Settings, request: SearchRequest, *,
                   echo: Echo = _quiet) -> SearchPage:
    """Search the archive in ``settings.data_dir``, which must exist (a search never makes one).

    An index built by another version of poddarkiv is rebuilt first (see :func:`upgrade_index`).
    """
    with open_archive(settings, create=False) as archive:
        if not archive.index.needs_reindex:
            return archive.index.search(request)
    upgrade_index(settings, echo=echo)
    with open_archive(settings, create=False) as archive:
        return archive.index.search(request)


def upgrade_index(settings: Settings, *, echo: Echo = _quiet) -> bool:
    """Rebuild the index from the catalogue if another version of poddarkiv built it.

    A new version that changes the index's documents starts an empty index beside the old one;
    without a rebuild, searches would find nothing. Returns whether a rebuild ran.
    """
    with open_archive(settings) as archive:
        if not archive.index.needs_reindex:
            return False
    echo("The search index was built by another version of poddarkiv; "
         "rebuilding it from the catalogue ...")
    episodes, segments = rebuild_index(settings)
    echo(f"Indexed {episodes} episodes and {segments} passages.")
    return True


@dataclass(frozen=True, slots=True)
class ModelsReport:
    """``poddarkiv models``: the models on disk, and which made each episode's transcript."""

    models_dir: Path
    configured: str
    engine: str
    installed: tuple[InstalledModel, ...]
    usage: tuple[ModelUsage, ...]


def list_models(settings: Settings) -> ModelsReport:
    """What is installed in ``settings.models_dir`` and what the catalogue's transcripts used.

    Reads the catalogue without writing (none yet: no transcripts); never hashes a model.
    """
    data = DataDir(settings.data_dir)
    usage: tuple[ModelUsage, ...] = ()
    if data.catalogue.is_file():
        with Catalogue(data, read_only=True) as catalogue:
            usage = tuple(catalogue.model_usage())
    return ModelsReport(settings.models_dir, settings.model, settings.engine,
                        installed_models(settings.models_dir), usage)


def pull_hub_model(settings: Settings, name: str, *, endpoint: str | None = None,
                   progress: bool = True) -> PulledModel:
    """Fetch hub model ``name`` into ``settings.models_dir``, checked and converted for both
    engines (:func:`poddarkiv.ingest.hub.pull_model`); ``endpoint`` replaces the hub's address."""
    from poddarkiv.ingest.hub import pull_model
    from poddarkiv.ingest.model import BUNDLED_MODEL_NAME

    if name == BUNDLED_MODEL_NAME or "/" not in name:
        raise ModelError(f"{name!r} is not a hub repo: give ORGANISATION/NAME, such as "
                         "KBLab/kb-whisper-small ('base' is bundled and needs no pull)")
    return pull_model(name, models_dir=settings.models_dir, endpoint=endpoint,
                      progress=progress)


def run_retranscribe(settings: Settings, selection: Selection, *, force: bool = False,
                     progress: Progress | None = None, wait_s: float = 0.0,
                     echo: Echo = _quiet) -> RetranscribeReport:
    """Transcribe the selected episodes again with ``settings``' model and re-index them
    (:func:`poddarkiv.ingest.retranscribe.retranscribe`)."""
    from poddarkiv.ingest.retranscribe import retranscribe

    with open_archive(settings, create=False):
        pass  # no archive here: say so rather than make an empty one
    upgrade_index(settings, echo=echo)
    with open_archive(settings, create=False) as archive, http_client(settings) as client:
        return retranscribe(
            settings, selection, catalogue=archive.catalogue, index=archive.index,
            client=client, transcriber_factory=whisper_step(settings, archive.catalogue.data),
            themes=themes_step(archive.catalogue), progress=progress, force=force,
            wait_s=wait_s)


def plan_retranscribe(settings: Settings, selection: Selection, *, force: bool = False
                      ) -> list[tuple[Episode, str | None]]:
    """What :func:`run_retranscribe` would do: each selected episode, and why it would be
    skipped (``None``: transcribed again). Reads only."""
    from poddarkiv.ingest.retranscribe import plan_retranscription

    with open_archive(settings, create=False) as archive:
        return plan_retranscription(settings, selection, catalogue=archive.catalogue,
                                    force=force)


def export_transcript(settings: Settings, episode_id: str, fmt: str) -> str:
    """An episode's current transcript rendered as txt, vtt, srt or json."""
    with open_archive(settings, create=False) as archive:
        transcript = archive.catalogue.transcript(episode_id)
    if transcript is None:
        raise PoddarkivError(f"episode {episode_id!r} has no transcript (or does not exist)")
    return render_transcript(transcript, fmt)


def serve_site(settings: Settings, *, echo: Echo = _quiet, **app_kwargs: Any) -> None:
    """Serve the site with uvicorn until interrupted (after :func:`upgrade_index`).

    With ``settings.site_workers`` above one, uvicorn starts that many processes, each with its
    own catalogue connection and index reader over the same data directory.
    """
    import uvicorn

    from poddarkiv.site.app import create_app

    upgrade_index(settings, echo=echo)
    if settings.site_workers > 1:
        _serve_processes(settings)
        return
    # The admin page (when a token is set) starts ingests of the known feeds in this process.
    app_kwargs.setdefault("ingest_runner", lambda urls: run_ingest(settings, tuple(urls)))
    app = create_app(settings, **app_kwargs)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="warning")


def _serve_processes(settings: Settings) -> None:
    import uvicorn

    from poddarkiv.site.security import new_secret

    # uvicorn's worker processes import the app by name; the settings go with them in the
    # environment, where site_app() reads them back. So does one key for admin sessions and
    # CSRF tokens, made here once: a cookie or form from one process must pass in another.
    os.environ.update(settings_to_env(settings))
    os.environ[SITE_SECRET_ENV] = new_secret().hex()
    uvicorn.run("poddarkiv.runner:site_app", factory=True, workers=settings.site_workers,
                host=settings.host, port=settings.port, log_level="warning")


def site_app() -> Any:
    """The site for one of ``serve --workers N``'s processes, from ``PODDARKIV_*`` variables."""
    from poddarkiv.site.app import create_app

    settings = settings_from_env()
    return create_app(settings, ingest_runner=lambda urls: run_ingest(settings, tuple(urls)),
                      secret=_shared_secret(os.environ.get(SITE_SECRET_ENV, "")))


def _shared_secret(raw: str) -> bytes | None:
    """The key the parent made for all site processes (``None``: each makes its own)."""
    try:
        return bytes.fromhex(raw) or None
    except ValueError:
        return None


def run_demo(settings: Settings, *, feed_port: int, serve: bool,
             echo: Callable[[str], None]) -> IngestReport:
    """Serve the bundled sample feed on loopback, ingest it through HTTP, then serve the site."""
    from poddarkiv.progress import ConsoleProgress, print_report
    from poddarkiv.sample.server import serve_sample

    with serve_sample(port=feed_port) as sample:
        echo(f"Sample feed served at {sample.feed_url}")
        echo(f"Archive in {settings.data_dir.resolve()}")
        echo("Ingesting (the first run transcribes with Whisper; a few minutes on a slow CPU)...")
        report = run_ingest(settings, [sample.feed_url], progress=ConsoleProgress(), echo=echo)
        print_report(report)
        if serve:
            echo(f"\nThe site is at http://{settings.host}:{settings.port}/  "
                 "(try a search for 'partnerskap' or 'upphandling'; Ctrl-C stops)")
            serve_site(settings, echo=echo)
    return report
