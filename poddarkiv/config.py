"""Settings: one frozen record, built at the edge and passed down.

Precedence: command-line flags, then ``PODDARKIV_*`` environment variables, then defaults.
Only :func:`settings_from_env` reads the environment; nothing deeper does.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from poddarkiv.errors import ConfigError

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEVICES",
    "ENGINES",
    "PREFERENCES",
    "Settings",
    "settings_from_env",
    "settings_to_env",
]

DEFAULT_DATA_DIR = Path("poddarkiv-data")

#: The transcription engines, by name: the one list that the CLI, the settings and
#: :mod:`poddarkiv.ingest.transcribe` (which maps each to its class) read. It lives here rather
#: than beside the engines so that reading it never loads numpy or the engines themselves.
Engine = Literal["faster-whisper", "openai-whisper"]
ENGINES: tuple[str, ...] = get_args(Engine)
Prefer = Literal["publisher", "whisper"]
PREFERENCES: tuple[str, ...] = get_args(Prefer)
Device = Literal["cpu", "cuda"]
DEVICES: tuple[str, ...] = get_args(Device)


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything poddarkiv can be told, with defaults that work offline on a laptop."""

    data_dir: Path = DEFAULT_DATA_DIR
    #: Whisper engine, model ("base" means the bundled offline model), and where it runs.
    engine: Engine = "faster-whisper"
    model: str = "base"
    device: str = "cpu"
    #: CTranslate2 compute type; ``None`` means int8 on CPU and float16 on CUDA.
    compute_type: str | None = None
    threads: int = 0
    language: str = "sv"
    #: Beam width, for both engines (openai-whisper's path has always used 5).
    beam_size: int = 5
    #: faster-whisper decodes this many speech chunks at once (its BatchedInferencePipeline,
    #: with its voice filter cutting the chunks); 1 decodes sequentially. Measured on the sample
    #: (2 threads): half the CPU time of sequential decoding, word error rate against the scripts
    #: 0.627 against 0.631, 8.9x openai-whisper in the quietest round (bench/README.md,
    #: "Transcription"). openai-whisper always decodes sequentially.
    batch_size: int = 8
    #: faster-whisper's voice filter for the sequential decoder (the batched one always uses it).
    vad: bool = False
    word_timestamps: bool = False
    glossary: bool = False
    #: Use the publisher's transcript when the feed offers one.
    prefer: Prefer = "publisher"
    #: Allow fetching from loopback/private addresses (the demo and tests need loopback).
    allow_private: bool = False
    #: Caps, in bytes and seconds.
    feed_max_bytes: int = 15 * 1024 * 1024
    audio_max_bytes: int = 1024 * 1024 * 1024
    audio_max_duration_s: float = 6 * 3600.0
    #: Where assembled model weights are cached; ``None`` means ``data_dir / "models"``.
    model_cache_dir: Path | None = None
    #: Site.
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = None
    #: Where readers report accessibility problems (an e-mail address or a URL), shown in the
    #: accessibility statement, as the Swedish DOS law (2018:1937) requires.
    contact: str | None = None
    #: How many processes serve the site (uvicorn workers over one data directory).
    site_workers: int = 1
    #: Cluster (optional): Celery's broker and result backend, ``redis://host:6379/0``. Unset,
    #: ingest transcribes in its own process, as it always has.
    broker: str | None = None
    #: On a worker: the archive's data directory, when it is mounted there (read-only will do).
    shared_data_dir: Path | None = None
    #: Seconds a taken job may run before Redis hands it to another worker: longer than the
    #: slowest transcription of the longest episode. With a broker, a timeout not longer than
    #: ``audio_max_duration_s`` is refused (a job transcribed at real time would run twice).
    job_visibility_timeout_s: float = 12 * 3600.0
    #: Seconds between ingest's looks at its jobs in the result backend.
    job_poll_s: float = 2.0

    def __post_init__(self) -> None:
        # Strict inside: a bad combination fails here, at the edge, not mid-ingest.
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine {self.engine!r}: {' or '.join(ENGINES)}")
        if self.device not in DEVICES:
            raise ConfigError(f"unknown device {self.device!r}: {' or '.join(DEVICES)}")
        if self.prefer not in PREFERENCES:
            raise ConfigError(f"prefer must be {' or '.join(PREFERENCES)}, not {self.prefer!r}")
        if self.engine == "openai-whisper" and self.vad:
            raise ConfigError("the voice-activity filter (--vad) needs the faster-whisper engine")
        if self.beam_size < 1 or self.batch_size < 1 or self.threads < 0:
            raise ConfigError("beam size and batch size must be at least 1 and threads at "
                              "least 0")
        if self.broker is not None and not self.broker.startswith(("redis://", "rediss://")):
            raise ConfigError(
                f"the broker must be a redis:// or rediss:// URL, not {self.broker!r}")
        if self.site_workers < 1 or self.job_visibility_timeout_s <= 0 or self.job_poll_s <= 0:
            raise ConfigError("site workers, the job visibility timeout and the poll interval "
                              "must be positive")
        self._check_visibility_timeout()

    def _check_visibility_timeout(self) -> None:
        """Refuse a visibility timeout that a job for the longest allowed episode outlasts.

        Refused rather than warned about: the failure it causes is silent and costly (Redis
        hands a job that is still running to a second worker, again every timeout, so a long
        episode may never finish), and the fix is one setting. Only with a broker: without
        one, nothing reads the timeout. Longer than the episode is a floor, not a guarantee;
        a model slower than real time needs more (the default is twice the default longest
        episode).
        """
        if self.broker is not None and (
                self.job_visibility_timeout_s <= self.audio_max_duration_s):
            raise ConfigError(
                f"the job visibility timeout (job_visibility_timeout_s = "
                f"{self.job_visibility_timeout_s:g} s) must be longer than the longest episode "
                f"allowed (audio_max_duration_s = {self.audio_max_duration_s:g} s), or Redis "
                "hands a job still running to a second worker: raise "
                "PODDARKIV_JOB_VISIBILITY_TIMEOUT_S or lower PODDARKIV_AUDIO_MAX_DURATION_S")

    @property
    def models_dir(self) -> Path:
        """Where assembled and converted model weights live."""
        if self.model_cache_dir is not None:
            return self.model_cache_dir
        return self.data_dir / "models"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; ``None`` values are ignored (unset flags)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV_PREFIX = "PODDARKIV_"
