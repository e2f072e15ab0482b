"""Guards: each Whisper failure mode is dropped or trimmed, and every change leaves a note."""

from __future__ import annotations

import pytest

from poddarkiv.archive.models import EpisodeNote, Segment, Word
from poddarkiv.ingest.hallucinations import (
    GuardLimits,
    apply_guards,
    collapse_loops,
    normalise,
    strip_prompt_echo,
)


def seg(start: float, end: float, text: str, *, logprob: float = -0.3,
        no_speech: float = 0.05) -> Segment:
    return Segment(start, end, text, avg_logprob=logprob, no_speech_prob=no_speech)


# (description, segment, kept?, the note's code)
SINGLE_CASES = [
    ("ordinary speech is kept", seg(0, 4, " Ett idéburet offentligt partnerskap."), True, None),
    ("subtitle credit anywhere in the text", seg(0, 3, " Textning.nu"), False, "guard_credit"),
    ("credit inside a longer line", seg(0, 3, " Svensktextning.nu - tack!"), False,
     "guard_credit"),
    ("Amara credit", seg(0, 3, " Undertexter från Amara.org-gemenskapen"), False,
     "guard_credit"),
    ("stock sign-off as the whole segment", seg(0, 2, " Tack för att ni tittade!"), False,
     "guard_stock_phrase"),
    ("stock words inside real speech are kept",
     seg(0, 5, " Tack för att ni tittade in på mötet om LOU."), True, None),
    ("a podcast's own thanks are kept", seg(0, 2, " Tack för att ni lyssnade."), True, None),
    ("silence: likely no speech and unsure text",
     seg(0, 3, " Ja.", logprob=-1.4, no_speech=0.8), False, "guard_silence"),
    ("unsure text where speech is likely is kept",
     seg(0, 3, " Ja.", logprob=-1.4, no_speech=0.2), True, None),
    ("likely silence but confident text is kept",
     seg(0, 3, " Ja.", logprob=-0.2, no_speech=0.8), True, None),
    ("runaway: 80 characters in one second",
     seg(0, 1, " " + "upphandling " * 7), False, "guard_runaway"),
    ("a short line in a short time is fine", seg(0, 0.5, " Ja, precis."), True, None),
    ("missing scores never count as silence",
     Segment(0, 3, " Hej.", avg_logprob=None, no_speech_prob=None), True, None),
]


@pytest.mark.parametrize(("segment", "kept", "note"), [c[1:] for c in SINGLE_CASES],
                         ids=[c[0] for c in SINGLE_CASES])
def test_single_segment_guards(segment: Segment, kept: bool, note: str | None) -> None:
    result = apply_guards([segment])
    assert (result.segments == (segment,)) is kept
    if note is None:
        assert result.notes == ()
    else:
        (said,) = result.notes
        assert said.code == note
        assert (said.get("start"), said.get("end")) == (segment.start, segment.end)
        quoted = str(said.get("text"))  # what went, quoted (the start of a long one)
        assert segment.text.strip().startswith(quoted.removesuffix("..."))


# (description, tokens, kept tokens, loops)
LOOP_CASES = [
    ("no loop", "kommunen valde ett partnerskap", "kommunen valde ett partnerskap", []),
    ("phrase three times", "och så vidare och så vidare och så vidare slut",
     "och så vidare slut", [("och så vidare", 3)]),
    ("punctuation and case do not hide a loop", "Det är IOP. det är iop, Det är IOP!",
     "Det är IOP.", [("Det är IOP.", 3)]),
    ("phrase twice is speech", "ja visst ja visst", "ja visst ja visst", []),
    ("a word six times", "nej " * 6 + "då", "nej då", [("nej", 6)]),
    ("a word five times is emphasis", "nej " * 5 + "då", "nej " * 5 + "då", []),
    ("two loops", "a b a b a b c d e c d e c d e", "a b c d e", [("a b", 3), ("c d e", 3)]),
]


@pytest.mark.parametrize(("tokens", "kept", "loops"), [c[1:] for c in LOOP_CASES],
                         ids=[c[0] for c in LOOP_CASES])
