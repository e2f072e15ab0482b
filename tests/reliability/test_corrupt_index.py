"""A damaged search index never takes the site down, and a rebuild restores all of it.

Each case damages the index of a small archive the way a disk, a crash or an operator can: the
table of contents (``_MAIN_<n>.toc``) truncated, zeroed or emptied, a segment file (``*.seg``)
truncated, zeroed or with a run of bytes overwritten, and ``CURRENT`` naming nothing usable.
Then:

* the site, opening the damaged index itself, answers every search with 200 or with 503 and
  "Sökningen är inte tillgänglig just nu" (never a 500), and the rest of the site still works;
* ``rebuild_index`` (what ``poddarkiv reindex`` runs) restores one document per catalogue
  episode and per transcript segment, and the site finds the sample episodes again.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import PoddarkivError
from poddarkiv.site.app import create_app
from tests.httpserver import LoopbackServer
from tests.reliability.archive_check import (
    ArchiveCounts,
    catalogue_counts,
    check_archive,
    index_generation,
)
from tests.reliability.harness import Podcast, ingest_once
from tests.site.site_archive import build_archive

#: What the search page says when the index cannot answer (site/templates/search.html).
UNAVAILABLE = "Sökningen är inte tillgänglig just nu"
#: Words spoken in the sample episodes: each finds at least one of them in a whole index.
QUERIES = ("partnerskap", "upphandling", "iop", "statsstöd", "förening")

Damage = Callable[[Path], None]


def _toc(index_dir: Path) -> Path:
    return sorted(index_generation(index_dir).glob("_MAIN_*.toc"))[-1]


def _segment(index_dir: Path) -> Path:
    return max(index_generation(index_dir).glob("*.seg"), key=lambda p: p.stat().st_size)


def _truncate(pick: Callable[[Path], Path]) -> Damage:
    def damage(index_dir: Path) -> None:
        path = pick(index_dir)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damage


def _zero(pick: Callable[[Path], Path]) -> Damage:
    def damage(index_dir: Path) -> None:
        path = pick(index_dir)
        path.write_bytes(bytes(path.stat().st_size))
    return damage


def _empty(pick: Callable[[Path], Path]) -> Damage:
    def damage(index_dir: Path) -> None:
        pick(index_dir).write_bytes(b"")
    return damage


def _overwrite(pick: Callable[[Path], Path], *, at: float, size: int, seed: int) -> Damage:
    """Overwrite ``size`` bytes at the fraction ``at`` of the file with random bytes."""
    def damage(index_dir: Path) -> None:
        path = pick(index_dir)
        data = bytearray(path.read_bytes())
        start = int(len(data) * at)
        noise = random.Random(seed).randbytes(size)
        data[start:start + size] = noise[: len(data) - start]
        path.write_bytes(bytes(data))
    return damage


def _flip_bytes(pick: Callable[[Path], Path], *, every: int, seed: int) -> Damage:
    """Invert one byte in every ``every`` bytes, all through the file (bit rot)."""
    def damage(index_dir: Path) -> None:
        path = pick(index_dir)
        data = bytearray(path.read_bytes())
        rng = random.Random(seed)
        for block in range(0, len(data), every):
            at = min(len(data) - 1, block + rng.randrange(every))
            data[at] ^= 0xFF
        path.write_bytes(bytes(data))
    return damage


def _current(text: str) -> Damage:
    def damage(index_dir: Path) -> None:
        (index_dir / "CURRENT").write_text(text, "utf-8")
    return damage


def _remove(pick: Callable[[Path], Path]) -> Damage:
    return lambda index_dir: pick(index_dir).unlink()


def _case(name: str, damage: Damage) -> object:
    return pytest.param(damage, id=name)


CASES = [
    _case("toc-truncated", _truncate(_toc)),
    _case("toc-zeroed", _zero(_toc)),
    _case("toc-empty", _empty(_toc)),
    _case("toc-removed", _remove(_toc)),
    _case("toc-overwritten", _overwrite(_toc, at=0.3, size=64, seed=1)),
    _case("segment-truncated", _truncate(_segment)),
    _case("segment-zeroed", _zero(_segment)),
    _case("segment-bytes-flipped", _flip_bytes(_segment, every=512, seed=2)),
    _case("current-garbage", _current("\0\0\0\0")),
    _case("current-names-nothing", _current("gen-19700101T000000000000")),
    _case("current-escapes", _current("../../etc")),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ArchiveCounts]:
    """A sample archive with a complete index, and what that index holds; copied per test."""
    root = tmp_path_factory.mktemp("pristine") / "data"
    catalogue = build_archive(root)
    try:
        expected = catalogue_counts(catalogue)
        with ArchiveIndex.open(catalogue.data.index) as index:
            index.rebuild(catalogue)
            assert ArchiveCounts(*index.doc_counts()) == expected
    finally:
        catalogue.close()
    return root, expected


@pytest.fixture()
def archive(pristine: tuple[Path, ArchiveCounts], tmp_path: Path) -> Path:
    """A fresh copy of the pristine archive, to damage."""
    root = tmp_path / "data"
    shutil.copytree(pristine[0], root)
    return root


def _site(root: Path) -> TestClient:
    # The site opens the (damaged) index itself, as `poddarkiv serve` does.
    app = create_app(Settings(data_dir=root))
    return TestClient(app, raise_server_exceptions=False)


def _search_statuses(client: TestClient) -> list[tuple[str, int, bool]]:
    out = []
    for q in QUERIES:
        page = client.get("/sok", params={"q": q})
        twin = client.get("/sok.json", params={"q": q})
        assert twin.status_code == page.status_code, q
        unavailable = UNAVAILABLE in page.text and twin.json().get("error") == "unavailable"
        out.append((q, page.status_code, unavailable))
    return out


@pytest.mark.parametrize("damage", CASES)
def test_a_damaged_index_answers_unavailable_never_500(
        archive: Path, damage: Damage) -> None:
    damage(DataDir(archive).index)
    with _site(archive) as client:
        statuses = _search_statuses(client)
        assert all(status == 200 or (status == 503 and unavailable)
                   for _, status, unavailable in statuses), statuses
        assert client.get("/").status_code == 200
        assert client.get("/avsnitt/iop-och-upphandling").status_code == 200


@pytest.mark.parametrize("damage", CASES)
def test_reindex_restores_the_whole_index(
        archive: Path, pristine: tuple[Path, ArchiveCounts], damage: Damage) -> None:
    from poddarkiv.runner import rebuild_index

    damage(DataDir(archive).index)
    counts = rebuild_index(Settings(data_dir=archive))
    assert ArchiveCounts(*counts) == pristine[1]
    assert check_archive(archive, probe_audio=False) == []
    with _site(archive) as client:
        found = client.get("/sok.json", params={"q": "partnerskap"}).json()
        assert found["total_episodes"] >= 3


def test_the_reindex_command_repairs_a_zeroed_table_of_contents(archive: Path) -> None:
    from poddarkiv.cli import cli

    _zero(_toc)(DataDir(archive).index)
    result = CliRunner().invoke(cli, ["--data-dir", str(archive), "reindex"])
    assert result.exit_code == 0, result.output
    assert check_archive(archive, probe_audio=False) == []


def test_a_rebuild_keeps_the_previous_index_answering_until_it_is_done(archive: Path) -> None:
    """Searches during a rebuild see the old generation, then the new one, never a mix."""
    catalogue = Catalogue(DataDir(archive))
    seen: list[int] = []
    try:
        with ArchiveIndex.open(catalogue.data.index) as index:
            def themes_for(*_: object) -> None:
                seen.append(index.doc_counts()[0])  # a search in the middle of the rebuild

            index.rebuild(catalogue, themes_for=themes_for)
            assert seen and set(seen) == {catalogue.count_episodes()}
            assert ArchiveCounts(*index.doc_counts()) == catalogue_counts(catalogue)
    finally:
        catalogue.close()


def test_an_ingest_on_a_damaged_index_fails_cleanly_and_reindex_recovers(
        http_server: LoopbackServer, tmp_path: Path) -> None:
    from poddarkiv.runner import rebuild_index

    podcast = Podcast(http_server)
    podcast.serve()
    podcast.episodes = 2
    root, feed_url = tmp_path / "data", http_server.url("/feed.xml")
    assert not ingest_once(root, feed_url).failed
    _zero(_segment)(DataDir(root).index)
    podcast.episodes = 3
    try:
        report = ingest_once(root, feed_url)
    except PoddarkivError as exc:
        assert "reindex" in str(exc)
    else:
        assert not report.failed  # it repaired the index itself
    rebuild_index(Settings(data_dir=root))
    assert not ingest_once(root, feed_url).failed
    assert check_archive(root) == []
