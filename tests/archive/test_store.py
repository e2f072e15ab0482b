"""The catalogue keeps feeds, episodes and transcripts, and never half-writes a transcript."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from poddarkiv.archive.models import (
    Enclosure,
    Episode,
    Feed,
    Person,
    Segment,
    Transcript,
    TranscriptLink,
    Word,
)
from poddarkiv.archive.store import Catalogue, DataDir, atomic_write_bytes
from poddarkiv.errors import CatalogueError


@pytest.fixture
def catalogue(tmp_path: Path) -> Catalogue:
    """An empty catalogue in a fresh data directory, with one feed."""
    cat = Catalogue(DataDir(tmp_path / "data"))
    cat.save_feed(Feed(id="f1", url="https://example.se/feed.xml", title="Konkurrenten"))
    return cat


def _episode(ep_id: str = "e1", **changes: object) -> Episode:
    ep = Episode(
        id=ep_id, feed_id="f1", guid=f"guid-{ep_id}", title="IOP och upphandling",
        published=datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
        enclosure=Enclosure("https://cdn.example.se/a.mp3", "audio/mpeg", 1234),
        transcripts=(TranscriptLink("https://example.se/a.vtt", "text/vtt", "sv"),),
        persons=(Person("Anna Andersson", "guest"),),
    )
    return ep.replace(**changes)


def _transcript(text: str = "idéburet offentligt partnerskap") -> Transcript:
    return Transcript(episode_id="e1", source="whisper", language="sv", engine="faster-whisper",
                      model="base", segments=(Segment(0.0, 2.5, text, -0.2, 0.01,
                                                      (Word(0.0, 0.8, "idéburet", 0.9),)),))


def test_episode_round_trips_with_every_field(catalogue: Catalogue) -> None:
    episode = _episode()
    assert catalogue.save_episode(episode) is True
    assert catalogue.episode("e1") == episode


def test_saving_an_unchanged_episode_writes_nothing(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode())
    assert catalogue.save_episode(_episode()) is False
    assert catalogue.save_episode(_episode(title="Ny titel")) is True
    assert catalogue.episode("e1").title == "Ny titel"  # type: ignore[union-attr]


def test_episodes_are_listed_newest_first(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode("old", published=datetime(2023, 1, 1, tzinfo=UTC)))
    catalogue.save_episode(_episode("new", published=datetime(2025, 1, 1, tzinfo=UTC)))
    assert [e.id for e in catalogue.episodes()] == ["new", "old"]
    assert catalogue.count_episodes(feed_id="f1") == 2


def test_transcript_is_saved_as_a_file_and_becomes_current(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode())
    info = catalogue.save_transcript(_transcript())
    assert (catalogue.data.root / info.path).is_file()
    loaded = catalogue.transcript("e1")
    assert loaded is not None and loaded.segments == _transcript().segments
    assert loaded.created is not None


def test_a_new_transcript_replaces_the_old_but_keeps_its_history(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode())
    first = catalogue.save_transcript(_transcript("första"))
    second = catalogue.save_transcript(_transcript("andra").replace(engine="openai-whisper"))
    assert catalogue.transcript("e1").text == "andra"  # type: ignore[union-attr]
    history = catalogue.transcript_history("e1")
    assert [h.id for h in history] == [second.id, first.id]
    assert [h.is_current for h in history] == [True, False]


def test_a_transcript_for_an_unknown_episode_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(CatalogueError):
        catalogue.save_transcript(_transcript())


def test_a_failed_transaction_changes_nothing(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode())
    with pytest.raises(RuntimeError), catalogue.transaction() as conn:
        conn.execute("DELETE FROM episodes")
        raise RuntimeError("boom")
    assert catalogue.episode("e1") is not None


def test_removing_a_feed_removes_its_episodes(catalogue: Catalogue) -> None:
    catalogue.save_episode(_episode())
    assert catalogue.remove_feed("f1") is True
    assert catalogue.episode("e1") is None and catalogue.feeds() == []


def test_feed_changes_are_saved(catalogue: Catalogue) -> None:
    feed = catalogue.feed("f1")
    assert feed is not None
    catalogue.save_feed(feed.replace(etag='"abc"', error_count=2))
    again = catalogue.feed_by_url("https://example.se/feed.xml")
    assert again is not None and again.etag == '"abc"' and again.error_count == 2


def test_reports_are_kept_and_the_last_one_returned(catalogue: Catalogue) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    catalogue.save_report(now, now, {"failed": False, "n": 1})
    catalogue.save_report(now, now, {"failed": True, "n": 2})
    assert catalogue.last_report()["n"] == 2  # type: ignore[index]


def test_atomic_write_leaves_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "t.json"
    atomic_write_bytes(target, b"old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("poddarkiv.archive.store.os.fsync", disk_full)
    with pytest.raises(OSError):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]


def test_an_unreadable_catalogue_file_raises_a_catalogue_error(tmp_path: Path) -> None:
    (tmp_path / "catalogue.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(CatalogueError):
        Catalogue(DataDir(tmp_path))
