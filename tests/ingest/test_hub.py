"""Pulling a hub model, offline: a loopback server speaks the hub's file API (tests/hubserver.py)
and serves the bundled CTranslate2 weights as ``Test/whisper-base-ct2``.

A pull downloads only what faster-whisper loads, checks every file against the hub's listing,
converts the weights once for openai-whisper, and leaves the model where ``--model NAME``
finds it with no network at all.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.errors import ModelError
from poddarkiv.ingest.hub import list_hub_files, pull_model
from poddarkiv.ingest.inventory import installed_models
from poddarkiv.ingest.model import (
    BUNDLED_MODEL_SHA256,
    HuggingFaceHub,
    resolve_model,
)
from tests.hubserver import (
    CT2_FILES,
    TEST_REPO,
    FakeHub,
    HubRepo,
    base_ct2,
    ct2_repo,
    serve_hub,
)

__all__ = ["base_ct2"]  # the session fixture, from tests/hubserver.py

REPO = TEST_REPO


@pytest.fixture
def hub(base_ct2: Path) -> Iterator[FakeHub]:
    """A loopback hub serving ``Test/whisper-base-ct2``."""
    with serve_hub({REPO: ct2_repo(base_ct2)}) as server:
        yield server


def _dead_endpoint() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends


def test_listing_gives_sizes_and_hashes(hub: FakeHub) -> None:
    listing = list_hub_files(REPO, endpoint=hub.url)
    files = {f.name: f for f in listing.files}
    assert listing.layout == "ctranslate2"
    assert files["model.bin"].sha256 == BUNDLED_MODEL_SHA256
    assert files["config.json"].blob_id and files["config.json"].sha256 is None
    assert {f.name for f in listing.wanted} == set(CT2_FILES)  # not the README


def test_pull_checks_converts_and_works_offline_afterwards(hub: FakeHub, tmp_path: Path) -> None:
    models = tmp_path / "models"
    pulled = pull_model(REPO, models_dir=models, endpoint=hub.url, progress=False)

    assert pulled.sha256 == BUNDLED_MODEL_SHA256
    assert {p.name for p in pulled.folder.iterdir()} == set(CT2_FILES)
    assert pulled.checkpoint is not None and pulled.checkpoint.is_file()
    assert hub.downloads("README.md") == 0
    # The hub is gone: both engines resolve the name from the cache, with nothing to convert.
    offline = HuggingFaceHub(endpoint=_dead_endpoint(), probe_timeout_s=0.5)
    fast = resolve_model(REPO, cache_dir=models, engine="faster-whisper", hub=offline)
    torch = resolve_model(REPO, cache_dir=models, engine="openai-whisper", hub=offline)
    assert (fast.kind, fast.path, fast.sha256) == ("hub", pulled.folder, BUNDLED_MODEL_SHA256)
    assert torch.path == pulled.checkpoint
    listed = {m.name: m for m in installed_models(models)}
    assert listed[REPO].engines == ("faster-whisper", "openai-whisper")
    assert listed[REPO].sha256 == BUNDLED_MODEL_SHA256


def test_a_repo_with_both_forms_gives_only_the_ctranslate2_files(base_ct2: Path,
                                                                  tmp_path: Path) -> None:
    """KBLab's repos hold transformers weights beside the CTranslate2 ones."""
    repo = ct2_repo(base_ct2)
    repo.files["model.safetensors"] = base_ct2 / "vocabulary.txt"
    with serve_hub({"KBLab/kb-whisper-small": repo}) as hub:
        assert list_hub_files("KBLab/kb-whisper-small", endpoint=hub.url).layout == "ctranslate2"
        pulled = pull_model("KBLab/kb-whisper-small", models_dir=tmp_path, endpoint=hub.url,
                            progress=False, convert=False)
        assert hub.downloads("model.safetensors") == 0
    assert {p.name for p in pulled.folder.iterdir()} == set(CT2_FILES)


def test_a_second_pull_downloads_nothing(hub: FakeHub, tmp_path: Path) -> None:
    pull_model(REPO, models_dir=tmp_path, endpoint=hub.url, progress=False, convert=False)
    again = pull_model(REPO, models_dir=tmp_path, endpoint=hub.url, progress=False,
                       convert=False)
    assert hub.downloads("model.bin") == 1
    assert again.sha256 == BUNDLED_MODEL_SHA256


def test_a_file_that_differs_from_the_listing_is_refused_and_evicted(
        base_ct2: Path, tmp_path: Path) -> None:
    files = {name: base_ct2 / name for name in CT2_FILES}
    tampered = tmp_path / "tokenizer.json"
    shutil.copy(files["tokenizer.json"], tampered)
    repo = HubRepo({**files, "tokenizer.json": tampered})
    for name in repo.files:
        repo.meta(name)  # the listing is made from the true files...
    data = bytearray(tampered.read_bytes())
    data[10] ^= 1  # ...then one byte changes in transit, the size unchanged
    tampered.write_bytes(bytes(data))
    with serve_hub({REPO: repo}) as hub, pytest.raises(ModelError, match=r"damaged.*tokenizer"):
        pull_model(REPO, models_dir=tmp_path / "models", endpoint=hub.url, progress=False)
    snapshot = next((tmp_path / "models" / "hub").glob("models--*/snapshots/*"))
    assert not (snapshot / "tokenizer.json").exists()  # the next pull fetches it again


def test_a_transformers_only_repo_says_how_to_convert_it_and_downloads_nothing(
        tmp_path: Path) -> None:
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"\0" * 1000)
    config = tmp_path / "config.json"
    config.write_text('{"model_type": "whisper"}')
    repo = HubRepo({"model.safetensors": weights, "config.json": config,
                    "tokenizer.json": config})
    with serve_hub({"KBLab/kb-whisper-small": repo}) as hub:
        with pytest.raises(ModelError, match=r"transformers weights.*ct2-transformers-converter"):
            pull_model("KBLab/kb-whisper-small", models_dir=tmp_path / "m", endpoint=hub.url,
                       progress=False)
        assert not any("/resolve/" in path for _, path in hub.requests)


def test_an_unknown_repo_is_a_model_error(hub: FakeHub, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model repo"):
        pull_model("Test/nothing-here", models_dir=tmp_path, endpoint=hub.url, progress=False)


def test_an_unreachable_hub_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot be reached"):
        pull_model(REPO, models_dir=tmp_path, endpoint=_dead_endpoint(), progress=False)
