"""Whoosh, as patched: one searcher serves many threads at once without reading garbage."""

from __future__ import annotations

import random
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import whoosh
from whoosh import fields
from whoosh import index as windex
from whoosh.filedb.structfile import BufferFile
from whoosh.qparser import QueryParser

from poddarkiv.archive.index.patches import patch_whoosh

THREADS = 8
ROUNDS = 10
WORDS = ("partnerskap", "upphandling", "förening", "kommun", "avtal", "stöd", "domstol")


def _index(root: Path) -> windex.FileIndex:
    """Several segments of many documents, each with long postings (many blocks)."""
    schema = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(stored=True))
    ix = windex.create_in(str(root), schema)
    for commit in range(2):
        with ix.writer() as w:
            for n in range(300):
                words = " ".join(WORDS[(n + i) % len(WORDS)] for i in range(12))
                w.add_document(id=f"{commit}-{n}", text=f"{words} mening {n}")
    return ix


def test_the_patches_apply_to_this_whoosh() -> None:
    patch_whoosh()
    from whoosh.codec import whoosh3

    from poddarkiv.archive.index import patches

    assert whoosh3.W3LeafMatcher.skip_to is patches._skip_to


def test_another_whoosh_is_refused_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whoosh, "__version__", (2, 7, 5))
    with pytest.raises(ImportError, match=r"needs Whoosh 2\.7\.4"):
        patch_whoosh()


def test_fresh_searchers_shared_by_threads_read_the_same_results(tmp_path: Path) -> None:
    patch_whoosh()
    ix = _index(tmp_path)
    parser = QueryParser("text", ix.schema)
    queries = [parser.parse(q) for q in (*WORDS, "partnerskap OR kommun", '"avtal stöd"')]
    with ix.searcher() as s:
        expected = [[(h["id"], h["text"]) for h in s.search(q, limit=50)] for q in queries]
    errors: list[str] = []

    def search(s: object, barrier: threading.Barrier, offset: int) -> None:
        barrier.wait()
        for i in range(len(queries)):
            k = (i + offset) % len(queries)
            try:
                got = [(h["id"], h["text"]) for h in s.search(queries[k], limit=50)]  # type: ignore[attr-defined]
            except Exception as exc:  # any failure at all is the finding
                errors.append(f"{type(exc).__name__}: {exc}")
                return
            if got != expected[k]:
                errors.append(f"different results for {queries[k]}")

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so that races show
    try:
        for _ in range(ROUNDS):  # each round a fresh searcher: readers built and read at once
            _round(ix, search)
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def _round(ix: windex.FileIndex, search: Callable[[object, threading.Barrier, int], None]
           ) -> None:
    with ix.searcher() as s:
        barrier = threading.Barrier(THREADS)
        threads = [threading.Thread(target=search, args=(s, barrier, n)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def _sparse_index(root: Path) -> windex.FileIndex:
    """One segment where ``every`` is in all 2,000 documents and ``nth<k>`` in every k-th one."""
    schema = fields.Schema(text=fields.TEXT(phrase=False))
    ix = windex.create_in(str(root), schema)
    with ix.writer() as w:
        for n in range(2000):
            words = ["every"] + [f"nth{k}" for k in (2, 7, 50, 333) if n % k == 0]
            w.add_document(text=" ".join(words))
    return ix


def test_skip_to_lands_on_the_first_posting_at_or_after_the_target(tmp_path: Path) -> None:
    patch_whoosh()
    ix = _sparse_index(tmp_path)
    rng = random.Random(4)
    with ix.searcher() as s:
        for word in ("every", "nth2", "nth7", "nth50", "nth333"):
            postings = list(s.postings("text", word).all_ids())
            assert len(postings) > 1
            for _ in range(20):
                m = s.postings("text", word)
                # Targets in order, as an intersection asks: inside a block, across blocks, on
                # an id itself, past the last id.
                for target in sorted(rng.sample(range(2100), 8)):
                    expected = next((p for p in postings if p >= target), None)
                    if not m.is_active():
                        assert expected is None
                        break
                    m.skip_to(target)
                    if expected is None:
                        assert not m.is_active()
                        break
                    assert (m.is_active(), m.id()) == (True, expected)


def test_an_intersection_of_long_postings_finds_exactly_the_shared_documents(
        tmp_path: Path) -> None:
    patch_whoosh()
    ix = _sparse_index(tmp_path)
    with ix.searcher() as s:
        got = s.search(QueryParser("text", ix.schema).parse("nth7 nth50"), limit=None)
        assert sorted(h.docnum for h in got) == [n for n in range(2000) if n % 350 == 0]


def test_a_column_of_a_compound_segment_is_read_without_copying_it(tmp_path: Path) -> None:
    patch_whoosh()
    ix = _index(tmp_path)
    with ix.searcher() as s:
        (leaf, _), *_ = s.reader().leaf_readers()
        assert leaf.stored_fields(3)["id"] == "0-3"
        colfile = leaf._perdoc._colfiles["_stored"][0]
        assert isinstance(colfile, BufferFile)
        assert colfile._stream is None  # read by slices: no copy of the column
        # Whoosh's stream methods still work: the stream is made when first asked for.
        colfile.seek(0)
        assert colfile.read(4) == colfile.get(0, 4)
        assert colfile._stream is not None
