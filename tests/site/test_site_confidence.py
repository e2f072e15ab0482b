"""The episode page says how sure the recogniser was (archive.confidence): uncertain passages
are marked in words as well as looks, and a mostly uncertain transcript says so at the top."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from starlette.testclient import TestClient

from poddarkiv.archive.models import Segment, Transcript, Word
from poddarkiv.archive.store import Catalogue
from poddarkiv.sample import SAMPLE_EPISODES
from tests.site.html_probe import parse

SECOND = SAMPLE_EPISODES[1]  # a Whisper transcript


def save(catalogue: Catalogue, *probabilities: float) -> None:
    """A Whisper transcript of ``SECOND`` with one 3 s passage per token probability."""
    segments = tuple(Segment(3.0 * i, 3.0 * i + 2.9, f"del {i}", avg_logprob=math.log(p),
                             no_speech_prob=0.01, compression_ratio=1.3)
                     for i, p in enumerate(probabilities))
    catalogue.save_transcript(Transcript(
        episode_id=SECOND.slug, source="whisper", language="sv", segments=segments,
        engine="faster-whisper", model="base", created=datetime(2026, 1, 1, tzinfo=UTC)))


def test_the_json_twin_carries_each_passage_s_confidence_and_the_episode_s(
        client: TestClient, catalogue: Catalogue) -> None:
    save(catalogue, 0.9, 0.2, 0.8)
    data = client.get(f"/avsnitt/{SECOND.slug}.json").json()
    assert [s["confidence"]["label"] for s in data["segments"]] == [
        "certain", "uncertain", "certain"]
    assert data["segments"][1]["confidence"]["score"] == 0.2
    assert data["segments"][1]["compression_ratio"] == 1.3
    confidence = data["transcript"]["confidence"]
    assert round(confidence["uncertain_share"], 2) == 0.33
    assert confidence["mostly_uncertain"] is False


def test_uncertain_passages_are_marked_in_words_not_colour_alone(
        client: TestClient, catalogue: Catalogue) -> None:
    save(catalogue, 0.9, 0.2, 0.8)
    html = parse(client.get(f"/avsnitt/{SECOND.slug}").text)
    items = html.find("ol", id="transcript").find_all("li")
    assert ["uncertain" in li.classes for li in items] == [False, True, False]
    mark = items[1].find("span", cls="uncertain-mark")
    assert mark.attrs["title"] == "Osäker transkription"
    assert mark.find("span", cls="visually-hidden").text.strip() == "Osäker transkription"
    assert not html.find_all("p", cls="low-confidence")


def test_a_mostly_uncertain_transcript_says_so_at_the_top_in_both_languages(
        client: TestClient, catalogue: Catalogue) -> None:
    save(catalogue, 0.3, 0.2, 0.8)
    swedish = parse(client.get(f"/avsnitt/{SECOND.slug}").text)
    assert "Automatisk transkription med låg säkerhet" in swedish.find(
        "p", cls="low-confidence").text
    english = parse(client.get(f"/avsnitt/{SECOND.slug}", params={"lang": "en"}).text)
    assert "low confidence" in english.find("p", cls="low-confidence").text
    assert english.find("span", cls="uncertain-mark").attrs["title"] == "Uncertain transcription"


def test_a_transcript_without_figures_is_not_marked(client: TestClient) -> None:
    data = client.get(f"/avsnitt/{SAMPLE_EPISODES[0].slug}.json").json()
    assert data["transcript"]["confidence"] is None
    assert all(s["confidence"] is None for s in data["segments"])


def test_the_words_the_recogniser_doubted_are_marked_inside_the_passage(
        client: TestClient, catalogue: Catalogue) -> None:
    words = (Word(0.0, 0.5, " Tjänster", 0.95), Word(0.5, 0.9, " av", 0.9),
             Word(0.9, 1.6, " allmänt", 0.31), Word(1.6, 2.4, " intresse", 0.88))
    segment = Segment(0.0, 2.4, " Tjänster av allmänt intresse", words=words,
                      no_speech_prob=0.01, compression_ratio=1.1)
    catalogue.save_transcript(Transcript(
        episode_id=SECOND.slug, source="whisper", language="sv", segments=(segment,),
        engine="faster-whisper", model="base", created=datetime(2026, 1, 1, tzinfo=UTC)))

    data = client.get(f"/avsnitt/{SECOND.slug}.json").json()
    [passage] = data["segments"]
    assert [passage["text"][a:b] for a, b in passage["doubtful"]] == ["allmänt"]
    for lang, hidden in (("sv", "(1 osäkert ord)"), ("en", "(1 uncertain word)")):
        html = parse(client.get(f"/avsnitt/{SECOND.slug}", params={"lang": lang}).text)
        text = html.find("ol", id="transcript").find("span", cls="text")
        assert [d.text for d in text.find_all("span", cls="doubt")] == ["allmänt"]
        assert text.find("span", cls="visually-hidden").text.strip() == hidden
        assert text.text.startswith("Tjänster av allmänt intresse")


def test_a_passage_without_word_figures_has_no_doubtful_words(
        client: TestClient, catalogue: Catalogue) -> None:
    save(catalogue, 0.2)
    data = client.get(f"/avsnitt/{SECOND.slug}.json").json()
    assert data["segments"][0]["doubtful"] == []
    html = parse(client.get(f"/avsnitt/{SECOND.slug}").text)
    assert not html.find_all("span", cls="doubt")
