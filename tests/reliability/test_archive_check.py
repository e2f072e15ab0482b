"""check_archive, the judge of every fault test, notices each kind of loss it claims to."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.store import Catalogue, DataDir
from tests.reliability.archive_check import check_archive, debris
from tests.site.site_archive import build_archive


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("check") / "data"
    catalogue = build_archive(root)
    with ArchiveIndex.open(catalogue.data.index) as index:
        index.rebuild(catalogue)
    catalogue.close()
    return root


@pytest.fixture()
def root(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "data"
    shutil.copytree(pristine, copy)
    return copy


@pytest.fixture()
def catalogue(root: Path) -> Iterator[Catalogue]:
    cat = Catalogue(DataDir(root))
    yield cat
    cat.close()


def test_a_whole_archive_passes(root: Path) -> None:
    assert check_archive(root) == []
    assert debris(root) == []


def test_an_episode_missing_from_the_index_is_a_loss(root: Path) -> None:
    with ArchiveIndex.open(DataDir(root).index) as index:
        index.remove_episode("iop-och-upphandling")
    assert any("index holds" in p for p in check_archive(root))


def test_a_truncated_audio_file_under_its_final_name_is_a_loss(root: Path,
                                                                catalogue: Catalogue) -> None:
    episode = catalogue.episode("statsstod-och-sgei")
    assert episode is not None and episode.audio_path
    audio = root / episode.audio_path
    audio.write_bytes(audio.read_bytes()[:5000])
    assert any("audio under its final name" in p for p in check_archive(root))


def test_an_unreadable_transcript_is_a_loss(root: Path, catalogue: Catalogue) -> None:
    info = catalogue.transcript_info("rattsfallet-i-alingsas")
    assert info is not None
    (root / info.path).write_text('{"episode_id": ', "utf-8")
    assert any("unreadable" in p for p in check_archive(root))


@pytest.mark.parametrize("lock", ["ingest", "whoosh"])
def test_a_held_lock_is_reported(root: Path, lock: str) -> None:
    data = DataDir(root)
    path = data.ingest_lock if lock == "ingest" else sorted(data.index.glob("gen-*"))[-1] / (
        "MAIN_WRITELOCK")
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert any("lock" in p for p in check_archive(root))
    finally:
        os.close(fd)
    assert check_archive(root) == []


def test_leftover_temporary_files_are_found(root: Path) -> None:
    (root / "audio" / "x.partial").write_bytes(b"half")
    (root / "transcripts" / ".a.json.123.tmp").write_bytes(b"{")
    assert sorted(p.name for p in debris(root)) == [".a.json.123.tmp", "x.partial"]
