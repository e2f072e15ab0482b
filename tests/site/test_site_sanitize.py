"""Untrusted feed text: only allowed tags survive, only http(s) URLs become links."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from poddarkiv.site.sanitize import SNIPPET_TAGS, safe_url, sanitize_html
from tests.site.html_probe import parse


@pytest.mark.parametrize(("url", "safe"), [
    ("https://example.org/a?b=c", True),
    ("http://example.org", True),
    ("HTTPS://EXAMPLE.ORG", True),
    ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False),
    (" javascript:alert(1)", False),
    ("data:text/html,<script>", False),
    ("vbscript:x", False),
    ("//example.org/x", False),
    ("/relative", False),
    ("https://", False),
    ("https://exa mple.org", False),
    ('https://example.org/"onmouseover=x', False),
    ("https://example.org/\nx", False),
    ("", False),
    (None, False),
])
def test_only_absolute_http_urls_are_safe(url: str | None, safe: bool) -> None:
    assert (safe_url(url) is not None) is safe


@pytest.mark.parametrize(("notes", "expected"), [
    ("<p>Hej <b>där</b></p>", "<p>Hej <b>där</b></p>"),
    ("<script>alert(1)</script>kvar", "kvar"),
    ("<style>p{}</style><p>x</p>", "<p>x</p>"),
    ('<p onclick="x()">y</p>', "<p>y</p>"),
    ('<img src="x" onerror="alert(1)">bild', "bild"),
    ('<a href="javascript:alert(1)">l</a>', "<a>l</a>"),
    ('<a href="https://e.org/" target="_blank">l</a>',
     '<a href="https://e.org/" rel="nofollow noopener noreferrer">l</a>'),
    ("<p>öppen", "<p>öppen</p>"),
    ("<ul><li>a<li>b</ul>", "<ul><li>a</li><li>b</li></ul>"),
    ("<p>a<p>b", "<p>a</p><p>b</p>"),
    ("1 < 2 & 3", "1 &lt; 2 &amp; 3"),
    ("rad ett\nrad två", "rad ett<br>\nrad två"),
    ("<iframe src=x><p>inne</p></iframe>ute", "ute"),
    ("<svg><script>x</script></svg>ok", "ok"),
])
def test_show_notes_keep_only_the_allow_list(notes: str, expected: str) -> None:
    assert sanitize_html(notes) == expected


def test_snippets_keep_only_their_highlight() -> None:
    assert sanitize_html('<mark class="m">ord</mark> <a href="https://e.org">x</a>',
                         tags=SNIPPET_TAGS) == "<mark>ord</mark> x"


@given(st.text(alphabet=st.sampled_from(list("<>/\"'= abcpscriptonerrorhref:javascript&;")),
               max_size=200))
def test_no_input_yields_a_script_or_an_event_handler(notes: str) -> None:
    out = sanitize_html(notes)
    for element in parse(out).iter():
        assert element.tag in {"a", "b", "blockquote", "br", "code", "em", "i", "li", "ol",
                               "p", "pre", "strong", "ul"}
        assert set(element.attrs) <= {"href", "rel"}
        assert safe_url(element.attrs.get("href", "https://x.org")) is not None
