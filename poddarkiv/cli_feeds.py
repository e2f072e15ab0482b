"""``poddarkiv feeds …`` and ``poddarkiv watch``: managing and refreshing the feed list."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from poddarkiv.cli_options import settings_for, whisper_options
from poddarkiv.errors import PoddarkivError

__all__ = ["feeds", "parse_interval", "watch"]

_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$", re.IGNORECASE)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_INTERVAL_S = 60.0


def parse_interval(text: str) -> float:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"1d"`` (or plain seconds) as seconds, at least a minute."""
    match = _INTERVAL.match(text)
    if not match:
        raise click.BadParameter(f"{text!r}: use a number with s, m, h or d, such as 1h")
    seconds = float(match.group(1)) * _UNIT_S[(match.group(2) or "s").lower()]
    if seconds < MIN_INTERVAL_S:
        raise click.BadParameter("the interval must be at least one minute")
    return seconds


def _catalogue(ctx: click.Context) -> Any:
    from poddarkiv.archive.store import Catalogue, DataDir

    return Catalogue(DataDir(ctx.obj.data_dir))


@click.group()
def feeds() -> None:
    """Add, remove, list, import and export the feeds to follow."""


@feeds.command("add")
@click.argument("urls", nargs=-1, required=True)
@click.pass_context
def feeds_add(ctx: click.Context, urls: tuple[str, ...]) -> None:
    """Follow the feeds at URLS (the next ingest fetches them)."""
    from poddarkiv.ingest.feedlist import add_feed, check_feed_url

    try:
        for url in urls:  # all or none: a typo in one URL adds nothing
            check_feed_url(url)
    except PoddarkivError as exc:
        raise click.ClickException(str(exc)) from exc
    with _catalogue(ctx) as catalogue:
        for url in urls:
            try:
                feed, new = add_feed(catalogue, url)
            except PoddarkivError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(f"{'added' if new else 'already followed'}: {feed.url} ({feed.id})")


@feeds.command("remove")
@click.argument("url_or_id")
@click.pass_context
def feeds_remove(ctx: click.Context, url_or_id: str) -> None:
    """Stop following a feed and drop its episodes from the catalogue."""
    from poddarkiv.ingest.feedlist import remove_feed

    with _catalogue(ctx) as catalogue:
        try:
            feed = remove_feed(catalogue, url_or_id)
        except PoddarkivError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"removed: {feed.url}. Run `poddarkiv reindex` to drop it from search.")


@feeds.command("list")
@click.option("--problems", "show_problems", is_flag=True,
              help="Also list each feed's skipped items, parser problems, failed episodes "
              "and earlier addresses.")
@click.pass_context
def feeds_list(ctx: click.Context, show_problems: bool) -> None:
    """List followed feeds with their status."""
    with _catalogue(ctx) as catalogue:
        rows = [(f, catalogue.count_episodes(feed_id=f.id),
                 catalogue.count_episodes(feed_id=f.id, text_only=True),
                 _failed_episodes(catalogue, f.id))
                for f in catalogue.feeds()]
    if not rows:
        click.echo("No feeds yet. Add one with `poddarkiv feeds add URL`.")
    for feed, count, text_only, failures in rows:
        click.echo(_feed_summary(feed, count, text_only, len(failures)))
        if show_problems:
            for line in _feed_details(feed, failures):
                click.echo(f"      {line}")


def _feed_summary(feed: Any, count: int, text_only: int, failed: int) -> str:
    state = f"errors {feed.error_count}: {feed.last_error}" if feed.error_count else "ok"
    fetched = feed.last_fetched.strftime("%Y-%m-%d %H:%M") if feed.last_fetched else "never"
    skipped = sum(item.count for item in feed.skipped)
    notes = [f"{skipped} of {feed.item_count} items skipped"] if skipped else []
    notes += [f"{text_only} text-only (no audio)"] if text_only else []
    notes += [f"{failed} episodes failed"] if failed else []
    notes += [f"{len(feed.problems)} problems"] if feed.problems else []
    extra = f"\n    {', '.join(notes)} (see --problems)" if notes else ""
    untitled = "(not read yet: see the errors)" if feed.error_count else "(not fetched yet)"
    return (f"{feed.id}  {feed.title or untitled}\n    {feed.url}\n"
            f"    {count} episodes, last fetched {fetched}, {state}{extra}")


