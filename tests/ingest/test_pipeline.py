"""Ingestion end to end over loopback HTTP: refresh, publisher transcript or Whisper, store, index.

Everything is real (HTTP server and client, catalogue, Whoosh index) except the transcriber,
which is replaced at its seam by one that "hears" the sample scripts, so these tests run in
seconds. The real engines are tested in ``test_transcribe.py``.
"""

from __future__ import annotations

import errno
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.browse import episode_chapters
from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.search import SearchRequest
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.compose import themes_step
from poddarkiv.config import Settings
from poddarkiv.errors import BusyError, TranscriptionError
from poddarkiv.ingest import fetch as fetch_module
from poddarkiv.ingest.client import make_client, policy_for
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.pipeline import IngestReport, ingest
from poddarkiv.progress import print_report
from poddarkiv.sample import SAMPLE_EPISODES, sample_dir
from poddarkiv.sample.server import SampleServer, serve_sample
from tests.ingest.fallback import the_fallback
from tests.ingest.fulldisk import full_disk_open

SCRIPTS = {ep.guid: ep for ep in SAMPLE_EPISODES}


@dataclass
class ScriptTranscriber:
    """A transcriber at the seam: returns the episode's script, one segment per line.

    It checks that the audio it is given is really on disk, records each call, and can be
    told to fail for some episodes (with ``failure``, else a :class:`TranscriptionError`).
    """

    data: DataDir
    fail_for: set[str] = field(default_factory=set)
    failure: Exception | None = None
    calls: list[str] = field(default_factory=list)
    loads: int = 0

    def factory(self) -> Callable[..., Transcript]:
        self.loads += 1
        return self.transcribe

    def transcribe(self, episode: Episode, *, progress: Callable[[float, float], None]
                   ) -> Transcript:
        assert episode.audio_path is not None
        assert (self.data.root / episode.audio_path).stat().st_size > 0
        self.calls.append(episode.guid)
        if episode.guid in self.fail_for:
            raise self.failure or TranscriptionError("the engine gave up")
        lines = SCRIPTS[episode.guid].script_text().splitlines()
        segments = tuple(Segment(i * 5.0, i * 5.0 + 5.0, line) for i, line in enumerate(lines))
        progress(len(lines) * 5.0, len(lines) * 5.0)
        return Transcript(episode_id=episode.id, source="whisper", language="sv",
                          segments=segments, engine="script", model="test")


@dataclass
class Archive:
    """A fresh data directory with its catalogue, index, HTTP client and the sample server."""

    settings: Settings
    catalogue: Catalogue
    index: ArchiveIndex
    client: httpx.Client
    server: SampleServer
    transcriber: ScriptTranscriber

    def ingest(self, urls: tuple[str, ...] | None = None, *,
               clock: Callable[[], datetime] | None = None) -> IngestReport:
        return ingest(self.settings, (self.server.feed_url,) if urls is None else urls,
                      catalogue=self.catalogue, index=self.index, client=self.client,
                      transcriber_factory=self.transcriber.factory,
                      clock=clock or (lambda: datetime.now(UTC)))


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    """An empty archive and the sample feed on a loopback server (loopback explicitly allowed)."""
    settings = Settings(data_dir=tmp_path / "data", allow_private=True)
    catalogue = Catalogue(DataDir(settings.data_dir))
    index = ArchiveIndex.open(catalogue.data.index)
    with serve_sample() as server, make_client(policy_for(settings)) as client:
        yield Archive(settings, catalogue, index, client, server,
                      ScriptTranscriber(catalogue.data))
    index.close()
    catalogue.close()


def test_first_ingest_stores_transcribes_and_indexes_every_episode(archive: Archive) -> None:
    report = archive.ingest()

    assert not report.failed, report.to_dict()
    assert [f.status for f in report.feeds] == ["new"]
    statuses = {e.title: e.status for e in report.episodes}
    assert len(statuses) == len(SAMPLE_EPISODES) == 4
    with_vtt = [ep.title for ep in SAMPLE_EPISODES if ep.has_transcript]
    assert all(statuses[title] == "publisher" for title in with_vtt)
    assert sorted(s for s in statuses.values() if s != "publisher") == ["transcribed"] * 3
    assert archive.transcriber.loads == 1  # the model loads once per run
    assert archive.index.doc_counts()[0] == 4
    assert archive.catalogue.last_report() is not None
    # Every episode's audio is kept, publisher-transcribed ones included, so the site plays it.
    for episode in archive.catalogue.episodes():
        assert episode.audio_path and (archive.catalogue.data.root / episode.audio_path).is_file()


