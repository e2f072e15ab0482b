"""The bundled sample: its scripts, audio, publisher transcript and feed agree with each other."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from itertools import pairwise
from pathlib import Path

import av
import numpy as np
import pytest

from poddarkiv.sample import FEED_TITLE, SAMPLE_EPISODES, SampleEpisode, sample_dir

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
}
MIN_DURATION_S, MAX_DURATION_S = 20.0, 60.0
MAX_AUDIO_BYTES = 200_000  # ~30 s at 32 kbit/s is ~120 kB; the demo ships these in the wheel
# Words a user of the demo will search for; every one is spoken in at least one episode.
SEARCH_WORDS = ("partnerskap", "upphandling", "idéburet offentligt partnerskap", "statsstöd",
                "föreningar", "konkurrensverket", "kommun", "rättsfall", "domstol",
                "upphandlingsregler", "partnerskapet")
REPO = Path(__file__).resolve().parents[2]

episodes = pytest.mark.parametrize("episode", SAMPLE_EPISODES, ids=lambda e: e.slug)


@dataclass(frozen=True)
class Decoded:
    duration_s: float
    sample_rate: int
    channels: int
    peak: float


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        chunks = [frame.to_ndarray() for frame in container.decode(stream)]
        rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    samples = np.concatenate(chunks, axis=1)
    return Decoded(duration_s=samples.shape[1] / rate, sample_rate=rate, channels=channels,
                   peak=float(np.abs(samples).max()))


def words(text: str) -> str:
    """Lower-case text with runs of spaces collapsed, padded so whole words can be found."""
    return " " + re.sub(r"[\s.,?!]+", " ", text.lower()) + " "


def contains_phrase(text: str, phrase: str) -> bool:
    return f" {phrase} " in words(text)


def feed_items() -> dict[str, ET.Element]:
    channel = ET.parse(sample_dir() / "feed.xml").getroot().find("channel")
    assert channel is not None
    return {item.findtext("guid", ""): item for item in channel.iter("item")}


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file; fails on anything that is not well-formed WebVTT."""
    blocks = text.replace("\r\n", "\n").strip("\n").split("\n\n")
    assert blocks[0].split("\n")[0] == "WEBVTT"
    timing = re.compile(r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3}) --> "
                        r"(\d{2,}):([0-5]\d):([0-5]\d)\.(\d{3})")
    cues = []
    for block in blocks[1:]:
        lines = block.split("\n")
        if lines[0].startswith("NOTE"):
            continue
        if "-->" not in lines[0]:
            lines = lines[1:]  # a cue identifier
        match = timing.fullmatch(lines[0])
        assert match, f"bad cue timing line: {lines[0]!r}"
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        assert len(lines) > 1 and all(line.strip() for line in lines[1:]), block
        cues.append(Cue(start=h1 * 3600 + m1 * 60 + s1 + ms1 / 1000,
                        end=h2 * 3600 + m2 * 60 + s2 + ms2 / 1000, text=" ".join(lines[1:])))
    return cues


# --- the episodes -----------------------------------------------------------------------------


def test_there_are_at_least_four_distinct_episodes() -> None:
    assert len(SAMPLE_EPISODES) >= 4
    assert len({e.slug for e in SAMPLE_EPISODES}) == len(SAMPLE_EPISODES)
    assert len({e.guid for e in SAMPLE_EPISODES}) == len(SAMPLE_EPISODES)
    assert any(e.has_transcript for e in SAMPLE_EPISODES)
    assert not all(e.has_transcript for e in SAMPLE_EPISODES), "some episodes need Whisper"


@episodes
def test_episode_files_are_in_the_sample_folder(episode: SampleEpisode) -> None:
    root = sample_dir()
    assert episode.script == root / "scripts" / f"{episode.slug}.txt"
    assert episode.audio == root / "audio" / f"{episode.slug}.mp3"
    assert episode.script.is_file() and episode.audio.is_file()
    assert (episode.transcript is not None) == episode.has_transcript
    if episode.transcript is not None:
        assert episode.transcript == root / "transcripts" / f"{episode.slug}.vtt"
        assert episode.transcript.is_file()


# --- scripts ----------------------------------------------------------------------------------


@episodes
def test_script_contains_its_keywords_as_whole_words(episode: SampleEpisode) -> None:
    text = episode.script_text()
    missing = [word for word in episode.keywords if not contains_phrase(text, word)]
    assert not missing


def test_the_searched_words_are_all_spoken_somewhere() -> None:
    texts = [e.script_text() for e in SAMPLE_EPISODES]
    assert [w for w in SEARCH_WORDS if not any(contains_phrase(t, w) for t in texts)] == []