_BOOL_TRUE = {"1", "true", "yes", "on", "ja"}
_BOOL_FALSE = {"0", "false", "no", "off", "nej", ""}


def settings_from_env(env: Mapping[str, str] | None = None, **flags: Any) -> Settings:
    """Build :class:`Settings` from ``PODDARKIV_*`` variables, then ``flags`` on top.

    ``PODDARKIV_DATA`` is accepted as a short name for ``PODDARKIV_DATA_DIR``.
    """
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    if f"{_ENV_PREFIX}DATA" in env:
        values["data_dir"] = Path(env[f"{_ENV_PREFIX}DATA"])
    for name, f in fields.items():
        key = _ENV_PREFIX + name.upper()
        if key in env:
            values[name] = _coerce(name, str(f.type), env[key])
    values.update({k: v for k, v in flags.items() if v is not None})
    for key in ("data_dir", "model_cache_dir"):
        if key in values and values[key] is not None:
            values[key] = Path(values[key])
    try:
        return Settings(**values)
    except TypeError as exc:
        raise ConfigError(str(exc)) from exc


def settings_to_env(settings: Settings) -> dict[str, str]:
    """``PODDARKIV_*`` variables that :func:`settings_from_env` reads back as ``settings``.

    How settings reach processes started by another program (uvicorn's site workers).
    """
    out: dict[str, str] = {}
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        if value is None:
            continue
        if isinstance(value, bool):
            value = "1" if value else "0"
        out[_ENV_PREFIX + f.name.upper()] = str(value)
    return out


def _coerce(name: str, type_name: str, raw: str) -> Any:
    try:
        if type_name == "bool":
            low = raw.strip().lower()
            if low in _BOOL_TRUE:
                return True
            if low in _BOOL_FALSE:
                return False
            raise ValueError(raw)
        if type_name in ("int", "int | None"):
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError as exc:
        raise ConfigError(f"PODDARKIV_{name.upper()}: cannot read {raw!r} as {type_name}") from exc
    if type_name.startswith("Path"):
        return Path(raw)
    if type_name == "str | None":
        return raw or None
    return raw
