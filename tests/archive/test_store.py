"""The catalogue keeps feeds, episodes and transcripts, and never half-writes a transcript."""

from __future__ import annotations

import threading
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
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.errors import CatalogueError
from tests.archive.old_catalogue import first_release_catalogue


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


def test_an_unreadable_catalogue_file_raises_a_catalogue_error(tmp_path: Path) -> None:
    (tmp_path / "catalogue.sqlite").write_bytes(b"not a database" * 100)
    with pytest.raises(CatalogueError):
        Catalogue(DataDir(tmp_path))


def test_feed_history_problems_skipped_items_and_chapters_round_trip(
        catalogue: Catalogue) -> None:
    from poddarkiv.archive.models import Chapter, SkippedItem

    feed = Feed(id="f1", url="https://example.se/new.xml", title="Konkurrenten",
                previous_urls=("https://example.se/feed.xml",), problems=("bozo: mismatched tag",),
                skipped=(SkippedItem("Bara text", "g7", "no audio enclosure and no transcript"),
                         SkippedItem("the last 3 items", "", "past the cap", count=3)),
                item_count=12)
    catalogue.save_feed(feed)
    assert catalogue.feed("f1") == feed
    episode = _episode(chapters=(Chapter(0.0, "Inledning"), Chapter(90.5, "IOP", "https://x.se")))
    catalogue.save_episode(episode)
    assert catalogue.episode("e1") == episode


def test_episode_failures_are_kept_released_and_cleared(catalogue: Catalogue) -> None:
    from poddarkiv.archive.models import EpisodeFailure

    catalogue.save_episode(_episode())
    when = datetime(2025, 1, 1, tzinfo=UTC)
    failure = EpisodeFailure("e1", "HTTP 404", 2, when, None, "https://cdn.example.se/a.mp3")
    catalogue.save_episode_failure(failure)
    assert catalogue.episode_failures() == {"e1": failure}
    assert catalogue.episode_failures(feed_id="f1") == {"e1": failure}
    assert catalogue.episode_failures(feed_id="other") == {}
    assert catalogue.release_episode_failures() == 1
    released = catalogue.episode_failures()["e1"]
    assert released.retry_at == when and released.enclosure_url is None and released.count == 2
    catalogue.clear_episode_failure("e1")
    assert catalogue.episode_failures() == {}


def test_a_catalogue_from_before_these_columns_opens_and_keeps_its_rows(tmp_path: Path) -> None:
    data = first_release_catalogue(tmp_path / "old", with_episode=True)
    for _ in range(2):  # opening twice changes nothing the second time
        with Catalogue(data) as opened:
            feed = opened.feed("f1")
            assert feed is not None and feed.title == "Gammal" and feed.previous_urls == ()
            episode = opened.episode("e1")
            assert episode is not None and episode.chapters == ()
            assert opened.episode_failures() == {}


def test_connections_opening_a_new_catalogue_at_once_all_succeed(tmp_path: Path) -> None:
    # SQLite fails the switch to WAL at once ("database is locked") while another connection
    # makes it; before the wait, about one round in ten of this failed.
    failures: list[BaseException] = []

    def open_once(folder: Path, barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            with Catalogue(DataDir(folder)) as catalogue:
                assert catalogue.episodes() == []
        except BaseException as exc:  # collected and asserted below
            failures.append(exc)

    for round_ in range(60):
        folder, barrier = tmp_path / f"archive-{round_}", threading.Barrier(3)
        threads = [threading.Thread(target=open_once, args=(folder, barrier)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
