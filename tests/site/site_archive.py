"""A small archive for the site's tests: the bundled sample podcast, with fake transcripts.

The transcripts are the sample scripts, one sentence a segment, spread evenly over the real
sample audio (so the player has something to play and seek in). One episode's transcript is the
publisher's, the others Whisper's; one episode has hostile show notes and no audio.
Shared by ``tests/site`` and ``tests/e2e`` (and ``bench/site.py``).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from poddarkiv.archive.models import (
    Enclosure,
    Episode,
    EpisodeFailure,
    Feed,
    Person,
    Segment,
    SkippedItem,
    Transcript,
)
from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.sample import FEED_TITLE, SAMPLE_EPISODES, SampleEpisode

FEED_ID = "konkurrenten"
HOSTILE_ID = "fientlig"
#: The sample audio lasts a little over 30 s; segments are spread over this much of it.
SPREAD_S = 28.0
HOST = (Person("Anna Exempel", role="host", href="https://example.org/anna"),)
HOSTILE_NOTES = (
    '<p>Fint <b>avsnitt</b>.<script>alert("x")</script></p>'
    '<a href="javascript:alert(1)">klicka</a> <img src="x" onerror="alert(1)">'
    '<a href="https://example.org/ok">bra länk</a>'
)


def _segments(text_lines: list[str]) -> tuple[Segment, ...]:
    step = SPREAD_S / max(1, len(text_lines))
    return tuple(Segment(start=round(i * step, 3), end=round((i + 1) * step - 0.2, 3), text=line)
                 for i, line in enumerate(text_lines))


def sample_feed() -> Feed:
    return Feed(id=FEED_ID, url="https://example.org/konkurrenten.xml", title=FEED_TITLE,
                description="<p>Ett <em>exempel</em> om IOP.</p>", link="https://example.org/",
                language="sv", author="Exempelredaktionen")


def _episode(sample: SampleEpisode, root: Path, *, with_people: bool) -> Episode:
    slug, audio_src = sample.slug, sample.audio
    shutil.copyfile(audio_src, root / "audio" / f"{slug}.mp3")
    return Episode(
        id=slug, feed_id=FEED_ID, guid=sample.guid,
        title=sample.title, description="Om IOP och partnerskap.",
        link=f"https://example.org/{slug}", published=sample.published,
        duration_s=31.0, season=sample.season, number=sample.number,
        enclosure=Enclosure(f"https://example.org/{slug}.mp3", "audio/mpeg",
                            audio_src.stat().st_size),
        audio_path=f"audio/{slug}.mp3",
        persons=HOST if with_people else (),
    )


def _transcript(sample: SampleEpisode, created: datetime) -> Transcript:
    lines = [ln.strip() for ln in sample.script.read_text("utf-8").splitlines() if ln.strip()]
    publisher = sample.has_transcript
    return Transcript(
        episode_id=sample.slug, source="publisher" if publisher else "whisper",
        language="sv", segments=_segments(lines),
        engine="" if publisher else "faster-whisper",
        model="https://example.org/iop.vtt" if publisher else "base", created=created)


def build_archive(root: Path, *, with_people: bool = False) -> Catalogue:
    """A catalogue in ``root`` with the sample podcast, its audio and transcripts.

    ``with_people`` credits a host (``podcast:person``) on the four sample episodes.
    """
    catalogue = open_catalogue(root)
    catalogue.save_feed(sample_feed())
    created = datetime(2025, 6, 1, tzinfo=UTC)
    for sample in SAMPLE_EPISODES:
        catalogue.save_episode(_episode(sample, catalogue.data.root, with_people=with_people))
        catalogue.save_transcript(_transcript(sample, created))
    catalogue.save_episode(Episode(
        id=HOSTILE_ID, feed_id=FEED_ID, guid="fientlig", title="Avsnitt <med> konstiga tecken",
        description=HOSTILE_NOTES, link="javascript:alert(1)",
        published=datetime(2023, 1, 1, tzinfo=UTC)))
    return catalogue


#: When the recorded failures happened and may be tried again (see :func:`record_history`).
FAILED_AT = datetime(2026, 3, 12, 14, 5, tzinfo=UTC)


def record_history(catalogue: Catalogue) -> None:
    """What reading the feed and transcribing on a cluster record, for the pages that show it:
    a move, skipped items, parser problems, two failed episodes (one waits for new audio), an
    ingest report and transcription jobs (one failed)."""
    from poddarkiv.archive.jobs import JobState, TranscriptionJob, save_job

    first, second = (s.slug for s in SAMPLE_EPISODES[:2])
    catalogue.save_feed(sample_feed().replace(
        image="https://example.org/omslag.jpg", item_count=7,
        previous_urls=("https://old.example.org/feed.xml", "javascript:alert(1)"),
        skipped=(SkippedItem("Trailer", "guid-1", "no audio, no transcript and no text"),
                 SkippedItem("the last 2 items", "", "past the cap", count=2)),
        problems=("ignored enclosure length 'lots'",)))
    catalogue.save_episode_failure(EpisodeFailure(first, "HTTP 404", 3, FAILED_AT, FAILED_AT))
    catalogue.save_episode_failure(EpisodeFailure(second, "not audio", 1, FAILED_AT, None))
    catalogue.save_report(FAILED_AT, FAILED_AT, {"waiting": 4, "feeds": [{
        "feed_id": FEED_ID, "url": sample_feed().url, "status": "ok", "new": 1, "items": 7,
        "skipped_count": 3, "text_only": 1,
        "skipped": [{"title": "Trailer", "guid": "g", "reason": "no audio", "count": 1}],
        "problems": ["ignored enclosure length 'lots'"]}]})
    jobs: list[tuple[str, JobState, str | None, str | None]] = [
        (first, "done", "gpu0@box", None), (second, "failed", "gpu0@box", "CUDA out of memory"),
        (HOSTILE_ID, "queued", None, None)]
    for episode_id, state, worker, error in jobs:
        save_job(catalogue, TranscriptionJob(episode_id, f"job-{episode_id}", "transcribe", state,
                                             FAILED_AT, FAILED_AT, sent=True, worker=worker,
                                             error=error))


def transcripts(catalogue: Catalogue) -> list[tuple[Feed, Episode, Transcript]]:
    """Every (feed, episode, transcript) triple, for building an index."""
    out = []
    for ep in catalogue.episodes():
        tr = catalogue.transcript(ep.id)
        feed = catalogue.feed(ep.feed_id)
        if tr is not None and feed is not None:
            out.append((feed, ep, tr))
    return out