@episodes
def test_script_text_is_one_line_of_the_sentences(episode: SampleEpisode) -> None:
    text = episode.script_text()
    assert "\n" not in text and "  " not in text
    assert text.count(".") + text.count("?") >= 4


# --- audio ------------------------------------------------------------------------------------


@episodes
def test_audio_is_small_mono_speech_of_the_right_length(episode: SampleEpisode) -> None:
    decoded = decode(episode.audio)
    assert MIN_DURATION_S <= decoded.duration_s <= MAX_DURATION_S
    assert decoded.channels == 1
    assert decoded.sample_rate in (16_000, 22_050)
    assert decoded.peak > 0.1, "not silence"
    assert episode.audio.stat().st_size < MAX_AUDIO_BYTES
    assert episode.audio.read_bytes()[:3] == b"ID3"


# --- publisher transcript ---------------------------------------------------------------------


@pytest.mark.parametrize("episode", [e for e in SAMPLE_EPISODES if e.has_transcript],
                         ids=lambda e: e.slug)
def test_webvtt_cues_are_ordered_within_the_audio_and_say_the_script(
        episode: SampleEpisode) -> None:
    assert episode.transcript is not None
    cues = parse_vtt(episode.transcript.read_text("utf-8"))
    duration_s = decode(episode.audio).duration_s
    assert len(cues) >= 4
    for cue in cues:
        assert 0 <= cue.start < cue.end <= duration_s
    for before, after in pairwise(cues):
        assert before.end <= after.start
    assert cues[-1].end > duration_s - 1.0, "the cues run to the end of the speech"
    assert " ".join(cue.text for cue in cues) == episode.script_text()


def test_vtt_parser_rejects_malformed_files() -> None:
    with pytest.raises(AssertionError):
        parse_vtt("WEBVTT\n\n1\n00:00:01.000 -> 00:00:02.000\nhej\n")
    with pytest.raises(AssertionError):
        parse_vtt("VTT\n\n00:00:01.000 --> 00:00:02.000\nhej\n")


# --- the feed file ----------------------------------------------------------------------------


def test_channel_is_a_swedish_sample_that_says_so() -> None:
    root = ET.parse(sample_dir() / "feed.xml").getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    assert channel.findtext("title") == FEED_TITLE
    assert channel.findtext("language") == "sv"
    assert "inte den riktiga podden" in channel.findtext("description", "")
    assert channel.findtext("itunes:author", namespaces=NS)
    assert channel.find("itunes:category", NS) is not None


def test_feed_lists_exactly_the_sample_episodes() -> None:
    assert sorted(feed_items()) == sorted(e.guid for e in SAMPLE_EPISODES)


@episodes
def test_feed_item_describes_the_episode(episode: SampleEpisode) -> None:
    item = feed_items()[episode.guid]
    assert item.find("guid").get("isPermaLink") == "false"  # type: ignore[union-attr]
    assert item.findtext("title") == episode.title
    assert len(item.findtext("description", "")) > 80, "a show-notes paragraph"
    published = parsedate_to_datetime(item.findtext("pubDate", ""))
    assert published.astimezone(UTC) == episode.published
    assert item.findtext("itunes:season", namespaces=NS) == str(episode.season)
    assert item.findtext("itunes:episode", namespaces=NS) == str(episode.number)
    enclosure = item.find("enclosure")
    assert enclosure is not None
    assert enclosure.get("url") == "{base}/audio/" + episode.audio_name
    assert enclosure.get("type") == "audio/mpeg"
    assert enclosure.get("length") == str(episode.audio.stat().st_size)


@episodes
def test_feed_duration_matches_the_audio(episode: SampleEpisode) -> None:
    text = feed_items()[episode.guid].findtext("itunes:duration", namespaces=NS) or ""
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    assert abs(hours * 3600 + minutes * 60 + seconds - decode(episode.audio).duration_s) <= 0.5


@episodes
def test_transcript_link_is_there_exactly_when_the_episode_has_one(
        episode: SampleEpisode) -> None:
    links = feed_items()[episode.guid].findall("podcast:transcript", NS)
    if not episode.has_transcript:
        assert links == []
        return
    (link,) = links
    assert link.attrib == {"url": f"{{base}}/transcripts/{episode.slug}.vtt",
                           "type": "text/vtt", "language": "sv"}


def test_dates_are_distinct_and_within_2024_and_2025() -> None:
    dates = [e.published for e in SAMPLE_EPISODES]
    assert len(set(dates)) == len(dates)
    assert all(2024 <= d.year <= 2025 for d in dates)


def test_some_item_names_people() -> None:
    people = [p for item in feed_items().values() for p in item.findall("podcast:person", NS)]
    assert people and all(p.text and p.get("role") for p in people)


# --- regeneration -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_make_sample_reproduces_the_committed_files() -> None:
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "make-sample"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
