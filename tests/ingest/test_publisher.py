"""Publisher transcripts: choosing a link, reading VTT/SRT/JSON/HTML, fetching with fallback."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from poddarkiv.archive.models import (
    Enclosure,
    Episode,
    EpisodeNote,
    Segment,
    Transcript,
    TranscriptLink,
)
from poddarkiv.archive.writers import PODCAST_JSON, render_transcript
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError, TranscriptionError
from poddarkiv.ingest.fetch import FetchPolicy, make_client
from poddarkiv.ingest.publisher import (
    fetch_publisher_transcript,
    parse_publisher_transcript,
    rank_transcript_links,
)
from tests.httpserver import LoopbackServer, reply


def choose_transcript_link(links: list[TranscriptLink], *, language: str = "sv"
                           ) -> TranscriptLink | None:
    """The link ingest would fetch first: the best ranked, or ``None``."""
    ranked = rank_transcript_links(links, language=language)
    return ranked[0] if ranked else None

SAMPLE_VTT = (Path(__file__).resolve().parents[2] / "poddarkiv" / "sample" / "transcripts"
              / "iop-och-upphandling.vtt")
SETTINGS = Settings(allow_private=True, language="sv")
POLICY = FetchPolicy(allow_private=True, read_timeout_s=2.0, deadline_s=5.0)

VTT = """\ufeffWEBVTT - Konkurrenten

STYLE
::cue { color: yellow }

NOTE a comment --> with an arrow

intro
00:00:01.000 --> 00:00:04.500 align:start position:10%
<v Karin>Välkommen till &amp; om <b>IOP</b>.</v>

00:05.250 --> 00:07.000
Andra raden,
fortsätter här.

00:00:09.000 --> 00:00:08.000
Slut före start.

