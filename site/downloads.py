"""Transcript downloads a person can keep: named by podcast and title, saying where they came from.

A saved file must still say what it is weeks later, so its name holds the podcast and episode
title (``Konkurrenten \u2013 IOP och upphandling.vtt``) and, where the format has room for a comment
(WebVTT ``NOTE``, plain text's first lines), it names the episode, its address and the
transcript's source. SubRip has no comments, and our JSON already carries its source.
"""

from __future__ import annotations

from urllib.parse import quote

from poddarkiv.archive.normalise import slugify

__all__ = ["content_disposition", "with_source_note"]

#: The longest file name offered (characters, before the extension).
MAX_NAME_CHARS = 120


def content_disposition(podcast: str, title: str, fmt: str, *,
                        disposition: str = "attachment") -> str:
    """``attachment`` (or ``inline``) with an ASCII ``filename`` and the real name as
    ``filename*``.

    RFC 6266 §4.3: ``filename*`` (RFC 8187, UTF-8) is preferred by every current browser;
    ``filename`` is the ASCII fallback for the rest.
    """
    name = " \u2013 ".join(p for p in (podcast.strip(), title.strip()) if p)[:MAX_NAME_CHARS]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '\\/:*?"<>|') or "avsnitt"
    fallback = slugify(name)[:MAX_NAME_CHARS] or "avsnitt"
    return (f'{disposition}; filename="{fallback}.{fmt}"; '
            f"filename*=UTF-8''{quote(name + '.' + fmt, safe='')}")


def with_source_note(body: str, fmt: str, lines: list[str]) -> str:
    """``body`` with ``lines`` (what it is, where from) as a comment the format allows."""
    clean = [" ".join(line.replace("-->", "->").split()) for line in lines if line.strip()]
    if fmt == "vtt" and body.startswith("WEBVTT"):
        head, _, rest = body.partition("\n\n")
        # WebVTT §4.1: a NOTE block may follow the header, separated by a blank line.
        return f"{head}\n\nNOTE\n" + "\n".join(clean) + "\n\n" + rest
    if fmt == "txt":
        return "\n".join(clean) + "\n\n" + body
    return body
