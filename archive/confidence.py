"""How sure the recogniser was: one confidence per passage and per episode.

The definition (and why)
------------------------
A passage's **score** is the geometric mean of the probabilities the decoder gave the words it
wrote, a number in 0..1 that reads as "on average, how likely the model found its own words".
When word timestamps are on, the words' own probabilities (``Word.probability``) give it;
otherwise it is ``exp(avg_logprob)``, the same mean over the tokens. The word figure is the one
to trust: faster-whisper reports one ``avg_logprob`` for a whole 30 s decoding window, so
without words every passage of a window gets the same score: it tells a poor window (or
episode) from a good one, not a poor passage from a good one (``bench/README.md``).

Two things make a passage uncertain whatever its score, because Whisper itself uses them to
reject a decoding (``whisper.transcribe``'s ``compression_ratio_threshold`` and
``no_speech_threshold``):

* a gzip **compression ratio** above :data:`MAX_COMPRESSION_RATIO` (2.4): the text repeats
  itself, the signature of a decoding loop;
* a **no-speech probability** above :data:`MAX_NO_SPEECH_PROB` (0.6) together with a score
  under :data:`CONFIDENT_SCORE`: the model thought there was no speech and wrote words anyway.

A passage is **certain** when its score is at least :data:`CONFIDENT_SCORE` and neither of the
above holds, and **uncertain** otherwise. The threshold, 0.6, was chosen on the sample feed,
where the scripts are the truth (``bench/confidence.py``, table in ``bench/README.md``): with
word timestamps, passages below it had twice the word errors of those above (WER 0.67 against
0.34); 0.5 and 0.55 separate less, 0.65 leaves almost nothing certain.

An **episode**'s figure is the share of its scored speech, by duration, that is uncertain
(:attr:`EpisodeConfidence.uncertain_share`); a transcript is *mostly uncertain* when that share
exceeds :data:`MOSTLY_UNCERTAIN_SHARE` (one half). Duration rather than a count of passages,
because a listener's doubt is about minutes of audio, and Whisper's segments vary from one word
to thirty seconds.

A passage without figures (a publisher's transcript, or one stored before they were kept) has
no confidence: ``None``, never a guess, and it does not count towards the episode's share.

Within a passage, a **doubtful word** is one whose own probability is under
:data:`CONFIDENT_SCORE` (the passage threshold applied to one word; :func:`doubtful_words`).
Only transcripts made with word timestamps have them, and a passage a person corrected has
none: its words are the person's.

In **search**, an uncertain passage's score is multiplied by :data:`UNCERTAIN_SEARCH_WEIGHT`
(:func:`search_weight`), so that where the words are the same a passage the recogniser was sure
of ranks first. The penalty is smaller than the gain from saying a word twice in a cue (BM25
gives 1.375 times the score at average length), so a passage that says more of what was
asked still wins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from poddarkiv.archive.models import Segment

__all__ = [
    "CONFIDENT_SCORE",
    "MAX_COMPRESSION_RATIO",
    "MAX_NO_SPEECH_PROB",
    "MOSTLY_UNCERTAIN_SHARE",
    "UNCERTAIN_SEARCH_WEIGHT",
    "ConfidenceLabel",
    "EpisodeConfidence",
    "PassageConfidence",
    "doubtful_words",
    "episode_confidence",
    "episode_confidence_json",
    "is_confident",
    "passage_confidence",
    "passage_confidence_json",
    "search_weight",
]

ConfidenceLabel = Literal["certain", "uncertain"]

#: The lowest score (geometric mean token probability, 0..1) of a certain passage.
CONFIDENT_SCORE = 0.6
#: Whisper's ``compression_ratio_threshold``: above it the text is a repetition loop.
MAX_COMPRESSION_RATIO = 2.4
#: Whisper's ``no_speech_threshold``: above it the model thought the audio held no speech.
MAX_NO_SPEECH_PROB = 0.6
#: Above this share of uncertain speech (by duration) a transcript is mostly uncertain.
MOSTLY_UNCERTAIN_SHARE = 0.5
#: A search score multiplier for an uncertain passage (certain ones, and ones without figures: 1).
UNCERTAIN_SEARCH_WEIGHT = 0.8


@dataclass(frozen=True, slots=True)
class PassageConfidence:
    """One passage's score (0..1) and label."""

    score: float
    label: ConfidenceLabel

    @property
    def certain(self) -> bool:
        """Whether the passage is labelled certain."""
        return self.label == "certain"


