"""The index: documents per episode, one writer at a time, rebuilds swapped in atomically."""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from whoosh.query import Term
from whoosh.writing import LockError, SegmentWriter

from poddarkiv.archive.index import ArchiveIndex, EpisodeThemes
from poddarkiv.archive.index.schema import SPELL_FIELD
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchRequest
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.errors import IndexError_
from tests.data.relevance.corpus import load_corpus

FEED = Feed(id="f", url="http://example.invalid/f.xml", title="Konkurrenten")


def _episode(eid: str, *lines: str) -> tuple[Feed, Episode, Transcript, None]:
    ep = Episode(id=eid, feed_id=FEED.id, guid=eid, title=f"Avsnitt {eid}")
    segs = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
    return FEED, ep, Transcript(eid, "whisper", "sv", segs), None


def _ids(ix: ArchiveIndex, q: str) -> list[str]:
    return [h.episode_id for h in ix.search(SearchRequest(q=q)).hits]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[ArchiveIndex]:
    """An empty index in a temporary data directory."""
    ix = ArchiveIndex.open(tmp_path / "index")
    yield ix
    ix.close()


def test_open_creates_a_missing_index(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "new" / "index") as ix:
        assert ix.doc_counts() == (0, 0)
    assert (tmp_path / "new" / "index" / "CURRENT").is_file()


def test_an_unreadable_index_opens_broken_and_a_rebuild_repairs_it(tmp_path: Path) -> None:
    data = DataDir(tmp_path)
    ArchiveIndex.open(data.index).close()
    gen = (data.index / "CURRENT").read_text()
    for toc in (data.index / gen).glob("*.toc"):
        toc.write_bytes(b"not a table of contents")
    with ArchiveIndex.open(data.index) as ix:
        assert ix.broken is not None
        for read in (ix.doc_counts, ix.indexed_episode_ids, lambda: ix.related("a"),
                     lambda: ix.search(SearchRequest(q="mening"))):
            with pytest.raises(IndexError_, match="poddarkiv reindex"):
                read()
        with pytest.raises(IndexError_, match="poddarkiv reindex"):
            ix.index_episode(*_episode("a", "Första meningen.")[:3])
        catalogue = Catalogue(data)
        try:
            assert ix.rebuild(catalogue) == 0
        finally:
            catalogue.close()
        assert ix.broken is None
        ix.index_episode(*_episode("a", "Första meningen.")[:3])
        assert _ids(ix, "mening") == ["a"]


