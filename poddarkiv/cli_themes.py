"""``poddarkiv themes …``: apply the theme taxonomy to the whole archive."""

from __future__ import annotations

from pathlib import Path

import click

from poddarkiv.errors import PoddarkivError

__all__ = ["themes"]


@click.group()
def themes() -> None:
    """Themes: the IOP knowledge map over episodes and passages."""


@themes.command("apply")
@click.option("--taxonomy", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A themes TOML file (default: the bundled taxonomy).")
@click.pass_context
def themes_apply(ctx: click.Context, taxonomy: Path | None) -> None:
    """Recompute themes for every episode and passage, and update the index."""
    from poddarkiv.archive.knowledge import apply_themes
    from poddarkiv.archive.themes import load_taxonomy
    from poddarkiv.compose import open_archive

    try:
        with open_archive(ctx.obj) as archive:
            count = apply_themes(archive.catalogue, archive.index, load_taxonomy(taxonomy))
    except PoddarkivError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Themes applied to {count} episodes.")
