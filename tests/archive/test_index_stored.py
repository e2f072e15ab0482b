"""Stored fields: segments written uncompressed, read directly; older segments still read."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from whoosh import fields
from whoosh import index as windex
from whoosh.codec import whoosh3

from poddarkiv.archive.index.patches import patch_whoosh
from poddarkiv.archive.index.stored import STORED_COLUMN, StoredCodec, stored_reader

SCHEMA = fields.Schema(id=fields.ID(stored=True), text=fields.TEXT(stored=True),
                       start=fields.STORED)


def _docs(commit: int, n: int = 40) -> list[dict[str, Any]]:
    # Every fifth document stores nothing (its fields are all unstored or absent).
    return [{"id": f"{commit}-{i}", "text": f"mening {i} om partnerskap och upphandling",
             "start": i * 5.5} if i % 5 else {} for i in range(n)]


def _write(ix: windex.FileIndex, docs: list[dict[str, Any]], **kwargs: Any) -> None:
    with ix.writer(**kwargs) as w:
        for doc in docs:
            w.add_document(**doc)


def _read_all(ix: windex.FileIndex) -> list[dict[str, Any]]:
    with ix.searcher() as s:
        return [stored_reader(leaf)(d) for leaf, _ in s.reader().leaf_readers()
                for d in range(leaf.doc_count_all())]


def test_a_segment_of_this_codec_keeps_plain_pickles(tmp_path: Path) -> None:
    patch_whoosh()
    ix = windex.create_in(str(tmp_path), SCHEMA)
    _write(ix, _docs(0), codec=StoredCodec())
    with ix.searcher() as s:
        (leaf, _), = s.reader().leaf_readers()
        column = leaf._perdoc._cached_reader("_stored", STORED_COLUMN)._child
        assert pickle.loads(column[1]) == {"id": "0-1", "start": 5.5,
                                           "text": "mening 1 om partnerskap och upphandling"}
        assert column[0] == b""


def test_direct_reads_equal_whooshs_own(tmp_path: Path) -> None:
    patch_whoosh()
    ix = windex.create_in(str(tmp_path), SCHEMA)
    _write(ix, _docs(0), codec=StoredCodec())
    expected = [{k: v for k, v in doc.items()} for doc in _docs(0)]
    assert _read_all(ix) == expected
    with ix.searcher() as s:
        assert [s.stored_fields(d) for d in range(len(expected))] == expected


def test_segments_of_whooshs_codec_are_read_and_merged_into_this_one(tmp_path: Path) -> None:
    patch_whoosh()
    ix = windex.create_in(str(tmp_path), SCHEMA)
    _write(ix, _docs(0))  # Whoosh's codec: compressed, as indexes written before
    _write(ix, _docs(1), codec=StoredCodec())
    expected = _docs(0) + _docs(1)
    assert _read_all(ix) == expected
    codecs = {type(s.codec()) for s in ix._segments()}
    assert codecs == {whoosh3.W3Codec, StoredCodec}

    ix.writer(codec=StoredCodec()).commit(optimize=True)  # a merge rewrites both

    assert {type(s.codec()) for s in ix._segments()} == {StoredCodec}
    assert _read_all(ix) == expected


def test_the_codec_is_found_again_when_the_index_is_reopened(tmp_path: Path) -> None:
    patch_whoosh()
    _write(windex.create_in(str(tmp_path), SCHEMA), _docs(0), codec=StoredCodec())
    ix = windex.open_dir(str(tmp_path))
    assert {type(s.codec()) for s in ix._segments()} == {StoredCodec}
    assert _read_all(ix) == _docs(0)
