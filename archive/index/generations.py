"""Index generations: ``gen-<stamp>/`` folders and the ``CURRENT`` file naming the one in use.

A rebuild writes a new generation beside the old and then replaces ``CURRENT`` (write to a
temporary name, rename), so readers see the old index or the new one, never a half-built one.
Each generation records the schema version it was built with; one built by another version of
poddarkiv is not opened (see :func:`current_generation`).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as windex
from whoosh.fields import Schema

from poddarkiv.archive.files import atomic_write_bytes
from poddarkiv.archive.index.schema import SCHEMA_VERSION
from poddarkiv.errors import IndexError_

__all__ = [
    "current_generation",
    "new_generation",
    "prune_generations",
    "read_current",
    "reindex_needed",
    "set_current",
]

_CURRENT = "CURRENT"
_VERSION = "SCHEMA_VERSION"
_REINDEX_NEEDED = "REINDEX_NEEDED"


def read_current(root: Path) -> Path | None:
    """The generation ``CURRENT`` names, or ``None``."""
    try:
        name = (root / _CURRENT).read_text("utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexError_(f"cannot read {root / _CURRENT}: {exc}") from exc
    return root / name if name and "/" not in name else None


def set_current(root: Path, gen: Path) -> None:
    """Make ``gen`` the generation in use (atomically)."""
    atomic_write_bytes(root / _CURRENT, gen.name.encode("utf-8"))


def new_generation(root: Path, schema: Schema, *, reindex_needed: bool = False) -> Path:
    """Create an empty index in a new generation folder (not yet current)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = root / f"gen-{stamp}"
    try:
        path.mkdir(parents=True)
        windex.create_in(str(path), schema)
        (path / _VERSION).write_text(str(SCHEMA_VERSION), "utf-8")
        if reindex_needed:
            (path / _REINDEX_NEEDED).write_text("built by another version of poddarkiv\n")
    except OSError as exc:
        raise IndexError_(f"cannot create a search index in {path}: {exc}") from exc
    return path


def _version(gen: Path) -> int | None:
    try:
        return int((gen / _VERSION).read_text("utf-8").strip())
    except (OSError, ValueError):
        return None


def current_generation(root: Path, schema: Schema) -> Path:
    """The generation to open, creating one when there is none.

    A generation of another schema version is left in place and a new, empty one is used until
    a rebuild; :func:`reindex_needed` then says so.
    """
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexError_(f"cannot create index directory {root}: {exc}") from exc
    gen = read_current(root)
    if gen is not None and gen.is_dir() and _version(gen) == SCHEMA_VERSION:
        return gen
    gen = new_generation(root, schema, reindex_needed=gen is not None)
    set_current(root, gen)
    return gen


def reindex_needed(gen: Path) -> bool:
    """Whether ``gen`` stands in for an index of another version that needs a rebuild."""
    return (gen / _REINDEX_NEEDED).exists()


def prune_generations(root: Path, keep: tuple[Path, ...]) -> None:
    """Remove every generation but ``keep`` (searchers may still read the previous one)."""
    for old in root.glob("gen-*"):
        if old not in keep:
            shutil.rmtree(old, ignore_errors=True)
