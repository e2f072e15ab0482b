"""archive.index.packed: rare terms' postings packed at warm-up, answered exactly as decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from poddarkiv.archive.index import ArchiveIndex, postings
from poddarkiv.archive.index.packed import pack_terms
from poddarkiv.archive.index.postings import LeafData, TermPostings
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchRequest

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal om stöd")


def _postings(*ids: int) -> TermPostings:
    return TermPostings(np.array(ids, dtype=np.int64), np.ones(len(ids), dtype=np.float32))


SOURCE = {"avtal": _postings(1, 4), "bidrag": _postings(2), "stöd": _postings(0, 3, 9)}


def test_packed_terms_answer_each_term_with_its_own_postings() -> None:
    packed = pack_terms(sorted(SOURCE), SOURCE.__getitem__, max_bytes=10_000)
    for term, want in SOURCE.items():
        got = packed.get(term)
        assert got is not None and got.ids.tolist() == want.ids.tolist()
        assert got.tf.tolist() == want.tf.tolist()
    assert packed.get("bostad") is None and packed.get("") is None and packed.get("ö") is None


def test_terms_past_the_byte_bound_are_left_out_not_cut() -> None:
    packed = pack_terms(sorted(SOURCE), SOURCE.__getitem__, max_bytes=60)
    assert packed.terms == ["avtal", "bidrag"]
    assert packed.get("stöd") is None
    assert packed.nbytes <= 60
    assert pack_terms(sorted(SOURCE), SOURCE.__getitem__, max_bytes=0).terms == []


def _episode(eid: str, lines: list[str]) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title=f"Avsnitt {eid}",
                 description="Om idéburna föreningar")
    segs = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


ITEMS = [
    _episode("a", [f"Vi talar om upphandling, del {i}." for i in range(8)]
             + ["Kommunen gav föreningsbidrag till Strömbynäs idrottsklubb."]),
    _episode("b", ["Ett partnerskap med Strömbynäs kommun.", "Om upphandling och stöd."]),
    _episode("c", ["Regler för bidrag till föreningar.", "Ingen upphandling här."]),
]
QUERIES = ["strömbynäs", "föreningsbidrag", "bidrag", "partnerskap", "idéburna", "samtal",
           "upphandling", '"gav föreningsbidrag"', "stöd föreningar", "regel"]


def _pages(ix: ArchiveIndex) -> list[object]:
    return [[(h.episode_id, round(h.score, 5), [p.start for p in h.passages])
             for h in ix.search(SearchRequest(q=q)).hits] for q in QUERIES]


def test_after_warming_a_rare_words_search_decodes_nothing_and_finds_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ArchiveIndex.open(tmp_path / "cold") as cold:
        cold.index_many(ITEMS)
        expected = _pages(cold)
    with ArchiveIndex.open(tmp_path / "warm") as ix:
        ix.index_many(ITEMS)
        ix.warm(min_docs=5)  # "upphandling" (9 segments) and a few more cached; the rest packed
        assert postings.cache_bytes() > 0
        decoded: list[str] = []
        real = LeafData.decode

        def counted(self: LeafData, field: str, term: str) -> TermPostings:
            decoded.append(term)
            return real(self, field, term)

        monkeypatch.setattr(LeafData, "decode", counted)
        monkeypatch.setattr(LeafData, "_decode", staticmethod(lambda blocks: pytest.fail(
            "a term was decoded after warming")))
        assert _pages(ix) == expected
        assert decoded == []


def test_a_removed_episode_is_not_found_through_packed_terms(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many(ITEMS)
        ix.warm(min_docs=5)
        found = {q: {h.episode_id for h in ix.search(SearchRequest(q=q)).hits}
                 for q in ("föreningsbidrag", "strömbynäs")}
        assert all("a" in ids for ids in found.values())
        ix.remove_episode("a")
        for q, ids in found.items():
            assert {h.episode_id for h in ix.search(SearchRequest(q=q)).hits} == ids - {"a"}


def test_warming_again_warms_only_segments_it_has_not_seen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many(ITEMS)
        assert ix.warm(min_docs=5) > 0  # "upphandling", "talar", …
        assert ix.warm(min_docs=5) == 0  # nothing new: nothing done
        ix.index_episode(*_episode("d", ["Lokala partnerskap i Kvarnbyäng."])[:3])
        assert ix.warm(min_docs=5) > 0
        monkeypatch.setattr(LeafData, "_decode", staticmethod(lambda blocks: pytest.fail(
            "a term was decoded after warming")))
        assert [h.episode_id for h in ix.search(SearchRequest(q="kvarnbyäng")).hits] == ["d"]
