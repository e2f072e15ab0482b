"""Make an XML body safe to hand to an XML parser: no DOCTYPE, no ENTITY declarations.

Entity declarations are how a feed attacks its reader: one large entity referenced many times
makes feedparser run for minutes and take gigabytes ("billion laughs", quadratic blowup), and an
external entity (``SYSTEM "file:///etc/passwd"``) asks the parser to read a local file. A podcast
feed never needs either, so every ``<!DOCTYPE …>`` (with its internal subset) and every stray
``<!ENTITY …>`` is cut out before anything parses the body. References to the removed entities
are then undefined: the strict parser fails and feedparser's loose parser keeps them as text,
which is the right outcome for a hostile feed.

The scan works on bytes in an ASCII-compatible encoding (UTF-8 after feedparser's conversion)
and is linear in the size of the body, whatever it contains.
"""

from __future__ import annotations

import re

__all__ = ["MAX_DECLARATION_TOKENS", "strip_doctype"]

#: A declaration with more brackets and quotes than this is not a podcast feed's; everything
#: after its start is dropped.
MAX_DECLARATION_TOKENS = 100_000

_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SIGNIFICANT = re.compile(rb"[\"'\[\]>]|<!--")


def strip_doctype(data: bytes) -> tuple[bytes, int]:
    """``data`` without DOCTYPE and ENTITY declarations, and how many were removed."""
    pieces: list[bytes] = []
    pos = removed = 0
    while (match := _DECLARATION.search(data, pos)) is not None:
        pieces.append(data[pos:match.start()])
        pos = _declaration_end(data, match.end())
        removed += 1
    pieces.append(data[pos:])
    return b"".join(pieces), removed


def _declaration_end(data: bytes, pos: int) -> int:
    """The index just after the ``>`` that closes a declaration starting before ``pos``.

    Quoted strings, comments and a bracketed internal subset may all contain ``>``; an
    unterminated declaration runs to the end of the body.
    """
    depth = 0
    for _ in range(MAX_DECLARATION_TOKENS):
        match = _SIGNIFICANT.search(data, pos)
        if match is None:
            return len(data)
        token, pos = match.group(), match.end()
        if token in (b'"', b"'"):
            close = data.find(token, pos)
            pos = len(data) if close < 0 else close + 1
        elif token == b"<!--":
            close = data.find(b"-->", pos)
            pos = len(data) if close < 0 else close + 3
        elif token == b"[":
            depth += 1
        elif token == b"]":
            depth = max(0, depth - 1)
        elif depth == 0:  # ">"
            return pos
    return len(data)
