"""archive.index.view: one searcher's decoded view, deletions masked, across segments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.index.view import SearchView
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Samtal")


def _episode(eid: str, lines: list[str], title: str = "Ett avsnitt"
             ) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title=title)
    segs = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[ArchiveIndex]:
    """Three commits, so three segments; the first episode re-indexed, so its first
    documents are deleted in the first segment."""
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many([_episode("a", ["Upphandling i kommunen.", "Ett kort stycke."])])
        ix.index_many([_episode("b", ["Upphandling och partnerskap i regionen i dag.",
                                      "Föreningar och avtal, och mer om upphandling."])])
        ix.index_many([_episode("a", ["Upphandling i kommunen, nu med fler ord i sig.",
                                      "Partnerskap."], title="Ett längre avsnitt nu")])
        yield ix


def _view(ix: ArchiveIndex) -> SearchView:
    with ix.searcher() as s:
        return ix._decoded.view_of(s, ix._gen.name)


def test_a_term_has_only_its_live_documents(archive: ArchiveIndex) -> None:
    view = _view(archive)
    found = view.postings("text", "upphandling")
    assert len(found.ids) == 3  # b twice, the new a once; the old a's is deleted
    assert view.alive[found.ids].all()
    assert sorted(view.stored(int(d))["episode_id"] for d in found.ids) == ["a", "b", "b"]


def test_field_statistics_count_live_documents_only(archive: ArchiveIndex) -> None:
    view = _view(archive)
    for field, episodes in (("text", False), ("title", True)):
        docs = view.alive & (view.is_ep if episodes else ~view.is_ep)
        n, avg = view.stats(field)
        assert n == int(docs.sum()) == (4 if field == "text" else 2)
        assert avg == pytest.approx(float(np.mean(view.lengths(field)[docs])))


def test_recall_answers_what_memo_remembers_and_computes_nothing(
        archive: ArchiveIndex) -> None:
    view = _view(archive)
    assert view.recall(("x", 1)) is None
    assert view.memo(("x", 1), lambda: "svar") == "svar"
    assert view.recall(("x", 1)) == "svar"
