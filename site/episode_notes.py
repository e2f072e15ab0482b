"""What an episode's notes say (how it was archived), in the reader's language.

Ingest records :class:`~poddarkiv.archive.models.EpisodeNote` codes with their parameters (the
publisher's transcript could not be used, what the hallucination guards removed, an image not
kept); this module is the one place that puts them into words, as :mod:`poddarkiv.site.notes`
does for a search's notes. The Swedish sentences are message ids of the site's gettext
catalogue (``locale/en`` translates them). The episode page, its ``.json`` twin and the CLI's
ingest report all say notes through :func:`say`.

A ``reason`` is the error's own message, in English: it follows the sentence, marked as
English, and is never translated. A note stored as free text before notes had codes (code
``text``) is said as it was written, marked as English too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from poddarkiv.archive.models import EpisodeNote, EpisodeNoteCode, NoteValue
from poddarkiv.archive.times import format_clock
from poddarkiv.site.i18n import gettext_for
from poddarkiv.site.notes import N_, fill

__all__ = ["MESSAGES", "REASON_LABEL", "Said", "describe", "said_json", "say"]

#: Each note's sentence; ``{name}`` is filled from the note's parameters (times as m:ss).
MESSAGES: dict[EpisodeNoteCode, str] = {
    "publisher_transcript_unusable": N_("Utgivarens transkription kunde inte användas "
                                        "({urls}), så Whisper transkriberade avsnittet."),
    "publisher_transcript_untimed": N_("Utgivarens transkription saknar tider, så texten "
                                       "kan inte följa ljudet."),
    "publisher_chapters_unusable": N_("Utgivarens kapitel kunde inte användas ({url}), så "
                                      "föreslagna kapitel visas i stället."),
    "episode_image_not_kept": N_("Avsnittets bild kunde inte sparas ({url})."),
    "guard_credit": N_("Mellan {start} och {end} togs en textningsrad bort som Whisper "
                       "hittat på: ”{text}”."),
    "guard_stock_phrase": N_("Mellan {start} och {end} togs en fras bort som Whisper brukar "
                             "hitta på: ”{text}”."),
    "guard_silence": N_("Mellan {start} och {end} togs text bort som Whisper skrev där ingen "
                        "talade: ”{text}”."),
    "guard_runaway": N_("Mellan {start} och {end} togs text bort som var för lång för tiden "
                        "({chars_per_s} tecken per sekund): ”{text}”."),
    "guard_loop": N_("Vid {start} upprepades ”{phrase}” {count} gånger i rad; nu står det "
                     "en gång."),
    "guard_repeated_segment": N_("Mellan {start} och {end} togs ett stycke bort som "
                                 "upprepade det förra: ”{text}”."),
    "guard_prompt_echo": N_("Mellan {start} och {end} togs ordlistan bort som Whisper läste "
                            "upp utan att någon sade den: ”{text}”."),
}
#: Said before a note's reason.
REASON_LABEL = N_("Orsak:")
#: Parameters that are times in seconds, said as ``m:ss``.
_TIMES = frozenset({"start", "end"})


@dataclass(frozen=True, slots=True)
class Said:
    """A note in words: the sentence, the error's own reason (English) if any, and the
    sentence's language when it is not the reader's (``"en"``: a free-text note)."""

    message: str
    reason: str | None = None
    lang: str | None = None


def _value(name: str, value: NoteValue) -> str:
    if name in _TIMES and isinstance(value, int | float):
        return format_clock(value)
    return str(value)


def say(note: EpisodeNote, gettext: Callable[[str], str]) -> Said:
    """``note`` in the language of ``gettext``."""
    if note.code == "text" or note.code not in MESSAGES:
        return Said(str(note.get("text") or ""), lang="en")
    params = {k: _value(k, v) for k, v in note.params if k != "reason"}
    reason = note.get("reason")
    return Said(fill(gettext(MESSAGES[note.code]), params),
                reason=str(reason) if reason else None)


def describe(note: EpisodeNote, gettext: Callable[[str], str]) -> str:
    """``note`` as one line of text (the CLI's report): the sentence, then the reason."""
    said = say(note, gettext)
    return f"{said.message} {gettext(REASON_LABEL)} {said.reason}" if said.reason else (
        said.message)


def said_json(notes: Iterable[EpisodeNote], lang: str) -> list[dict[str, Any]]:
    """``notes`` said in ``lang``, for a page and its twin: ``code``, ``message``, ``reason``
    and ``lang`` (``None``: the page's own language)."""
    gettext = gettext_for(lang)
    out = []
    for note in notes:
        said = say(note, gettext)
        out.append({"code": note.code, "message": said.message, "reason": said.reason,
                    "lang": said.lang})
    return out