def test_publisher_transcript_is_used_instead_of_whisper(archive: Archive) -> None:
    archive.ingest()
    vtt_episode = next(ep for ep in SAMPLE_EPISODES if ep.has_transcript)
    assert vtt_episode.guid not in archive.transcriber.calls
    stored = next(e for e in archive.catalogue.episodes() if e.guid == vtt_episode.guid)
    transcript = archive.catalogue.transcript(stored.id)
    assert transcript is not None and transcript.source == "publisher"
    assert "partnerskap" in transcript.text


def test_search_finds_timestamped_passages_after_ingest(archive: Archive) -> None:
    archive.ingest()
    for word in ("partnerskap", "upphandling"):
        page = archive.index.search(SearchRequest(q=word))
        assert page.hits, word
        passage = page.hits[0].passages[0]
        assert passage.end > passage.start >= 0
        assert passage.snippet.marks


def test_second_ingest_of_an_unchanged_feed_costs_one_request_and_no_work(
        archive: Archive) -> None:
    archive.ingest()
    before = len(archive.server.requests())
    report = archive.ingest()

    assert [f.status for f in report.feeds] == ["unchanged"]
    assert report.episodes == ()
    requests = archive.server.requests()[before:]
    assert [(r.path, r.status) for r in requests] == [("/feed.xml", 304)]
    assert archive.transcriber.loads == 1  # no model load either


def test_ingest_without_urls_refreshes_every_known_feed(archive: Archive) -> None:
    archive.ingest()
    report = archive.ingest(urls=())
    assert [f.url for f in report.feeds] == [archive.server.feed_url]


def test_a_failed_episode_is_reported_and_retried_after_its_backoff(archive: Archive) -> None:
    broken = SAMPLE_EPISODES[1].guid
    archive.transcriber.fail_for = {broken}
    first = archive.ingest()
    assert first.failed
    failed = [e for e in first.episodes if e.status == "failed"]
    assert [e.title for e in failed] == [SAMPLE_EPISODES[1].title]
    assert "gave up" in (failed[0].error or "")
    stored = archive.catalogue.episode_failures()
    assert [f.count for f in stored.values()] == [1] and "gave up" in stored[
        failed[0].episode_id].error

    archive.transcriber.fail_for = set()
    archive.transcriber.calls.clear()
    waiting = archive.ingest()  # backing off: not tried, not a failure, but counted
    assert not waiting.failed and waiting.waiting == 1 and archive.transcriber.calls == []
    assert waiting.to_dict()["waiting"] == 1

    later = datetime.now(UTC) + timedelta(hours=1)
    second = archive.ingest(clock=lambda: later)
    assert not second.failed and second.waiting == 0
    assert archive.transcriber.calls == [broken]
    assert archive.index.doc_counts()[0] == 4
    assert archive.catalogue.episode_failures() == {}


def test_repeated_failures_back_off_longer_and_retry_failed_makes_them_due(
        archive: Archive) -> None:
    broken = SAMPLE_EPISODES[1].guid
    archive.transcriber.fail_for = {broken}
    now = datetime.now(UTC)
    archive.ingest(clock=lambda: now)
    later = now + timedelta(minutes=16)
    archive.ingest(clock=lambda: later)
    (failure,) = archive.catalogue.episode_failures().values()
    assert failure.count == 2 and failure.retry_at == later + timedelta(minutes=30)
    archive.transcriber.calls.clear()
    assert archive.ingest(clock=lambda: later).waiting == 1
    assert archive.catalogue.release_episode_failures() == 1
    archive.transcriber.fail_for = set()
    report = archive.ingest(clock=lambda: later)
    assert archive.transcriber.calls == [broken] and not report.failed


