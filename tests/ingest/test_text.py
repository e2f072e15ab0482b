"""clean_url() and friends: what a feed's text and URLs become before they are stored."""

from __future__ import annotations

import pytest

from poddarkiv.ingest.text import clean_line, clean_url

BASE = "https://feeds.example/podd/feed.xml"


@pytest.mark.parametrize(("written", "kept"), [
    ("https://cdn.example/avsnitt 1.mp3", "https://cdn.example/avsnitt%201.mp3"),
    ("ljud/två delar.mp3", "https://feeds.example/podd/ljud/två%20delar.mp3"),
    ("https://cdn.example/a.mp3?titel=en del", "https://cdn.example/a.mp3?titel=en%20del"),
    ("https://cdn.example/av\tsnitt\n.mp3", "https://cdn.example/avsnitt.mp3"),
    ("  https://cdn.example/a.mp3  ", "https://cdn.example/a.mp3"),
])
def test_spaces_inside_a_url_are_percent_encoded_as_browsers_do(written: str, kept: str) -> None:
    assert clean_url(written, base=BASE) == kept


@pytest.mark.parametrize("written", [
    "javascript:alert(1)", "file:///etc/passwd", "data:audio/mpeg;base64,AAAA",
    "ftp://cdn.example/a.mp3", "https://cdn .example/a.mp3", "http://[domain]/episode/12",
    "http://example.c[o.test/", "https://cdn.example:port/a.mp3", "https://cdn.example/a\x00.mp3",
    "https://" + "a" * 3000 + ".example/", "", None, 42,
])
def test_urls_that_are_not_http_or_https_addresses_are_refused(written: object) -> None:
    assert clean_url(written, base=BASE) is None


def test_a_line_is_one_line_without_control_characters() -> None:
    assert clean_line("  Avsnitt\n\t1\x00\x85 ") == "Avsnitt 1"
