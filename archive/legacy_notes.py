"""Episode notes stored as English sentences, before notes had codes, read back as codes.

Transcripts written before :class:`~poddarkiv.archive.models.EpisodeNote` hold their notes as
the sentences ingest wrote then (``ingest.hallucinations`` and ``ingest.pipeline`` of that
time). :func:`note_from_text` recognises those sentences and returns the code and parameters
they stand for, so an old transcript's notes are said in the reader's language like new ones.
A sentence it does not recognise stays as it was, as a ``text`` note (shown as English): the
reading is tolerant, never lossy.
"""

from __future__ import annotations

import ast
import re

from poddarkiv.archive.models import EpisodeNote, EpisodeNoteCode, NoteValue

__all__ = ["note_from_text"]

_NUMBER = r"\d+(?:\.\d+)?"
#: ``at 9.0-10.0 s: 'Textning.nu'`` (the text as Python's repr wrote it).
_WHERE = rf"at (?P<start>{_NUMBER})-(?P<end>{_NUMBER}) s: (?P<text>'.*'|\".*\")"
#: Each old sentence, and the code it stands for.
_OLD: tuple[tuple[str, EpisodeNoteCode], ...] = (
    (r"the publisher's transcript could not be used, so Whisper transcribed it "
     r"\((?P<urls>.*?)\): (?P<reason>.*)", "publisher_transcript_unusable"),
    (r"the publisher's transcript has no timings", "publisher_transcript_untimed"),
    (rf"guards: dropped subtitle credit {_WHERE}", "guard_credit"),
    (rf"guards: dropped stock phrase {_WHERE}", "guard_stock_phrase"),
    (rf"guards: dropped text over silence {_WHERE}", "guard_silence"),
    (rf"guards: dropped runaway length \((?P<chars_per_s>\d+) characters/s\) {_WHERE}",
     "guard_runaway"),
    (rf"guards: dropped repeated segment {_WHERE}", "guard_repeated_segment"),
    (rf"guards: removed the prompt read back {_WHERE}", "guard_prompt_echo"),
    (rf"guards: collapsed (?P<phrase>'.*'|\".*\") repeated (?P<count>\d+) times at "
     rf"(?P<start>{_NUMBER}) s", "guard_loop"),
)
_SENTENCES = tuple((re.compile(pattern, re.DOTALL), code) for pattern, code in _OLD)


def _value(name: str, raw: str) -> NoteValue:
    if name in ("text", "phrase"):
        quoted = ast.literal_eval(raw)  # a str's repr, as the old sentence wrote it
        return quoted if isinstance(quoted, str) else raw
    if name in ("count", "chars_per_s"):
        return int(raw)
    if name in ("start", "end"):
        return float(raw)
    return raw


def note_from_text(text: str) -> EpisodeNote:
    """The note an old sentence stands for, else a ``text`` note holding it as it is."""
    for pattern, code in _SENTENCES:
        found = pattern.fullmatch(text)
        if found is not None:
            try:
                params = {k: _value(k, v) for k, v in found.groupdict().items()}
            except (ValueError, SyntaxError):
                break  # not quite the old shape: keep the sentence
            return EpisodeNote.of(code, **params)
    return EpisodeNote.of("text", text=text)