def test_an_episode_over_a_limit_waits_until_its_enclosure_changes(archive: Archive) -> None:
    from poddarkiv.errors import AudioError

    broken = SAMPLE_EPISODES[1].guid
    archive.transcriber.fail_for = {broken}
    archive.transcriber.failure = AudioError("longer than the 21600 s limit")
    assert archive.ingest().failed
    (failure,) = archive.catalogue.episode_failures().values()
    assert failure.retry_at is None and failure.enclosure_url
    archive.transcriber.calls.clear()
    next_week = datetime.now(UTC) + timedelta(days=7)
    assert archive.ingest(clock=lambda: next_week).waiting == 1
    assert archive.transcriber.calls == []
    episode = archive.catalogue.episode(failure.episode_id)
    assert episode is not None and episode.enclosure is not None
    archive.catalogue.save_episode(episode.replace(enclosure=episode.enclosure.__class__(
        failure.enclosure_url + "?v=2", episode.enclosure.type)))
    archive.transcriber.fail_for = set()
    assert not archive.ingest(clock=lambda: next_week).failed
    assert archive.transcriber.calls == [broken]


def test_an_os_error_fails_one_episode_and_the_run_goes_on(archive: Archive) -> None:
    broken = SAMPLE_EPISODES[1].guid
    archive.transcriber.fail_for = {broken}
    archive.transcriber.failure = OSError(errno.ENOSPC, "No space left on device", "/tmp/x.wav")
    report = archive.ingest()

    outcomes = {e.title: e for e in report.episodes}
    assert len(outcomes) == 4
    failed = outcomes[SAMPLE_EPISODES[1].title]
    assert failed.status == "failed"
    assert failed.error == "No space left on device: /tmp/x.wav"
    assert [e.status for e in report.episodes].count("failed") == 1
    assert archive.index.doc_counts()[0] == 3  # every other episode was still done
    assert archive.catalogue.last_report() is not None


