"""Notes stored as English sentences before notes had codes read back as the codes they stand
for; anything else stays as it was written."""

from __future__ import annotations

import pytest

from poddarkiv.archive.codec import transcript_from_dict, transcript_to_dict
from poddarkiv.archive.legacy_notes import note_from_text
from poddarkiv.archive.models import EpisodeNote, Segment, Transcript

# (the sentence as ingest wrote it then, the note it stands for)
OLD_SENTENCES = [
    ("the publisher's transcript could not be used, so Whisper transcribed it "
     "(https://example.org/t.vtt, https://example.org/t.srt): HTTP 404 Not Found: x (y)",
     EpisodeNote.of("publisher_transcript_unusable",
                    urls="https://example.org/t.vtt, https://example.org/t.srt",
                    reason="HTTP 404 Not Found: x (y)")),
    ("the publisher's transcript has no timings",
     EpisodeNote.of("publisher_transcript_untimed")),
    ("guards: dropped subtitle credit at 9.0-10.0 s: 'Textning.nu'",
     EpisodeNote.of("guard_credit", start=9.0, end=10.0, text="Textning.nu")),
    ("guards: dropped stock phrase at 1.5-3.0 s: 'Tack för att ni tittade!'",
     EpisodeNote.of("guard_stock_phrase", start=1.5, end=3.0,
                    text="Tack för att ni tittade!")),
    ("guards: dropped text over silence at 0.0-3.0 s: \"Det är 'bra'.\"",
     EpisodeNote.of("guard_silence", start=0.0, end=3.0, text="Det är 'bra'.")),
    ("guards: dropped runaway length (84 characters/s) at 0.0-1.0 s: 'upphandling ...'",
     EpisodeNote.of("guard_runaway", start=0.0, end=1.0, text="upphandling ...",
                    chars_per_s=84)),
    ("guards: dropped repeated segment at 3.0-6.0 s: 'Det här är inte en upphandling.'",
     EpisodeNote.of("guard_repeated_segment", start=3.0, end=6.0,
                    text="Det här är inte en upphandling.")),
    ("guards: removed the prompt read back at 0.0-2.0 s: 'IOP, LOU, upphandling.'",
     EpisodeNote.of("guard_prompt_echo", start=0.0, end=2.0, text="IOP, LOU, upphandling.")),
    ("guards: collapsed 'partnerskap' repeated 6 times at 12.5 s",
     EpisodeNote.of("guard_loop", phrase="partnerskap", count=6, start=12.5)),
]


@pytest.mark.parametrize(("sentence", "note"), OLD_SENTENCES,
                         ids=[n.code for _, n in OLD_SENTENCES])
def test_an_old_sentence_reads_back_as_its_code(sentence: str, note: EpisodeNote) -> None:
    assert note_from_text(sentence) == note


@pytest.mark.parametrize("sentence", [
    "something a later release never wrote",
    "guards: dropped subtitle credit at 9.0-10.0 s: 'unterminated",
    "guards: dropped subtitle credit at 9.0-10.0 s: 'a' + 'b'",
    "",
])
def test_anything_else_stays_as_it_was_written(sentence: str) -> None:
    assert note_from_text(sentence) == EpisodeNote.of("text", text=sentence)


def test_a_transcript_file_with_old_notes_reads_and_writes_back_codes() -> None:
    transcript = Transcript("ep", "whisper", "sv", (Segment(0.0, 1.0, "Hej."),))
    stored = {**transcript_to_dict(transcript),
              "notes": [sentence for sentence, _ in OLD_SENTENCES] + ["fri text"]}
    read = transcript_from_dict(stored)
    assert read.notes == (*(note for _, note in OLD_SENTENCES),
                          EpisodeNote.of("text", text="fri text"))
    assert transcript_from_dict(transcript_to_dict(read)) == read