@dataclass(frozen=True, slots=True)
class EpisodeConfidence:
    """A transcript's confidence: duration-weighted over its scored passages.

    ``score`` is the mean passage score and ``uncertain_share`` the share of speech labelled
    uncertain, both weighted by duration; ``scored_s`` is the speech that had figures.
    """

    score: float
    uncertain_share: float
    scored_s: float

    @property
    def mostly_uncertain(self) -> bool:
        """Whether more than :data:`MOSTLY_UNCERTAIN_SHARE` of the speech is uncertain."""
        return self.uncertain_share > MOSTLY_UNCERTAIN_SHARE


def _score(segment: Segment) -> float | None:
    probabilities = [w.probability for w in segment.words if w.probability is not None]
    if probabilities:
        # the geometric mean, like exp(avg_logprob), but of this passage's own words
        logs = [math.log(max(p, 1e-6)) for p in probabilities]
        return math.exp(sum(logs) / len(logs))
    if segment.avg_logprob is None:
        return None
    return min(1.0, max(0.0, math.exp(segment.avg_logprob)))


def passage_confidence(segment: Segment, *,
                       threshold: float = CONFIDENT_SCORE) -> PassageConfidence | None:
    """The segment's confidence, or ``None`` when the engine gave no figures for it.

    ``threshold`` is the score cut-off (:data:`CONFIDENT_SCORE`); other values are for
    measuring (``bench/confidence.py``).
    """
    score = _score(segment)
    if score is None:
        return None
    looping = (segment.compression_ratio is not None
               and segment.compression_ratio > MAX_COMPRESSION_RATIO)
    silent = (segment.no_speech_prob is not None
              and segment.no_speech_prob > MAX_NO_SPEECH_PROB and score < threshold)
    certain = score >= threshold and not looping and not silent
    return PassageConfidence(score=score, label="certain" if certain else "uncertain")


def is_confident(segment: Segment) -> bool:
    """Whether the segment may be trusted: certain, or without figures (nothing says otherwise).

    What the knowledge map uses to leave garbled passages out.
    """
    found = passage_confidence(segment)
    return found is None or found.certain


def doubtful_words(segment: Segment, text: str | None = None) -> tuple[tuple[int, int], ...]:
    """Character spans, in ``text`` (the segment's own text by default), of the words the
    recogniser gave a probability under :data:`CONFIDENT_SCORE`.

    Words are found in order in the text; one that cannot be found (the text was edited) is
    passed over, never guessed at.
    """
    text = segment.text if text is None else text
    spans = []
    pos = 0
    for word in segment.words:
        token = word.text.strip()
        at = text.find(token, pos) if token else -1
        if at < 0:
            continue
        pos = at + len(token)
        if word.probability is not None and word.probability < CONFIDENT_SCORE:
            spans.append((at, pos))
    return tuple(spans)


def search_weight(segment: Segment) -> float:
    """What the segment's search score is multiplied by: :data:`UNCERTAIN_SEARCH_WEIGHT` when
    it is uncertain, else 1 (a passage without figures is not doubted)."""
    return 1.0 if is_confident(segment) else UNCERTAIN_SEARCH_WEIGHT


def episode_confidence(segments: Iterable[Segment]) -> EpisodeConfidence | None:
    """The duration-weighted confidence of ``segments``, or ``None`` when none has figures."""
    total = weighted = uncertain = 0.0
    for segment in segments:
        found = passage_confidence(segment)
        if found is None:
            continue
        # a zero-length segment still counts a little, so that its words are not ignored
        duration = max(segment.end - segment.start, 0.01)
        total += duration
        weighted += found.score * duration
        uncertain += 0.0 if found.certain else duration
    if total == 0.0:
        return None
    return EpisodeConfidence(score=weighted / total, uncertain_share=uncertain / total,
                             scored_s=total)


def passage_confidence_json(segment: Segment) -> dict[str, Any] | None:
    """The segment's confidence as JSON (``score``, ``label``), or ``None`` without figures."""
    found = passage_confidence(segment)
    if found is None:
        return None
    return {"score": round(found.score, 3), "label": found.label}


def episode_confidence_json(segments: Iterable[Segment]) -> dict[str, Any] | None:
    """A transcript's confidence as JSON (``score``, ``uncertain_share``, ``mostly_uncertain``,
    ``scored_s``), or ``None`` when no passage has figures."""
    found = episode_confidence(segments)
    if found is None:
        return None
    return {"score": round(found.score, 3), "uncertain_share": round(found.uncertain_share, 3),
            "mostly_uncertain": found.mostly_uncertain, "scored_s": round(found.scored_s, 3)}
