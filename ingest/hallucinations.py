"""Guards against Whisper's hallucinations (loops, credits over silence, a prompt read back), as
pure functions over segments.

Whisper sometimes loops (the same phrase over and over), writes text over silence or music
(often subtitle credits it learnt from video: "Textning.nu", "Tack för att ni tittade"), or
emits far more text than the time could hold. Given an initial prompt, it may also read the
prompt back ("Idéburet offentligt partnerskap, statsstöd, civilsamhället.") where nobody said
it. :func:`apply_guards` drops or trims such segments and returns a note for each change (an
:class:`~poddarkiv.archive.models.EpisodeNote` ``guard_*`` code with where and what), which
goes into ``Transcript.notes`` so nothing vanishes silently.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from poddarkiv.archive.models import EpisodeNote, EpisodeNoteCode, NoteValue, Segment

__all__ = [
    "CREDIT_MARKERS",
    "STOCK_PHRASES",
    "GuardLimits",
    "GuardResult",
    "apply_guards",
    "collapse_loops",
    "normalise",
    "strip_prompt_echo",
]

#: Substrings of subtitle credits, never spoken content: a segment holding one is dropped.
CREDIT_MARKERS = (
    "textning.nu", "svensktextning", "amara.org", "undertexter från", "undertexter av",
    "textad av", "textat av", "undertextning",
)
#: Sign-offs Whisper invents over silence; dropped only when they are the whole segment.
STOCK_PHRASES = (
    "tack för att ni tittade", "tack för att du tittade", "tack för att ni har tittat",
    "tack för att du har tittat", "tack för tittandet", "glöm inte att prenumerera",
    "prenumerera på kanalen",
)


@dataclass(frozen=True, slots=True)
class GuardLimits:
    """Thresholds; the silence pair mirrors Whisper's own ``no_speech`` and ``logprob`` ones."""

    no_speech_prob: float = 0.6
    avg_logprob: float = -1.0
    #: Fluent Swedish runs at 12-18 characters a second, spaces included.
    max_chars_per_s: float = 30.0
    min_chars_for_rate: int = 40
    #: Repeated whole segments count as a loop from this many words (short "Ja." may repeat).
    min_loop_words: int = 3
    max_phrase_words: int = 8
    min_phrase_repeats: int = 3
    min_word_repeats: int = 6


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The segments that survived, and what happened to the others."""

    segments: tuple[Segment, ...]
    notes: tuple[EpisodeNote, ...]


def normalise(text: str) -> str:
    """Lowercase words without punctuation, for comparing texts (å, ä, ö kept)."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


#: The most characters of a changed segment's text a note quotes.
QUOTE_CHARS = 60


def _note(code: EpisodeNoteCode, segment: Segment, **extra: NoteValue) -> EpisodeNote:
    """The note ``code`` about ``segment``: where it was (seconds) and what it said."""
    text = " ".join(segment.text.split())
    quoted = text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS - 3] + "..."
    return EpisodeNote.of(code, start=round(segment.start, 1), end=round(segment.end, 1),
                          text=quoted, **extra)


def _drop_reason(segment: Segment, limits: GuardLimits) -> EpisodeNote | None:
    """Why a segment is dropped on its own, or ``None`` to keep it."""
    norm = normalise(segment.text)
    if any(marker in segment.text.lower() for marker in CREDIT_MARKERS):
        return _note("guard_credit", segment)
    if norm in STOCK_PHRASES:
        return _note("guard_stock_phrase", segment)
    if (segment.no_speech_prob is not None and segment.avg_logprob is not None
            and segment.no_speech_prob > limits.no_speech_prob
            and segment.avg_logprob < limits.avg_logprob):
        return _note("guard_silence", segment)
    chars = len(segment.text.strip())
    if chars >= limits.min_chars_for_rate:
        rate = chars / max(segment.end - segment.start, 1e-3)
        if rate > limits.max_chars_per_s:
            return _note("guard_runaway", segment, chars_per_s=round(rate))
    return None


def _repeats(keys: Sequence[str], start: int, width: int) -> int:
    """How many times ``keys[start:start + width]`` occurs back to back from ``start``."""
    phrase, count = keys[start: start + width], 1
    while keys[start + count * width: start + (count + 1) * width] == phrase:
        count += 1
    return count