bad --> cue
ignored
"""

SRT = ("1\r\n00:00:01,000 --> 00:00:02,500\r\nHej och välkommen.\r\n\r\n"
       "2\r\n00:00:03,000 --> 00:00:04,000\r\n<i>Upphandling</i> enligt LOU.\r\n")


def link(url: str, kind: str, language: str | None = "sv") -> TranscriptLink:
    return TranscriptLink(url=url, type=kind, language=language)


# -- choosing ---------------------------------------------------------------------------------


def test_links_rank_by_language_then_format() -> None:
    links = [
        link("https://x/en.vtt", "text/vtt", "en"),
        link("https://x/sv.html", "text/html"),
        link("https://x/none.json", "application/json", None),
        link("https://x/sv.srt", "application/x-subrip"),
        link("https://x/sv.pdf", "application/pdf"),
        link("https://x/sv.json", "application/json", "sv-SE"),
        link("https://x/sv.vtt", "text/vtt"),
    ]
    assert [lk.url for lk in rank_transcript_links(links, language="sv")] == [
        "https://x/sv.vtt", "https://x/sv.srt", "https://x/sv.json", "https://x/sv.html",
        "https://x/none.json", "https://x/en.vtt"]
    assert choose_transcript_link(links, language="en") == links[0]
    assert choose_transcript_link([link("https://x/a.pdf", "application/pdf")]) is None
    assert choose_transcript_link([]) is None


def test_the_url_extension_names_the_format_when_the_type_does_not() -> None:
    chosen = choose_transcript_link([link("https://x/a.html", ""), link("https://x/a.srt", "")])
    assert chosen is not None and chosen.url == "https://x/a.srt"


# -- reading ----------------------------------------------------------------------------------


def test_vtt_cues_become_segments() -> None:
    segments = parse_publisher_transcript(VTT.encode(), "text/vtt")
    assert [(s.start, s.end, s.text) for s in segments] == [
        (1.0, 4.5, "Välkommen till & om IOP."),
        (5.25, 7.0, "Andra raden, fortsätter här."),
        (9.0, 9.0, "Slut före start."),
    ]
    assert [s.speaker for s in segments] == ["Karin", None, None]


def test_a_vtt_voice_tag_names_the_speaker_of_its_cue() -> None:
    vtt = ("WEBVTT\n\n00:01.000 --> 00:02.000\n<v.loud Anna &amp; Bo Svensson>Hej!</v>\n\n"
           "00:02.000 --> 00:03.000\n<v>Ingen röst.\n")
    segments = parse_publisher_transcript(vtt.encode(), "text/vtt")
    assert [(s.text, s.speaker) for s in segments] == [
        ("Hej!", "Anna & Bo Svensson"), ("Ingen röst.", None)]


def test_vtt_is_recognised_whatever_the_server_calls_it() -> None:
    assert len(parse_publisher_transcript(VTT.encode(), "text/html")) == 3


def test_srt_cues_become_segments() -> None:
    segments = parse_publisher_transcript(SRT.encode("cp1252"), "application/x-subrip")
    assert [(s.start, s.end, s.text) for s in segments] == [
        (1.0, 2.5, "Hej och välkommen."), (3.0, 4.0, "Upphandling enligt LOU.")]


def test_json_word_pieces_are_joined_into_sentences() -> None:
    words = [("Karin", 0.0, 0.4, "Hej"), ("Karin", 0.4, 0.9, "och"),
             ("Karin", 0.9, 1.5, "välkommen."), ("Johan", 2.0, 2.5, "Tack"),
             ("Johan", 2.5, 3.0, "så"), ("Karin", 3.2, 3.8, "Idag:"), ("Karin", 3.8, 4.1, "IOP")]
    segments = [{"speaker": s, "startTime": a, "endTime": b, "body": t} for s, a, b, t in words]
    segments += [{"startTime": "x", "body": "ogiltig"}, {"startTime": 5, "body": 7},
                 {"startTime": -1, "endTime": 2, "body": "negativ"}, "junk"]
    body = json.dumps({"version": "1.0.0", "segments": segments}).encode()
    got = parse_publisher_transcript(body, "application/json")
    assert [(s.start, s.end, s.text) for s in got] == [
        (0.0, 1.5, "Hej och välkommen."), (2.0, 3.0, "Tack så"), (3.2, 4.1, "Idag: IOP")]
    assert [s.speaker for s in got] == ["Karin", "Johan", "Karin"]


def test_json_that_is_not_a_transcript_gives_no_segments() -> None:
    for body in (b"not json", b"[1, 2]", b'{"segments": "none"}', b"[" * 100_000):
        assert parse_publisher_transcript(body, "application/json") == ()


def test_html_paragraphs_are_timed_by_time_elements() -> None:
    page = ("<html><head><title>x</title><script>alert(1)</script></head><body>"
            "<cite>Karin:</cite><time>0:00</time><p>Hej och välkommen.</p>"
            "<cite>Johan:</cite><time>00:01:05</time><p>Tack &amp; hej.</p></body></html>")
    got = parse_publisher_transcript(page.encode(), "text/html; charset=utf-8")
    assert [(s.start, s.end, s.text) for s in got] == [
        (0.0, 65.0, "Hej och välkommen."), (65.0, 65.0, "Tack & hej.")]


def test_untimed_html_and_text_keep_their_paragraphs() -> None:
    got = parse_publisher_transcript(b"<p>Ett.</p><p>Tv\xc3\xa5.</p>", "text/html")
    assert [(s.start, s.text) for s in got] == [(0.0, "Ett."), (0.0, "Två.")]
    plain = parse_publisher_transcript("Första stycket.\n\nAndra.".encode(), "text/plain")
    assert [s.text for s in plain] == ["Första stycket.", "Andra."]


def test_unknown_formats_are_refused() -> None:
    with pytest.raises(TranscriptionError):
        parse_publisher_transcript(b"", "application/pdf")


def test_the_bundled_sample_transcript_reads() -> None:
    segments = parse_publisher_transcript(SAMPLE_VTT.read_bytes(), "text/vtt")
    assert len(segments) >= 5
    assert segments[0].text.startswith("Välkommen till Konkurrenten")
    assert all(a.start <= b.start for a, b in itertools.pairwise(segments))


# -- fetching ---------------------------------------------------------------------------------


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with make_client(POLICY) as c:
        yield c


def episode_with(*links: TranscriptLink) -> Episode:
    return Episode(id="e1", feed_id="f1", guid="g", title="Avsnitt", duration_s=60.0,
                   enclosure=Enclosure("https://cdn.example/a.mp3", "audio/mpeg"),
                   transcripts=links)


def test_fetch_publisher_transcript(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/t.vtt", reply(VTT.encode(), content_type="text/vtt"))
    now = datetime(2025, 1, 1, tzinfo=UTC)
    got = fetch_publisher_transcript(client, episode_with(link(url, "text/vtt", "sv-SE")),
                                     settings=SETTINGS, policy=POLICY, clock=lambda: now)
    assert got is not None
    assert (got.source, got.engine, got.model, got.language) == ("publisher", "publisher", url,
                                                                 "sv")
    assert got.episode_id == "e1" and got.created == now and len(got.segments) == 3
    assert got.notes == ()


def test_a_failing_link_falls_back_to_the_next(http_server: LoopbackServer,
                                               client: httpx.Client) -> None:
    broken = http_server.url("/missing.vtt")
    srt = http_server.route("/t.srt", reply(SRT.encode(), content_type="text/plain"))
    got = fetch_publisher_transcript(
        client, episode_with(link(broken, "text/vtt"), link(srt, "application/srt")),
        settings=SETTINGS, policy=POLICY)
    assert got is not None and got.model == srt and len(got.segments) == 2
    assert http_server.count("/missing.vtt") == 1


def test_when_every_link_fails_the_last_error_is_raised(http_server: LoopbackServer,
                                                        client: httpx.Client) -> None:
    empty = http_server.route("/empty.vtt", reply(b"WEBVTT\n\n", content_type="text/vtt"))
    with pytest.raises(TranscriptionError, match="no segments"):
        fetch_publisher_transcript(client, episode_with(link(empty, "text/vtt")),
                                   settings=SETTINGS, policy=POLICY)
    with pytest.raises(FetchError):
        fetch_publisher_transcript(client, episode_with(link(http_server.url("/x.vtt"),
                                                             "text/vtt")),
                                   settings=SETTINGS, policy=POLICY)


def test_no_usable_link_means_no_transcript(client: httpx.Client) -> None:
    assert fetch_publisher_transcript(client, episode_with(), settings=SETTINGS) is None
    pdf = link("https://x.example/t.pdf", "application/pdf")
    assert fetch_publisher_transcript(client, episode_with(pdf), settings=SETTINGS) is None


def test_an_untimed_transcript_says_so(http_server: LoopbackServer, client: httpx.Client) -> None:
    url = http_server.route("/t.html", reply(b"<p>Hej.</p>", content_type="text/html"))
    got = fetch_publisher_transcript(client, episode_with(link(url, "text/html")),
                                     settings=SETTINGS, policy=POLICY)
    assert got is not None and got.notes == (EpisodeNote.of("publisher_transcript_untimed"),)


@pytest.mark.parametrize(("fmt", "media_type"), [("vtt", "text/vtt"),
                                                 (PODCAST_JSON, "application/json")])
def test_speakers_survive_our_own_exports_read_back(fmt: str, media_type: str) -> None:
    transcript = Transcript("e", "publisher", "sv", (
        Segment(0.0, 2.0, "Hej <och> välkomna & så.", speaker="Anna <A> & Bo"),
        Segment(2.0, 4.0, "Ingen röst här.")))
    back = parse_publisher_transcript(render_transcript(transcript, fmt).encode(), media_type)
    assert [(s.text, s.speaker) for s in back] == [
        ("Hej <och> välkomna & så.", "Anna <A> & Bo"), ("Ingen röst här.", None)]
