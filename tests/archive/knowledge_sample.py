"""The sample podcast's episodes as records, for the themes and knowledge tests.

Each script line becomes one segment of ``SEGMENT_S`` seconds, so passage times are predictable:
line ``n`` starts at ``n * SEGMENT_S``. Titles and dates are the feed's (``SAMPLE_EPISODES``).
"""

from __future__ import annotations

from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.sample import FEED_TITLE, SAMPLE_EPISODES, SampleEpisode

FEED_ID = "konkurrenten"
SEGMENT_S = 5.0


def sample_feed() -> Feed:
    return Feed(id=FEED_ID, url="https://example.org/konkurrenten.xml", title=FEED_TITLE)


def sample_episode(sample: SampleEpisode, **changes: object) -> Episode:
    episode = Episode(id=sample.slug, feed_id=FEED_ID, guid=sample.guid, title=sample.title,
                      published=sample.published)
    return episode.replace(**changes) if changes else episode


def sample_transcript(sample: SampleEpisode) -> Transcript:
    lines = [ln.strip() for ln in sample.script.read_text("utf-8").splitlines() if ln.strip()]
    return Transcript(
        episode_id=sample.slug, source="whisper", language="sv",
        segments=tuple(Segment(i * SEGMENT_S, (i + 1) * SEGMENT_S, line)
                       for i, line in enumerate(lines)))


def sample_pairs() -> list[tuple[Episode, Transcript]]:
    """Every sample episode with its transcript, in publication order."""
    return [(sample_episode(s), sample_transcript(s)) for s in SAMPLE_EPISODES]


def transcript_of(episode_id: str, *lines: str, segment_s: float = SEGMENT_S) -> Transcript:
    """A transcript with one segment per line."""
    return Transcript(episode_id=episode_id, source="whisper", language="sv",
                      segments=tuple(Segment(i * segment_s, (i + 1) * segment_s, line)
                                     for i, line in enumerate(lines)))
