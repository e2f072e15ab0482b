"""What ``poddarkiv models`` lists: never hashing, never trusting a half-written file."""

from __future__ import annotations

import json
from pathlib import Path

from poddarkiv.ingest.inventory import installed_models
from poddarkiv.ingest.model import BUNDLED_MODEL_SHA256


def _checkpoint(models: Path, sha256: str, *, size_ok: bool = True) -> Path:
    out = models / f"openai-whisper-{sha256[:16]}.pt"
    out.write_bytes(b"weights")
    size = out.stat().st_size if size_ok else 999
    (models / (out.name + ".ok")).write_text(json.dumps({"sha256": sha256, "size": size,
                                                         "converter": 1}))
    return out


def test_an_empty_folder_lists_the_bundled_model_for_faster_whisper(tmp_path: Path) -> None:
    (only,) = installed_models(tmp_path / "models")
    assert (only.name, only.kind, only.path) == ("base", "bundled", None)
    assert only.engines == ("faster-whisper",)


def test_a_checkpoint_joins_its_source_or_stands_alone(tmp_path: Path) -> None:
    _checkpoint(tmp_path, BUNDLED_MODEL_SHA256)
    orphan = _checkpoint(tmp_path, "ab" * 32)
    _checkpoint(tmp_path, "cd" * 32, size_ok=False)  # half-written: resolve_model rebuilds it
    listed = installed_models(tmp_path)
    assert [(m.name, m.kind) for m in listed] == [("base", "bundled"),
                                                  (str(orphan), "checkpoint")]
    assert listed[0].engines == ("faster-whisper", "openai-whisper")
    assert listed[1].engines == ("openai-whisper",)


def test_an_interrupted_pull_is_not_listed(tmp_path: Path) -> None:
    repo = tmp_path / "hub" / "models--Org--model"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("abc")
    (repo / "snapshots" / "abc").mkdir(parents=True)  # no model.bin yet
    assert [m.name for m in installed_models(tmp_path)] == ["base"]
    (repo / "snapshots" / "abc" / "model.bin").write_bytes(b"x")
    hub = installed_models(tmp_path)[1]
    assert (hub.name, hub.kind, hub.sha256) == ("Org/model", "hub", None)  # not hashed here