def _failed_episodes(catalogue: Any, feed_id: str) -> list[tuple[Any, str]]:
    """The feed's failed episodes, each with the title the user knows it by."""
    failures = catalogue.episode_failures(feed_id=feed_id).values()
    return [(f, episode.title if (episode := catalogue.episode(f.episode_id)) else f.episode_id)
            for f in failures]


def _failure_line(failure: Any, title: str) -> str:
    """``episode failed 2x: "Title" (its audio URL): the error (when it is tried again)``."""
    audio = f" ({failure.enclosure_url})" if failure.enclosure_url else ""
    wait = (f"next try after {failure.retry_at:%Y-%m-%d %H:%M}" if failure.retry_at
            else "waits until its audio changes; ingest --retry-failed tries now")
    return f"episode failed {failure.count}x: \"{title}\"{audio}: {failure.error} ({wait})"


def _feed_details(feed: Any, failures: list[tuple[Any, str]]) -> list[str]:
    lines = [f"skipped: {item.title or item.guid or '(untitled)'}: {item.reason}"
             for item in feed.skipped]
    lines += [_failure_line(failure, title) for failure, title in failures]
    lines += [f"problem: {problem}" for problem in feed.problems]
    lines += [f"previously at: {url}" for url in feed.previous_urls]
    return lines


@feeds.command("import")
@click.argument("opml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def feeds_import(ctx: click.Context, opml: Path) -> None:
    """Follow every feed listed in an OPML file."""
    from poddarkiv.ingest.feedlist import import_opml

    refused: list[str] = []
    with _catalogue(ctx) as catalogue:
        try:
            added = import_opml(catalogue, opml.read_bytes(), refused=refused)
        except PoddarkivError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"{sum(new for _, new in added)} added, {sum(not new for _, new in added)} "
               "already followed.")
    if refused:
        click.echo(f"{len(refused)} not added (not an http(s) feed URL): {', '.join(refused)}")


@feeds.command("export")
@click.pass_context
def feeds_export(ctx: click.Context) -> None:
    """Print the followed feeds as OPML."""
    from poddarkiv.ingest.feedlist import export_opml

    with _catalogue(ctx) as catalogue:
        click.echo(export_opml(catalogue), nl=False)


@click.command()
@click.option("--every", "every", default="1h", show_default=True,
              help="How often to ingest: 30m, 1h, 1d…")
@click.option("--times", type=click.IntRange(1), help="Stop after this many runs.")
@whisper_options
@click.pass_context
def watch(ctx: click.Context, /, every: str, times: int | None, **flags: Any) -> None:
    """Ingest every known feed on a schedule, carrying on after errors.

    Takes ingest's options (the engine, --allow-private…) for every run.
    """
    interval = parse_interval(every)
    run_watch(settings_for(ctx, **flags), interval_s=interval, times=times, echo=click.echo)


def run_watch(settings: Any, *, interval_s: float, times: int | None,
              echo: Callable[[str], None], sleep: Callable[[float], None] | None = None) -> int:
    """Run ingest ``times`` times (forever when None), ``interval_s`` apart; return runs made."""
    from poddarkiv.progress import print_report
    from poddarkiv.runner import run_ingest

    sleep = sleep or time.sleep
    runs = 0
    while times is None or runs < times:
        runs += 1
        try:
            print_report(run_ingest(settings, (), wait_s=interval_s / 2, echo=echo))
        except PoddarkivError as exc:
            echo(f"ingest failed: {exc}; trying again in {interval_s:.0f} s")
        except Exception as exc:  # whatever a run meets, the watch goes on (and says so)
            echo(f"ingest failed unexpectedly ({type(exc).__name__}: {exc}); "
                 f"trying again in {interval_s:.0f} s")
        if times is None or runs < times:
            sleep(interval_s)
    return runs
