"""Notes in words: search notes and episode notes, filled the same way in either language."""

from __future__ import annotations

from poddarkiv.archive.models import EpisodeNote
from poddarkiv.archive.search import Note
from poddarkiv.site.episode_notes import say
from poddarkiv.site.i18n import gettext_for
from poddarkiv.site.notes import describe, describe_all, fill

SV, EN = gettext_for("sv"), gettext_for("en")


def test_a_search_note_is_said_with_its_parameters_in_the_readers_language() -> None:
    note = Note("query_truncated", (("max_chars", 200),))
    assert describe(note, SV) == "Sökningen var för lång och kortades till 200 tecken."
    assert "200" in describe(note, EN) and "Sökningen" not in describe(note, EN)


def test_several_notes_are_one_paragraph_and_none_is_nothing() -> None:
    notes = [Note("no_words"), Note("too_many_words", (("max_words", 12),))]
    text = describe_all(notes)
    assert text is not None and text.startswith("Sökningen innehöll inga ord")
    assert "12" in text
    assert describe_all([]) is None


def test_a_missing_parameter_reads_as_an_ellipsis_in_either_kind_of_note() -> None:
    assert describe(Note("query_truncated"), SV) == \
        "Sökningen var för lång och kortades till … tecken."
    said = say(EpisodeNote.of("episode_image_not_kept"), SV)
    assert said.message == "Avsnittets bild kunde inte sparas (…)."


def test_a_template_that_cannot_be_filled_is_said_as_it_is() -> None:
    assert fill("Trasig {0} översättning", {"x": 1}) == "Trasig {0} översättning"
    assert fill("Trasig {x.y} översättning", {"x": 1}) == "Trasig {x.y} översättning"
    assert fill("Öppen { klammer", {}) == "Öppen { klammer"


def test_an_episode_note_says_times_as_a_clock_and_keeps_the_reason_apart() -> None:
    note = EpisodeNote.of("publisher_chapters_unusable", url="https://example.invalid/k.json",
                          reason="HTTP 404")
    said = say(note, SV)
    assert said.message == ("Utgivarens kapitel kunde inte användas "
                            "(https://example.invalid/k.json), så föreslagna kapitel visas "
                            "i stället.")
    assert (said.reason, said.lang) == ("HTTP 404", None)
    guard = say(EpisodeNote.of("guard_credit", start=65.0, end=67.5, text="Textning.nu"), SV)
    assert "1:05" in guard.message and "1:07" in guard.message


def test_a_free_text_note_from_before_codes_is_said_as_written_in_english() -> None:
    said = say(EpisodeNote.of("text", text="Publisher transcript failed."), SV)
    assert (said.message, said.lang) == ("Publisher transcript failed.", "en")