def test_a_full_disk_during_a_download_fails_that_episode_only(
        archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = next(ep for ep in SAMPLE_EPISODES if not ep.has_transcript)

    def victims_audio(path: Path) -> bool:
        episode = archive.catalogue.episode(path.name.removesuffix(".partial"))
        return episode is not None and episode.guid == victim.guid

    with monkeypatch.context() as patched:
        patched.setattr(fetch_module, "open", full_disk_open(only=victims_audio), raising=False)
        first = archive.ingest()
    failed = [e for e in first.episodes if e.status == "failed"]
    assert [e.title for e in failed] == [victim.title]
    assert "No space left on device" in (failed[0].error or "")
    assert archive.index.doc_counts()[0] == 3
    assert list(archive.catalogue.data.audio.glob("*.partial*")) == []

    second = archive.ingest()  # room again
    assert not second.failed, second.to_dict()
    assert [e.title for e in second.episodes] == [victim.title]
    assert archive.index.doc_counts()[0] == 4


def test_episodes_missing_from_the_index_are_indexed_again(archive: Archive) -> None:
    archive.ingest()
    victim = archive.catalogue.episodes()[0]
    archive.index.remove_episode(victim.id)  # as if the run died between catalogue and index

    report = archive.ingest()
    assert [(e.episode_id, e.status) for e in report.episodes] == [(victim.id, "indexed")]
    assert archive.index.doc_counts()[0] == 4


def test_a_second_ingest_at_the_same_time_is_refused_clearly(archive: Archive) -> None:
    with ingest_lock(archive.catalogue.data.ingest_lock), pytest.raises(BusyError):
        archive.ingest()


def test_a_broken_feed_url_is_reported_and_nothing_else_stops(archive: Archive) -> None:
    report = archive.ingest((archive.server.url("/no-such-feed.xml"), archive.server.feed_url))
    assert [f.status for f in report.feeds] == ["failed", "new"]
    assert "404" in (report.feeds[0].error or "")
    assert report.failed
    assert archive.index.doc_counts()[0] == 4


def _sample_with_first_item(tmp_path: Path, extra: str) -> Path:
    """A copy of the sample podcast whose first item also carries ``extra``."""
    root = tmp_path / "sample"
    shutil.copytree(sample_dir(), root)
    feed = (root / "feed.xml").read_text("utf-8")
    (root / "feed.xml").write_text(feed.replace("<item>", f"<item>\n      {extra}", 1), "utf-8")
    return root


def _chapters_after_ingest(tmp_path: Path, root: Path,
                           has: Callable[[Episode], object]) -> list[tuple[float, str]]:
    """Ingest the podcast at ``root``; the chapters of its one episode for which ``has``."""
    report, catalogue = _ingest_copy(tmp_path, root)
    with catalogue:
        assert not report.failed, report.to_dict()
        (episode,) = [e for e in catalogue.episodes() if has(e)]
        return [(c.start, c.title) for c in episode_chapters(catalogue, episode.id)]


def _ingest_copy(tmp_path: Path, root: Path) -> tuple[IngestReport, Catalogue]:
    """Ingest the podcast at ``root`` into a fresh archive (with themes; the catalogue is left
    open for the caller)."""
    settings = Settings(data_dir=tmp_path / "data", allow_private=True)
    catalogue = Catalogue(DataDir(settings.data_dir))
    with serve_sample(root=root) as server, make_client(policy_for(settings)) as client:
        index = ArchiveIndex.open(catalogue.data.index)
        report = ingest(settings, (server.feed_url,), catalogue=catalogue, index=index,
                        client=client, themes=themes_step(catalogue),
                        transcriber_factory=ScriptTranscriber(catalogue.data).factory)
        index.close()
    return report, catalogue


def test_publisher_chapters_are_fetched_and_kept(tmp_path: Path) -> None:
    root = _sample_with_first_item(
        tmp_path, '<podcast:chapters url="{base}/transcripts/chapters.json" '
                  'type="application/json+chapters"/>')
    chapters = {"version": "1.2.0", "chapters": [{"startTime": 0, "title": "Inledning"},
                                                 {"startTime": 12.5, "title": "LOU"}]}
    (root / "transcripts" / "chapters.json").write_text(json.dumps(chapters))
    got = _chapters_after_ingest(tmp_path, root, lambda e: e.chapters_url)
    assert got == [(0.0, "Inledning"), (12.5, "LOU")]


def test_podlove_chapters_in_the_feed_are_kept(tmp_path: Path) -> None:
    root = _sample_with_first_item(
        tmp_path, '<psc:chapters xmlns:psc="http://podlove.org/simple-chapters" version="1.2">'
                  '<psc:chapter start="00:00:00" title="Inledning"/>'
                  '<psc:chapter start="00:12.5" title="LOU"/></psc:chapters>')
    got = _chapters_after_ingest(tmp_path, root, lambda e: e.chapters)
    assert got == [(0.0, "Inledning"), (12.5, "LOU")]


def test_a_publisher_transcript_that_cannot_be_fetched_is_said_and_whisper_stands_in(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sample"
    shutil.copytree(sample_dir(), root)
    (root / "transcripts" / "iop-och-upphandling.vtt").unlink()  # the feed still links it
    report, catalogue = _ingest_copy(tmp_path, root)
    with catalogue:
        outcome, note = the_fallback(report)
        transcript = catalogue.transcript(outcome.episode_id)
        assert transcript is not None and transcript.source == "whisper"
        assert note in transcript.notes  # shown beside the transcript on the episode page
        saved = catalogue.last_report()
        assert saved is not None
        assert [e["notes"] for e in saved["episodes"] if e["notes"]] == [[
            {"code": "publisher_transcript_unusable", "urls": note.get("urls"),
             "reason": note.get("reason")}]]
    print_report(report)
    printed = capsys.readouterr().out  # in English, like the rest of the report
    assert (f"({outcome.episode_id}): The publisher's transcript could not be used "
            f"({note.get('urls')}), so Whisper transcribed the episode. Reason: "
            f"{note.get('reason')}") in printed


def test_publisher_chapters_that_cannot_be_read_are_a_note_not_a_failure(
        tmp_path: Path) -> None:
    root = _sample_with_first_item(
        tmp_path, '<podcast:chapters url="{base}/transcripts/saknas.json" '
                  'type="application/json+chapters"/>')
    report, catalogue = _ingest_copy(tmp_path, root)
    with catalogue:
        (outcome,) = [e for e in report.episodes if e.notes]
        assert outcome.status in ("transcribed", "publisher") and not report.failed
        assert outcome.notes[0].code == "publisher_chapters_unusable"
        assert "saknas.json" in str(outcome.notes[0].get("url"))