def test_collapse_loops(tokens: str, kept: str, loops: list[tuple[str, int]]) -> None:
    words = tokens.split()
    keep, found = collapse_loops(words)
    assert " ".join(words[i] for i in keep) == " ".join(kept.split())
    assert found == loops


def test_loop_inside_a_segment_is_trimmed_with_its_words() -> None:
    text = " partnerskap partnerskap partnerskap partnerskap partnerskap partnerskap klart"
    words = tuple(Word(i, i + 0.5, " " + w) for i, w in enumerate(text.split()))
    result = apply_guards([Segment(0, 20, text, -0.3, 0.1, words)])
    (only,) = result.segments
    assert only.text == " partnerskap klart"
    assert [w.text for w in only.words] == [" partnerskap", " klart"]
    assert result.notes == (
        EpisodeNote.of("guard_loop", phrase="partnerskap", count=6, start=0.0),)


def test_repeated_segments_keep_the_first() -> None:
    line = " Det här är inte en upphandling."
    segments = [seg(0, 3, line), seg(3, 6, line), seg(6, 9, line.upper()), seg(9, 12, " Nej.")]
    result = apply_guards(segments)
    assert [s.start for s in result.segments] == [0, 9]
    assert len(result.notes) == 2
    assert [n.code for n in result.notes] == ["guard_repeated_segment"] * 2


def test_short_repeated_answers_are_speech() -> None:
    segments = [seg(0, 1, " Ja."), seg(1, 2, " Ja."), seg(2, 3, " Ja.")]
    assert apply_guards(segments).segments == tuple(segments)


def test_limits_are_adjustable() -> None:
    strict = GuardLimits(max_chars_per_s=10.0)
    fast = seg(0, 3, " Ett idéburet offentligt partnerskap, inte LOU.")
    assert apply_guards([fast]).segments == (fast,)
    assert apply_guards([fast], limits=strict).segments == ()


def test_normalise_keeps_swedish_letters() -> None:
    assert normalise(" Idéburet, ÖVERENSKOMMELSE; åtagande!") == "idéburet överenskommelse åtagande"


PROMPT = "Idéburet offentligt partnerskap (IOP), LOU, upphandling, Konkurrensverket, statsstöd."
# (description, text, text left, echoed?)
ECHO_CASES = [
    ("terms read back, then speech",
     " Idéburet offentligt partnerskap, statsstöd. När en kommun ger pengar.",
     " När en kommun ger pengar.", True),
    ("only terms", " IOP, LOU, upphandling.", "", True),
    ("one term is speech", " Upphandling. Det är huvudregeln.", " Upphandling. Det är huvudregeln.",
     False),
    ("terms inside a real sentence", " Idéburet offentligt partnerskap är inte upphandling.",
     " Idéburet offentligt partnerskap är inte upphandling.", False),
    ("terms later in the segment", " Vi talar om LOU. IOP, LOU, statsstöd.",
     " Vi talar om LOU. IOP, LOU, statsstöd.", False),
]


@pytest.mark.parametrize(("text", "left", "echoed"), [c[1:] for c in ECHO_CASES],
                         ids=[c[0] for c in ECHO_CASES])
def test_prompt_echo(text: str, left: str, echoed: bool) -> None:
    segment, note = strip_prompt_echo(seg(0, 5, text), PROMPT)
    assert segment.text == left
    assert (note is not None) is echoed


def test_prompt_echo_is_removed_only_when_a_prompt_was_given() -> None:
    only_terms = seg(0, 2, " IOP, LOU, upphandling.")
    assert apply_guards([only_terms]).segments == (only_terms,)
    result = apply_guards([only_terms, seg(2, 4, " Nu börjar vi.")], prompt=PROMPT)
    assert [s.text for s in result.segments] == [" Nu börjar vi."]
    (note,) = result.notes
    assert note.code == "guard_prompt_echo" and note.get("text") == "IOP, LOU, upphandling."
