"""Untrusted URLs from feeds, made safe to link to.

Everything else a feed says reaches the site as text (ingest turns show-note HTML into text
once; search snippets are text with spans), and templates escape text, so no feed markup is ever
rendered. Links are the one place a feed's value becomes an attribute: only ``http`` and
``https`` URLs ever become links, so ``javascript:`` and ``data:`` URLs never reach an ``href``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["safe_url"]

_SAFE_SCHEMES = frozenset({"http", "https"})


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute ``http``/``https`` URL with a host, else ``None``."""
    if not url:
        return None
    url = url.strip()
    if any(ord(c) < 0x20 or c in " \\\"'<>`" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.hostname:
        return None
    return url