def collapse_loops(tokens: Sequence[str], limits: GuardLimits = GuardLimits(),
                   ) -> tuple[list[int], list[tuple[str, int]]]:
    """Indices of ``tokens`` to keep when each back-to-back repeated phrase is kept once.

    A phrase of 2 to ``max_phrase_words`` words loops from ``min_phrase_repeats`` repeats; a
    single word from ``min_word_repeats``. Also returns each ``(phrase, repeats)`` collapsed.
    """
    keys = [normalise(t) for t in tokens]
    keep: list[int] = []
    loops: list[tuple[str, int]] = []
    i = 0
    while i < len(tokens):
        for width in range(1, limits.max_phrase_words + 1):
            count = _repeats(keys, i, width) if i + 2 * width <= len(keys) else 1
            needed = limits.min_word_repeats if width == 1 else limits.min_phrase_repeats
            if count >= needed:
                keep.extend(range(i, i + width))
                loops.append((" ".join(tokens[i: i + width]), count))
                i += width * count
                break
        else:
            keep.append(i)
            i += 1
    return keep, loops


def _prompt_terms(prompt: str) -> frozenset[str]:
    """The glossary's terms: what stands between commas and parentheses, normalised."""
    return frozenset(t for t in (normalise(p) for p in re.split(r"[,()]", prompt)) if t)


def strip_prompt_echo(segment: Segment, prompt: str) -> tuple[Segment, EpisodeNote | None]:
    """Remove a first sentence made only of two or more of the prompt's terms.

    Returns the segment (text empty if nothing else was in it) and a note, or ``None``.
    """
    first = re.match(r"(\s*[^.!?]*[.!?]?)(.*)", segment.text, re.S)
    assert first is not None  # every part of the pattern may be empty
    head, rest = first.groups()
    parts = [t for t in (normalise(p) for p in re.split(r"[,()]", head)) if t]
    if len(parts) < 2 or not set(parts) <= _prompt_terms(prompt):
        return segment, None
    words = segment.words
    n_head, n_all = len(head.split()), len(segment.text.split())
    words = words[n_head:] if len(words) == n_all else ()
    note = _note("guard_prompt_echo", dataclasses.replace(segment, text=head))  # what went
    return dataclasses.replace(segment, text=rest, words=words), note


def _trim_loops(segment: Segment, limits: GuardLimits) -> tuple[Segment, list[EpisodeNote]]:
    tokens = segment.text.split()
    keep, loops = collapse_loops(tokens, limits)
    if not loops:
        return segment, []
    words = segment.words
    words = tuple(words[i] for i in keep) if len(words) == len(tokens) else ()
    lead = segment.text[: len(segment.text) - len(segment.text.lstrip())]
    text = lead + " ".join(tokens[i] for i in keep)
    notes = [EpisodeNote.of("guard_loop", phrase=phrase, count=count,
                            start=round(segment.start, 1)) for phrase, count in loops]
    return dataclasses.replace(segment, text=text, words=words), notes


def apply_guards(segments: Sequence[Segment], *, limits: GuardLimits = GuardLimits(),
                 prompt: str | None = None) -> GuardResult:
    """Drop hallucinated and runaway segments, collapse loops, and say what was done.

    ``prompt`` is the initial prompt the engine was given, whose echoes are removed.
    """
    kept: list[Segment] = []
    notes: list[EpisodeNote] = []
    for segment in segments:
        if prompt:
            segment, echo = strip_prompt_echo(segment, prompt)
            notes.extend([echo] if echo else [])
            if not segment.text.strip():
                continue
        dropped = _drop_reason(segment, limits)
        if dropped is not None:
            notes.append(dropped)
            continue
        segment, loop_notes = _trim_loops(segment, limits)
        notes.extend(loop_notes)
        norm = normalise(segment.text)
        if (kept and norm == normalise(kept[-1].text)
                and len(norm.split()) >= limits.min_loop_words):
            notes.append(_note("guard_repeated_segment", segment))
            continue
        kept.append(segment)
    return GuardResult(segments=tuple(kept), notes=tuple(notes))