def test_whooshs_own_errors_from_a_damaged_segment_become_index_errors(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_episode(*_episode("a", "Första meningen om partnerskap.")[:3])
        gen = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text()
    for seg in gen.glob("*.seg"):
        seg.write_bytes(bytes(seg.stat().st_size))
    with ArchiveIndex.open(tmp_path / "index") as ix:
        for read in (ix.doc_counts, lambda: ix.search(SearchRequest(q="partnerskap"))):
            with pytest.raises(IndexError_, match="poddarkiv reindex"):
                read()


def test_one_document_per_episode_and_per_non_empty_segment(index: ArchiveIndex) -> None:
    index.index_episode(*_episode("a", "Första meningen.", "  ", "Andra meningen.")[:3])
    assert index.doc_counts() == (1, 2)


def test_reindexing_an_episode_replaces_its_documents(index: ArchiveIndex) -> None:
    index.index_episode(*_episode("a", "gammal text om statsstöd", "mer text")[:3])
    index.index_episode(*_episode("a", "ny text om partnerskap")[:3])
    assert index.doc_counts() == (1, 1)
    assert _ids(index, "statsstöd") == []
    assert _ids(index, "partnerskap") == ["a"]


def test_spelling_words_are_kept_once_per_episode(index: ArchiveIndex) -> None:
    index.index_many([
        _episode("a", "Partnerskap och avtal.", "Partnerskap igen.", "Mer partnerskap."),
        _episode("b", "Ett partnerskap med kommunen."),
        _episode("c", "Inget om det här."),
    ])
    with index.searcher() as s:
        reader = s.reader()
        assert reader.doc_frequency(SPELL_FIELD, "partnerskap") == 2  # episodes, not segments
        assert reader.frequency(SPELL_FIELD, "partnerskap") == 2
        assert reader.doc_frequency(SPELL_FIELD, "kommunen") == 1
        assert reader.doc_frequency(SPELL_FIELD, "och") == 0  # stop words are not suggested
    index.index_episode(*_episode("b", "Nu om statsstöd.")[:3])
    assert _spelled_by(index, "partnerskap") == {"a"}
    assert _spelled_by(index, "statsstöd") == {"b"}


def _spelled_by(ix: ArchiveIndex, word: str) -> set[str]:
    """The episodes whose live documents list ``word`` among their spelling words."""
    with ix.searcher() as s:
        return {s.stored_fields(n)["episode_id"]
                for n in s.docs_for_query(Term(SPELL_FIELD, word))}


def test_index_many_commits_once(index: ArchiveIndex) -> None:
    before = index._ix.latest_generation()
    assert index.index_many([_episode(f"e{i}", f"text nummer {i}") for i in range(5)]) == 5
    assert index._ix.latest_generation() == before + 1
    assert index.doc_counts() == (5, 5)


def test_remove_episode_removes_all_its_documents(index: ArchiveIndex) -> None:
    index.index_many([_episode("a", "ett"), _episode("b", "två")])
    index.remove_episode("a")
    assert index.doc_counts() == (1, 1)


def test_themes_are_indexed_for_filtering(index: ArchiveIndex) -> None:
    feed, ep, tr, _ = _episode("a", "om partnerskap")
    index.index_episode(feed, ep, tr, themes=EpisodeThemes(episode=(("iop", 0.8),),
                                                          segments={0: ("iop",)}))
    index.index_episode(*_episode("b", "om partnerskap")[:3])
    page = index.search(SearchRequest(q="partnerskap", theme="iop"))
    assert [h.episode_id for h in page.hits] == ["a"]
    assert dict(index.search(SearchRequest(q="partnerskap")).theme_counts) == {"iop": 1}


def test_a_busy_writer_gives_index_error_not_lock_error(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "index", write_timeout_s=0.2) as ix:
        held = ix._usable().writer()  # another writer holds Whoosh's lock
        try:
            with pytest.raises(IndexError_) as caught:
                ix.index_episode(*_episode("a", "text")[:3])
            assert not isinstance(caught.value, LockError)
        finally:
            held.cancel()
        ix.index_episode(*_episode("a", "text")[:3])
        assert ix.doc_counts() == (1, 1)


def test_a_failed_write_is_cancelled_and_releases_the_lock(index: ArchiveIndex) -> None:
    feed, ep, tr, _ = _episode("a", "text")
    with pytest.raises(IndexError_):
        index.index_many([(feed, ep, tr, "not themes")])  # type: ignore[list-item]
    index.index_episode(feed, ep, tr)  # the lock is free again
    assert index.doc_counts() == (1, 1)


def test_a_commit_on_a_full_disk_leaves_no_files_and_no_lock(
        index: ArchiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    index.index_episode(*_episode("a", "om partnerskap")[:3])
    gen = index.root / (index.root / "CURRENT").read_text()
    before = sorted(p.name for p in gen.iterdir())

    def full(*_: object, **__: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as m:  # the segment is written, then its TOC and cancel() fail
        m.setattr(SegmentWriter, "_commit_toc", full)
        m.setattr(SegmentWriter, "cancel", full)
        with pytest.raises(IndexError_, match="No space left"):
            index.index_episode(*_episode("b", "om partnerskap igen")[:3])
    assert sorted(p.name for p in gen.iterdir()) == before
    assert _ids(index, "partnerskap") == ["a"]
    index.index_episode(*_episode("b", "om partnerskap igen")[:3])  # the lock is free
    assert sorted(_ids(index, "partnerskap")) == ["a", "b"]


def test_searches_see_commits_from_another_process(tmp_path: Path) -> None:
    reader = ArchiveIndex.open(tmp_path / "index")
    writer = ArchiveIndex.open(tmp_path / "index")
    try:
        assert _ids(reader, "partnerskap") == []
        writer.index_episode(*_episode("a", "om partnerskap")[:3])
        reader.refresh()  # otherwise seen within REFRESH_INTERVAL_S
        assert _ids(reader, "partnerskap") == ["a"]
    finally:
        reader.close()
        writer.close()


def test_searching_from_threads_while_writing(index: ArchiveIndex) -> None:
    index.index_many([_episode(f"e{i}", f"partnerskap nummer {i}") for i in range(3)])
    errors: list[BaseException] = []

    def search() -> None:
        try:
            for _ in range(20):
                index.refresh()
                assert index.search(SearchRequest(q="partnerskap")).total_episodes >= 3
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=search) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(3, 8):
        index.index_episode(*_episode(f"e{i}", f"partnerskap nummer {i}")[:3])
    for t in threads:
        t.join()
    assert errors == []
    assert index.search(SearchRequest(q="partnerskap")).total_episodes == 8


def _catalogue(tmp_path: Path) -> Catalogue:
    cat = Catalogue(DataDir(tmp_path / "data"))
    for feed, episode, transcript, _ in load_corpus():
        cat.save_feed(feed)
        cat.save_episode(episode)
        cat.save_transcript(transcript)
    return cat


def test_rebuild_builds_from_the_catalogue_and_swaps_atomically(tmp_path: Path) -> None:
    cat = _catalogue(tmp_path)
    with ArchiveIndex.open(cat.data.index) as ix:
        ix.index_episode(*_episode("stale", "ett avsnitt som inte finns i katalogen")[:3])
        old_gen = (cat.data.index / "CURRENT").read_text()
        with ix.searcher() as old_searcher:  # a search in progress during the rebuild
            n = ix.rebuild(cat, themes_for=lambda ep, tr: EpisodeThemes(episode=(("t", 1.0),)))
            assert old_searcher.doc_count() == 2
        assert n == len(load_corpus())
        assert (cat.data.index / "CURRENT").read_text() != old_gen
        assert _ids(ix, "katalogen") == []
        assert "rattsfall-alingsas" in _ids(ix, "förvaltningsrätten")
        assert dict(ix.search(SearchRequest(q="partnerskap")).theme_counts)["t"] >= 4
    with ArchiveIndex.open(cat.data.index) as reopened:
        assert reopened.doc_counts()[0] == n
    cat.close()


def test_a_second_rebuild_removes_generations_older_than_the_previous(tmp_path: Path) -> None:
    cat = _catalogue(tmp_path)
    with ArchiveIndex.open(cat.data.index) as ix:
        for _ in range(3):
            ix.rebuild(cat)
    assert len(list(cat.data.index.glob("gen-*"))) == 2
    cat.close()


def test_related_finds_episodes_on_the_same_topic(index: ArchiveIndex) -> None:
    index.index_many(load_corpus())
    related = index.related("iop-och-lou", limit=3)
    assert "iop-och-lou" not in related
    assert set(related) & {"rattsfall-alingsas", "sma-foreningar", "statsstod-sgei"}
    assert index.related("no-such-episode") == []


def test_an_index_of_another_schema_version_asks_for_a_reindex(tmp_path: Path) -> None:
    ArchiveIndex.open(tmp_path / "index").close()
    gen = tmp_path / "index" / (tmp_path / "index" / "CURRENT").read_text()
    (gen / "SCHEMA_VERSION").write_text("0")
    with ArchiveIndex.open(tmp_path / "index") as ix:
        assert ix.needs_reindex
        assert ix.search(SearchRequest(q="partnerskap")).hits == ()
        cat = _catalogue(tmp_path)
        ix.rebuild(cat)
        assert not ix.needs_reindex
        cat.close()
    assert not gen.exists()  # kept until the rebuild, then cleared


def test_rebuild_catches_up_with_transcripts_saved_while_it_runs(tmp_path: Path) -> None:
    cat = _catalogue(tmp_path)
    feed, ep, tr, _ = _episode("late", "ett sent transkriberat avsnitt om vindkraft")
    cat.save_feed(feed)
    cat.save_episode(ep)

    def themes_for(episode: Episode, transcript: Transcript | None) -> None:
        if episode.id == "late" and transcript is None:
            cat.save_transcript(tr)  # another process transcribes it mid-rebuild

    with ArchiveIndex.open(cat.data.index) as ix:
        ix.rebuild(cat, themes_for=themes_for)
        assert _ids(ix, "vindkraft") == ["late"]
    cat.close()


def test_passages_are_read_from_the_right_segment_after_commits_and_deletions(
        index: ArchiveIndex) -> None:
    # Each index_episode commits a segment; episodes this long are not merged by Whoosh's
    # small-segment policy. A removed episode leaves deleted documents behind. A passage must
    # still be its own document's text, whichever segment holds it.
    words = ["äppelträd", "bokhylla", "cykelställ", "dörrmatta", "elvisp", "fågelholk"]
    filler = [f"Utfyllnad nummer {i} om ingenting särskilt." for i in range(40)]
    for n, word in enumerate(words):
        index.index_episode(*_episode(f"e{n}", *filler[:n], f"Här talar vi om {word}.",
                                      *filler[n:])[:3])
    index.remove_episode("e2")
    with index.searcher() as s:
        assert len(list(s.reader().leaf_readers())) >= 3
    for n, word in enumerate(words):
        hits = index.search(SearchRequest(q=word)).hits
        if n == 2:
            assert hits == ()
            continue
        [hit] = hits
        [passage] = hit.passages
        assert (hit.episode_id, passage.text, passage.start) == (
            f"e{n}", f"Här talar vi om {word}.", n * 5.0)


@pytest.mark.parametrize("doubted_first", [True, False])
def test_where_the_words_are_the_same_a_certain_passage_ranks_above_an_uncertain_one(
        index: ArchiveIndex, doubted_first: bool) -> None:
    line = "Vi pratar om idéburet offentligt partnerskap i kommunen."

    def episode(eid: str, avg_logprob: float) -> tuple[Feed, Episode, Transcript]:
        feed, ep, _, _ = _episode(eid)
        segs = (Segment(0.0, 5.0, "Välkomna till podden.", avg_logprob=-0.1),
                Segment(5.0, 10.0, line, avg_logprob=avg_logprob))
        return feed, ep, Transcript(eid, "whisper", "sv", segs)

    sure, doubted = episode("sure", -0.1), episode("doubted", -2.0)  # exp(-2) ≈ 0.14: uncertain
    for item in ((doubted, sure) if doubted_first else (sure, doubted)):
        index.index_episode(*item)
    page = index.search(SearchRequest(q="partnerskap kommunen"))
    assert [h.episode_id for h in page.hits] == ["sure", "doubted"]
    assert page.hits[1].score == pytest.approx(0.8 * page.hits[0].score, rel=0.05)


def test_the_version_changes_with_every_commit_and_only_then(index: ArchiveIndex) -> None:
    first = index.version()
    assert index.version() == first
    index.index_episode(*_episode("a", "Om partnerskap.")[:3])
    index.refresh()
    second = index.version()
    assert second != first
    index.remove_episode("a")
    index.refresh()
    assert index.version() not in (first, second)
