"""archive.index.postings: Whoosh's stored postings decoded into arrays, exactly."""

from __future__ import annotations

from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex, postings
from poddarkiv.archive.index.postings import LeafData
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchRequest

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal")


def _episode(eid: str, lines: list[str]) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title="Ett avsnitt")
    segs = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


def _cached_keys() -> set[object]:
    return set(postings._CACHE._items)


def test_warming_decodes_the_positions_of_frequent_terms_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.archive.index import decoded
    monkeypatch.setattr(decoded, "WARM_POSITIONS_MIN_DOCS", 5)
    lines = [f"Vi talar om upphandling igen, del {i}." for i in range(8)]
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many([_episode("a", [*lines, "En gång om avtal och stöd."])])
        decoded: list[str] = []
        real = LeafData.positions

        def counted(self: LeafData, field: str, term: str) -> object:
            if (self.segment_id, "x", field, term) not in _cached_keys():
                decoded.append(term)
            return real(self, field, term)

        monkeypatch.setattr(LeafData, "positions", counted)
        ix.warm(min_docs=5)
        assert "upphandling" in decoded and "avtal" not in decoded
        decoded.clear()
        page = ix.search(SearchRequest(q='"talar om upphandling"'))
        assert page.total_episodes == 1
        assert "upphandling" not in decoded  # warmed: the phrase search did not decode it
