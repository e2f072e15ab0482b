"""People: from podcast:person, from credit lines in the show notes, and where they are named."""

from __future__ import annotations

from poddarkiv.archive.markup import html_to_text
from poddarkiv.archive.models import Episode, Person
from poddarkiv.archive.people import credited_people, extract_people
from tests.archive.knowledge_sample import transcript_of

#: Show notes as ingest stores them: HTML made text once, a line per block.
NOTES = html_to_text("<p>Ett samtal om IOP.</p><p>Gäst: Anna Andersson, jurist på Famna, och "
                     "Per von Svensson</p>Programledare: Lisa Berg<br>Med: ingen särskild")


def _episode(**changes: object) -> Episode:
    base = Episode(id="e", feed_id="f", guid="g", title="t", description=NOTES,
                   persons=(Person("Lisa Berg", "host", href="https://example.org/lisa"),))
    return base.replace(**changes)


def test_feed_persons_first_then_show_note_credits() -> None:
    people = credited_people(_episode())
    assert [(p.name, p.source, p.role) for p in people] == [
        ("Lisa Berg", "feed", "host"),
        ("Anna Andersson", "description", "guest"),
        ("Per von Svensson", "description", "guest"),
    ]
    assert people[0].href == "https://example.org/lisa"


def test_only_http_links_are_kept() -> None:
    episode = _episode(persons=(Person("X Y", href="javascript:alert(1)"),), description="")
    assert credited_people(episode)[0].href is None


def test_no_credit_line_no_people() -> None:
    assert credited_people(_episode(persons=(), description="Anna Andersson ringde.")) == ()


def test_named_in_the_transcript_with_times() -> None:
    transcript = transcript_of("e", "Välkommen Anna Andersson.", "Inget namn här.",
                               "Det var Lisa Bergs fråga.", "Och Karin Karlsson.")
    found = extract_people(_episode(), transcript, known=["Karin Karlsson", "Madonna"])
    said = [(p.slug, p.segment, p.start_s) for p in found if p.source == "transcript"]
    assert said == [("anna-andersson", 0, 0.0), ("lisa-berg", 2, 10.0),
                    ("karin-karlsson", 3, 15.0)]


def test_show_notes_are_read_as_the_plain_text_they_are() -> None:
    # Escaped markup in a feed is text after ingest; it is not parsed as HTML a second time.
    notes = "Gäst: Anna Andersson <anna@example.org>\nProgramledare: Lisa Berg"
    people = credited_people(_episode(persons=(), description=notes))
    assert [(p.name, p.role) for p in people] == [("Anna Andersson", "guest"),
                                                   ("Lisa Berg", "host")]
