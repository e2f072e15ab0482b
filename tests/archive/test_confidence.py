"""One confidence per passage and per episode (archive.confidence), kept in the transcript file
(archive.codec), carried by the JSON export, and heeded by key terms and themes."""

from __future__ import annotations

import json
import math

import pytest

from poddarkiv.archive.codec import transcript_from_dict, transcript_to_dict
from poddarkiv.archive.confidence import (
    CONFIDENT_SCORE,
    doubtful_words,
    episode_confidence,
    is_confident,
    passage_confidence,
)
from poddarkiv.archive.knowledge import analyse
from poddarkiv.archive.models import Episode, Segment, Transcript, Word
from poddarkiv.archive.themes import load_taxonomy
from poddarkiv.archive.writers import render_transcript

SURE = math.log(0.9)  # avg_logprob of a passage whose tokens had probability 0.9
UNSURE = math.log(0.3)


def seg(start: float, end: float, logprob: float | None, *, text: str = "ord",
        no_speech: float = 0.0, compression: float = 1.2,
        words: tuple[Word, ...] = ()) -> Segment:
    return Segment(start, end, text, avg_logprob=logprob, no_speech_prob=no_speech,
                   compression_ratio=compression, words=words)


def test_a_likely_passage_is_certain_and_an_unlikely_one_uncertain() -> None:
    sure, unsure = passage_confidence(seg(0, 1, SURE)), passage_confidence(seg(0, 1, UNSURE))
    assert sure is not None and sure.label == "certain" and sure.score == pytest.approx(0.9)
    assert unsure is not None and unsure.label == "uncertain" and unsure.score == pytest.approx(0.3)


def test_the_cut_off_is_the_score_threshold() -> None:
    at = passage_confidence(seg(0, 1, math.log(CONFIDENT_SCORE) + 1e-9))
    below = passage_confidence(seg(0, 1, math.log(CONFIDENT_SCORE) - 0.01))
    assert at is not None and at.certain
    assert below is not None and not below.certain


def test_a_repetition_loop_is_uncertain_however_likely() -> None:
    found = passage_confidence(seg(0, 1, SURE, compression=3.1))
    assert found is not None and found.label == "uncertain"


def test_words_written_over_what_the_model_took_for_silence_are_uncertain() -> None:
    found = passage_confidence(seg(0, 1, math.log(0.55), no_speech=0.9))
    assert found is not None and found.label == "uncertain"
    assert passage_confidence(seg(0, 1, SURE, no_speech=0.9)).label == "certain"  # type: ignore[union-attr]


def test_word_probabilities_score_the_passage_when_present() -> None:
    """faster-whisper gives every segment of a 30 s window the same avg_logprob; the words'
    own probabilities tell the passages apart."""
    words = (Word(0, 0.5, " bra", 0.95), Word(0.5, 1, " ord", 0.85))
    found = passage_confidence(seg(0, 1, UNSURE, words=words))
    assert found is not None and found.certain
    assert found.score == pytest.approx(math.sqrt(0.95 * 0.85))


def test_a_passage_without_figures_has_no_confidence_and_is_trusted() -> None:
    plain = Segment(0, 1, "ur utgivarens transkript")
    assert passage_confidence(plain) is None
    assert is_confident(plain)
    assert episode_confidence([plain]) is None


def test_the_episode_figure_is_weighted_by_duration() -> None:
    found = episode_confidence([seg(0, 9, SURE), seg(9, 10, UNSURE), Segment(10, 40, "x")])
    assert found is not None
    assert found.uncertain_share == pytest.approx(0.1)
    assert found.score == pytest.approx(0.9 * 0.9 + 0.3 * 0.1)
    assert found.scored_s == pytest.approx(10)
    assert not found.mostly_uncertain
    assert episode_confidence([seg(0, 1, SURE), seg(1, 10, UNSURE)]).mostly_uncertain  # type: ignore[union-attr]


def transcript(*segments: Segment) -> Transcript:
    return Transcript(episode_id="e", source="whisper", language="sv", segments=segments,
                      engine="faster-whisper", model="base")


def test_the_figures_survive_the_transcript_file() -> None:
    words = (Word(0.0, 0.4, " Hej", 0.91),)
    original = transcript(seg(0, 1, -0.25, no_speech=0.125, compression=1.5, words=words))
    back = transcript_from_dict(json.loads(json.dumps(transcript_to_dict(original))))
    assert back == original
    assert back.segments[0].compression_ratio == 1.5


def test_a_file_from_before_the_compression_ratio_was_kept_still_reads() -> None:
    old = transcript_to_dict(transcript(seg(0, 1, -0.25)))
    del old["segments"][0]["compression_ratio"]
    assert transcript_from_dict(old).segments[0].compression_ratio is None


def test_the_json_export_carries_the_confidence() -> None:
    data = json.loads(render_transcript(transcript(seg(0, 1, SURE), seg(1, 4, UNSURE)), "json"))
    assert data["confidence"]["uncertain_share"] == pytest.approx(0.75)
    assert data["confidence"]["mostly_uncertain"] is True
    assert [s["confidence"]["label"] for s in data["segments"]] == ["certain", "uncertain"]
    assert data["segments"][1]["compression_ratio"] == 1.2


def test_key_terms_and_themes_leave_misheard_passages_out() -> None:
    episode = Episode(id="e", feed_id="f", guid="g", title="Ett avsnitt")
    said = "Statsstöd till idéburna organisationer prövas av Konkurrensverket."
    misheard = "Känster om allmäntekonomisk dintresser, så karabes vei startet debudet."
    found = analyse(load_taxonomy(), episode,
                    transcript(seg(0, 5, SURE, text=said), seg(5, 10, UNSURE, text=misheard)))
    assert "konkurrensverket" in found.terms.labels.values()
    assert not {"karabes", "debudet", "startet"} & set(found.terms.labels.values())
    assert all(p.segment == 0 for p in found.passages)


def test_doubtful_words_are_found_in_order_in_the_text() -> None:
    words = (Word(0.0, 0.4, " så", 0.2), Word(0.4, 0.9, " kallade", 0.9),
             Word(0.9, 1.5, " SGEI", 0.4), Word(1.5, 1.8, " så", 0.1))
    segment = Segment(0.0, 1.8, " så kallade SGEI så", words=words)
    text = segment.text.strip()
    assert [text[a:b] for a, b in doubtful_words(segment, text)] == ["så", "SGEI", "så"]
    assert doubtful_words(segment, text)[2] == (16, 18)  # the second "så", not the first again


def test_a_word_missing_from_the_text_is_passed_over_not_guessed() -> None:
    words = (Word(0.0, 0.5, " karabes", 0.1), Word(0.5, 1.0, " intresse", 0.2))
    segment = Segment(0.0, 1.0, "allmänt intresse", words=words)
    assert doubtful_words(segment) == ((8, 16),)
    assert doubtful_words(Segment(0.0, 1.0, "utan ord")) == ()
