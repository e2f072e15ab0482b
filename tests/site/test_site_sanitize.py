"""Untrusted feed URLs: only absolute http(s) URLs become links."""

from __future__ import annotations

import pytest

from poddarkiv.site.sanitize import safe_url


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
