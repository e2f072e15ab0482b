"""Chapters: the publisher's JSON chapters, else suggested where the dominant theme changes."""

from __future__ import annotations

import json

import pytest

from poddarkiv.archive.chapters import parse_chapters_json, suggest_chapters
from poddarkiv.archive.models import Chapter, Episode
from poddarkiv.archive.themes import load_taxonomy, score_themes
from poddarkiv.errors import FeedError
from tests.archive.knowledge_sample import transcript_of

TAXONOMY = load_taxonomy()


def test_parse_podcasting_2_chapters() -> None:
    body = json.dumps({"version": "1.2.0", "chapters": [
        {"startTime": 95.5, "title": "Statsstöd", "url": "https://example.org/sgei"},
        {"startTime": 0, "title": "Inledning"},
        {"startTime": 30, "title": "Bild", "toc": False},
        {"startTime": "60", "title": "LOU", "url": "javascript:alert(1)"},
        {"startTime": -1, "title": "negativ"},
        {"title": "ingen tid"},
        "skräp",
    ]})
    assert parse_chapters_json(body) == (
        Chapter(0.0, "Inledning"), Chapter(60.0, "LOU"),
        Chapter(95.5, "Statsstöd", "https://example.org/sgei"))


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"chapters": 3}', b"\xff\xfe"])
def test_not_a_chapters_document(body: bytes) -> None:
    with pytest.raises(FeedError):
        parse_chapters_json(body)


IOP = "Ett idéburet offentligt partnerskap är ett IOP mellan kommunen och föreningen."
SGEI = "Statsstöd och SGEI: tjänster av allmänt ekonomiskt intresse och statsstödet."
FILLER = "Och så vidare, tack för det."


def _suggest(*lines: str):
    episode = Episode(id="e", feed_id="f", guid="g", title="")
    transcript = transcript_of("e", *lines, segment_s=10.0)
    scores = score_themes(TAXONOMY, episode, transcript)
    return suggest_chapters(TAXONOMY, transcript, scores.segments)


def test_a_chapter_where_the_theme_changes() -> None:
    chapters = _suggest(*([IOP, FILLER] * 6), *([SGEI, FILLER] * 6))  # 2 minutes each
    assert [c.title for c in chapters] == ["Idéburet offentligt partnerskap (IOP)",
                                           "Statsstöd och SGEI"]
    assert chapters[0].start == 0.0
    assert 90.0 <= chapters[1].start <= 150.0


def test_a_short_detour_is_not_a_chapter() -> None:
    chapters = _suggest(*([IOP, FILLER] * 6), SGEI, *([IOP, FILLER] * 6))
    assert chapters == ()


def test_one_theme_or_none_is_no_suggestion() -> None:
    assert _suggest(*([IOP] * 20)) == ()
    assert _suggest(*([FILLER] * 20)) == ()
    assert _suggest() == ()
