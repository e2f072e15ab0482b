"""archive.files: the one owner of atomic writes and file hashes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from poddarkiv.archive.files import (
    atomic_copy,
    atomic_output,
    atomic_write_bytes,
    atomic_write_text,
    sha256_file,
)


def test_an_atomic_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "t.json"
    atomic_write_bytes(target, b"old")
    atomic_write_text(target, "nytt innehåll")
    assert target.read_text(encoding="utf-8") == "nytt innehåll"
    assert [p.name for p in target.parent.iterdir()] == ["t.json"]


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t.json"
    atomic_write_bytes(target, b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("poddarkiv.archive.files.os.fsync", disk_full)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_an_exception_inside_atomic_output_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(ValueError), atomic_output(target) as fh:
        fh.write(b"half")
        raise ValueError("hash mismatch")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.bin"]


def test_atomic_copy_copies_the_bytes(tmp_path: Path) -> None:
    src = tmp_path / "a"
    src.write_bytes(b"x" * 3_000_000)
    atomic_copy(src, tmp_path / "b")
    assert (tmp_path / "b").read_bytes() == src.read_bytes()


def test_sha256_file_is_the_hash_of_the_contents(tmp_path: Path) -> None:
    data = b"poddarkiv" * 300_000  # over one read chunk
    (tmp_path / "f").write_bytes(data)
    assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()
