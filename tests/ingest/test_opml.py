"""OPML import and export: round trip, nesting, hostile files."""

from __future__ import annotations

import time

import pytest

from poddarkiv.archive.models import Feed
from poddarkiv.errors import ConfigError
from poddarkiv.ingest.opml import Outline, read_opml, write_opml, write_outlines

APP_EXPORT = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>Prenumerationer</title></head>
  <body>
    <outline text="Samh\xc3\xa4lle">
      <outline type="rss" text="Konkurrenten" xmlUrl="https://feeds.example/kkv.xml"/>
      <outline type="rss" title="P1 Dokument&#xE4;r" text="x" xmlURL="https://feeds.example/p1"/>
    </outline>
    <outline type="rss" text="Dubblett" xmlUrl="https://feeds.example/kkv.xml"/>
    <outline type="rss" text="Farlig" xmlUrl="javascript:alert(1)"/>
    <outline type="rss" text="Lokal" xmlUrl="file:///etc/passwd"/>
    <outline type="link" text="Bara en l\xc3\xa4nk" url="https://example.org/"/>
  </body>
</opml>
"""


def test_read_opml_lists_every_feed_once_in_order() -> None:
    assert read_opml(APP_EXPORT) == [
        ("Konkurrenten", "https://feeds.example/kkv.xml"),
        ("P1 Dokumentär", "https://feeds.example/p1"),
    ]


def test_round_trip() -> None:
    feeds = [Feed(id="a", url="https://feeds.example/a?x=1&y=2", title='Ett "citat" & <tag>',
                  link="https://example.org/", language="sv"),
             Feed(id="b", url="https://feeds.example/b")]
    document = write_opml(feeds)
    assert document.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">')
    assert read_opml(document.encode()) == [
        ('Ett "citat" & <tag>', "https://feeds.example/a?x=1&y=2"),
        ("https://feeds.example/b", "https://feeds.example/b"),
    ]


def test_utf16_opml_reads() -> None:
    document = write_opml([Feed(id="a", url="https://feeds.example/å", title="Räv")])
    assert read_opml(document.replace("UTF-8", "UTF-16").encode("utf-16")) == [
        ("Räv", "https://feeds.example/å")]


def test_entities_are_never_expanded() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<opml version="2.0"><body><outline text="&d;&d;&d;&xxe;" xmlUrl="https://f.example/"/></body></opml>"""
    started = time.monotonic()
    with pytest.raises(ConfigError):  # the references are undefined once the DOCTYPE is gone
        read_opml(laughs)
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("body", [b"", b"not xml", b"<rss version='2.0'/>", b"<opml>",
                                  b"\x00" * 100])
def test_what_is_not_opml_is_refused(body: bytes) -> None:
    with pytest.raises(ConfigError):
        read_opml(body)


def test_huge_files_are_refused() -> None:
    with pytest.raises(ConfigError, match="larger"):
        read_opml(b" " * (10 * 1024 * 1024 + 1))


def test_outlines_that_are_not_feed_urls_are_refused_and_named() -> None:
    document = ('<opml version="2.0"><body><outline text="Bra" xmlUrl="https://ok.example/f"/>'
                '<outline text="Lokal" xmlUrl="file:///etc/passwd"/>'
                '<outline text="Trasig" xmlUrl="http://[::1"/></body></opml>')
    refused: list[str] = []
    assert read_opml(document.encode(), refused=refused) == [("Bra", "https://ok.example/f")]
    assert refused == ["file:///etc/passwd", "http://[::1"]


def test_outlines_name_any_address_and_are_escaped() -> None:
    document = write_outlines([Outline("Poddar & \"samtal\"", "https://arkiv.example/rss/a.xml",
                                       html_url="https://arkiv.example/podd/a")], title="Arkiv")
    assert read_opml(document.encode()) == [('Poddar & "samtal"',
                                             "https://arkiv.example/rss/a.xml")]
    assert 'htmlUrl="https://arkiv.example/podd/a"' in document
    assert "<title>Arkiv</title>" in document
