"""Options and wrappers that several command modules share (``cli``, ``cli_models``)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from poddarkiv.config import DEVICES, ENGINES, PREFERENCES, Settings
from poddarkiv.errors import PoddarkivError

__all__ = ["echo_err", "fail_cleanly", "settings_for", "whisper_options"]

F = TypeVar("F", bound=Callable[..., Any])


def echo_err(message: str) -> None:
    click.echo(message, err=True)


def fail_cleanly(func: F) -> F:
    """Turn poddarkiv's errors into ``Error: …`` and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PoddarkivError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


def settings_for(ctx: click.Context, **flags: Any) -> Settings:
    base: Settings = ctx.obj
    return base.replace(**flags)


def whisper_options(func: F) -> F:
    """Options that choose and tune the Whisper engine."""
    options = [
        click.option("--engine", type=click.Choice(ENGINES),
                     help="Transcription engine (default faster-whisper)."),
        click.option("--model", help="'base' (bundled, offline), a CTranslate2 folder, an "
                     "openai-whisper .pt file, or a hub name such as KBLab/kb-whisper-small."),
        click.option("--device", type=click.Choice(DEVICES), help="Where to run (cpu)."),
        click.option("--compute-type", help="CTranslate2 compute type (default int8 on CPU, "
                     "float16 on CUDA)."),
        click.option("--threads", type=click.IntRange(0, 256), help="CPU threads (0: default)."),
        click.option("--language", help="Spoken language, 'sv' by default; 'auto' detects."),
        click.option("--beam-size", type=click.IntRange(1, 20), help="Beam size (default 5)."),
        click.option("--batch-size", type=click.IntRange(1, 64),
                     help="Speech chunks faster-whisper decodes at once (default 8; 1 decodes "
                     "them one after another, with less memory)."),
        click.option("--vad/--no-vad", default=None, help="Skip silence with a voice filter."),
        click.option("--word-timestamps/--no-word-timestamps", default=None,
                     help="Keep per-word times."),
        click.option("--glossary/--no-glossary", default=None,
                     help="Prompt Whisper with IOP/LOU vocabulary."),
        click.option("--prefer", type=click.Choice(PREFERENCES),
                     help="Use the feed's own transcript when there is one (default publisher)."),
        click.option("--allow-private", is_flag=True, default=None,
                     help="Allow feeds and audio on loopback/private addresses."),
    ]
    for option in reversed(options):
        func = option(func)
    return func
