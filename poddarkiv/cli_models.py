"""``poddarkiv models [pull REPO]`` and ``poddarkiv retranscribe``: moving to a better model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from poddarkiv.cli_options import echo_err, fail_cleanly, settings_for, whisper_options

if TYPE_CHECKING:
    from poddarkiv.archive.models import Episode
    from poddarkiv.runner import ModelsReport

__all__ = ["models", "retranscribe"]

_MB = 1_000_000


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@fail_cleanly
def models(ctx: click.Context, as_json: bool) -> None:
    """Whisper models: what is installed and which model made each episode's transcript.

    `poddarkiv models pull KBLab/kb-whisper-small` fetches a better Swedish model;
    `poddarkiv retranscribe --model KBLab/kb-whisper-small --model-was base` then uses it.
    """
    if ctx.invoked_subcommand is not None:
        return
    from poddarkiv.runner import list_models

    report = list_models(ctx.obj)
    if as_json:
        click.echo(json.dumps(_report_dict(report), ensure_ascii=False, indent=2))
    else:
        _print_report(report)


def _report_dict(report: ModelsReport) -> dict[str, Any]:
    return {
        "models_dir": str(report.models_dir), "configured": report.configured,
        "engine": report.engine,
        "installed": [{"name": m.name, "kind": m.kind, "path": str(m.path) if m.path else None,
                       "size": m.size, "sha256": m.sha256, "engines": list(m.engines)}
                      for m in report.installed],
        "transcripts": [{"source": u.source, "engine": u.engine, "model": u.model,
                         "model_sha256": u.model_sha256, "episodes": u.episodes}
                        for u in report.usage],
    }


def _print_report(report: ModelsReport) -> None:
    click.echo(f"Installed in {report.models_dir}:")
    for m in report.installed:
        ready = ", ".join(m.engines)
        note = "" if m.path else "  (assembled on first use)"
        click.echo(f"  {m.name:<32} {m.kind:<10} {m.size / _MB:>7.0f} MB  {ready}{note}")
    click.echo(f"Configured: {report.configured} ({report.engine}); the other engine's form "
               "is converted on first use.")
    if not report.usage:
        click.echo("No transcripts yet.")
        return
    click.echo("Current transcripts, by model:")
    for u in report.usage:
        what = u.model if u.source == "whisper" else "the publisher's own"
        engine = f" ({u.engine})" if u.engine else ""
        click.echo(f"  {u.episodes:>5} episode(s)  {what}{engine}")


@models.command("pull")
@click.argument("name")
@click.option("--endpoint", envvar="HF_ENDPOINT", show_envvar=True,
              help="The hub's address (default https://huggingface.co).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.pass_context
@fail_cleanly
def models_pull(ctx: click.Context, name: str, endpoint: str | None, quiet: bool) -> None:
    """Fetch hub model NAME (CTranslate2 form), check it, convert it for openai-whisper.

    Needs a network connection this once; afterwards `--model NAME` works offline.
    """
    from poddarkiv.runner import pull_hub_model

    pulled = pull_hub_model(ctx.obj, name, endpoint=endpoint, progress=not quiet)
    click.echo(f"Pulled {pulled.name} ({pulled.size / _MB:.0f} MB, commit "
               f"{pulled.commit[:12]}, sha256 {pulled.sha256[:16]}) into {pulled.folder}")
    if pulled.checkpoint is not None:
        click.echo(f"Converted for openai-whisper: {pulled.checkpoint}")
    click.echo(f"Use it: poddarkiv ingest --model {name}, or "
               f"poddarkiv retranscribe --model {name} --all")


@click.command()
@click.argument("episode_ids", nargs=-1)
@click.option("--podcast", "podcasts", multiple=True,
              help="Episodes of this podcast (feed id or URL); repeatable.")
@click.option("--model-was", help="Episodes whose current transcript this model made "
              "(as `poddarkiv models` lists it, e.g. base).")
@click.option("--confidence-below", type=click.FloatRange(0.0, 1.0),
              help="Episodes whose transcript's confidence score (0..1) is under this.")
@click.option("--all", "everything", is_flag=True, help="Every episode with audio.")
@click.option("--force", is_flag=True,
              help="Also episodes already transcribed with the configured model.")
@click.option("--wait", "wait_s", type=float, default=0.0, show_default=True,
              help="Seconds to wait if an ingest is running.")
@click.option("--dry-run", is_flag=True, help="List what would be done, and do nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary.")
@whisper_options
@click.pass_context
@fail_cleanly
def retranscribe(ctx: click.Context, /, episode_ids: tuple[str, ...], podcasts: tuple[str, ...],
                 model_was: str | None, confidence_below: float | None, everything: bool,
                 force: bool, wait_s: float, dry_run: bool, quiet: bool, **flags: Any) -> None:
    """Transcribe chosen episodes again with --model (the filters given must all hold).

    Each gets a new transcript revision (the old ones are kept) and is re-indexed; episode
    pages, permalinks and ?t= links stay as they are. Exits non-zero if an episode failed.
    """
    from poddarkiv.ingest.retranscribe import Selection
    from poddarkiv.progress import ConsoleProgress
    from poddarkiv.runner import plan_retranscribe, run_retranscribe

    settings = settings_for(ctx, **flags)
    selection = Selection(episode_ids=episode_ids, podcasts=podcasts, model_was=model_was,
                          confidence_below=confidence_below, everything=everything)
    if dry_run:
        _print_plan(plan_retranscribe(settings, selection, force=force), settings.model)
        return
    report = run_retranscribe(settings, selection, force=force, wait_s=wait_s,
                              progress=None if quiet else ConsoleProgress(), echo=echo_err)
    for episode_id, reason in report.skipped:
        click.echo(f"skipped {episode_id}: {reason}")
    for outcome in report.episodes:
        if outcome.status == "failed":
            click.echo(f"failed {outcome.episode_id}: {outcome.error}")
    done = sum(1 for e in report.episodes if e.status == "transcribed")
    click.echo(f"{done} episode(s) transcribed again with {settings.model} "
               f"({settings.engine}); {len(report.skipped)} skipped, "
               f"{len(report.episodes) - done} failed.")
    if report.corrections_kept:
        click.echo(f"{report.corrections_kept} correction(s) by people kept; "
                   f"{report.corrections_to_check} need a look (the admin page lists them).")
    if report.failed:
        ctx.exit(1)


def _print_plan(plan: list[tuple[Episode, str | None]], model: str) -> None:
    for episode, reason in plan:
        if reason is None:
            click.echo(f"would transcribe {episode.id}  {episode.title}")
        else:
            click.echo(f"would skip {episode.id}: {reason}")
    todo = sum(1 for _, reason in plan if reason is None)
    click.echo(f"{todo} episode(s) would be transcribed again with {model}; nothing was done.")
