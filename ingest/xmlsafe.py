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

One more shape stalls the parser without any declaration: an element with tens of thousands of
attributes. feedparser's strict parser looks each attribute up by a linear search
(``xml.sax``'s ``getValueByQName``), so 50,000 attributes take a minute and a 15 MiB feed of
such elements hours; :func:`cap_attributes` cuts every element to :data:`MAX_ATTRIBUTES`.
"""

from __future__ import annotations

import contextlib
import re
from xml.parsers import expat

__all__ = ["MAX_ATTRIBUTES", "MAX_DECLARATION_TOKENS", "cap_attributes", "replace_bad_char_refs",
           "strip_doctype"]

#: Far more attributes than any element of a podcast feed has (an enclosure has three).
MAX_ATTRIBUTES = 64

#: A declaration with more brackets and quotes than this is not a podcast feed's; everything
#: after its start is dropped.
MAX_DECLARATION_TOKENS = 100_000

_OUTER = re.compile(rb"<!\[CDATA\[|<!--|<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_SIGNIFICANT = re.compile(rb"[\"'\[\]>]|<!--")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]{1,16})|([0-9]{1,20}));")
_REPLACEMENT_REF = b"&#xFFFD;"
_TAG_NAME = re.compile(rb"<[^\s/>]+")
_ATTRIBUTE = re.compile(rb"""\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*')""")


def strip_doctype(data: bytes) -> tuple[bytes, int]:
    """``data`` without DOCTYPE and ENTITY declarations, and how many were removed.

    Text inside CDATA sections and comments is left alone: ``<![CDATA[<!DOCTYPE html>]]>`` in
    a description is content, not a declaration.
    """
    pieces: list[bytes] = []
    pos = removed = 0
    while (match := _OUTER.search(data, pos)) is not None:
        token = match.group()
        if token.startswith((b"<![", b"<!-")):
            closer = b"]]>" if token.startswith(b"<![") else b"-->"
            end = data.find(closer, match.end())
            pieces.append(data[pos:len(data) if end < 0 else end + 3])
            pos = len(data) if end < 0 else end + 3
            continue
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


def _allowed_char(code: int) -> bool:
    # XML 1.0 §2.2 Char: tab, newline, carriage return, and U+0020 upwards without the
    # surrogate block and U+FFFE/U+FFFF, up to U+10FFFF.
    return code in (0x9, 0xA, 0xD) or (
        0x20 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF and code not in (0xFFFE, 0xFFFF))


def _replace_ref(match: re.Match[bytes]) -> bytes:
    code = int(match.group(1), 16) if match.group(1) else int(match.group(2))
    return match.group() if _allowed_char(code) else _REPLACEMENT_REF


def replace_bad_char_refs(data: bytes) -> tuple[bytes, int]:
    """Character references to characters XML forbids (``&#xD800;``, ``&#x110000;``, ``&#0;``)
    replaced by ``&#xFFFD;``, and how many there were.

    feedparser's loose parser turns ``&#xD800;`` into a lone surrogate and then crashes encoding
    it; the replacement character says honestly that something was there.
    """
    count = 0

    def replace(match: re.Match[bytes]) -> bytes:
        nonlocal count
        out = _replace_ref(match)
        count += out is _REPLACEMENT_REF
        return out

    return _CHAR_REF.sub(replace, data), count


def _crowded_tags(data: bytes) -> list[int]:
    """Where the start tags with more than :data:`MAX_ATTRIBUTES` attributes begin, in the
    well-formed part of ``data`` (expat, in C, stops at the first error, as the strict parser
    does; feedparser's loose parser, which takes over there, is not slowed by attributes)."""
    parser = expat.ParserCreate()
    parser.ordered_attributes = True  # a flat [name, value, …] list: no dict to build
    found: list[int] = []

    def start(_name: str, attributes: list[str]) -> None:
        if len(attributes) > 2 * MAX_ATTRIBUTES:
            found.append(parser.CurrentByteIndex)

    parser.StartElementHandler = start
    with contextlib.suppress(expat.ExpatError):  # the rest goes to the loose parser
        parser.Parse(data, True)
    return found


def cap_attributes(data: bytes) -> tuple[bytes, int]:
    """``data`` with every element cut to its first :data:`MAX_ATTRIBUTES` attributes, and
    how many elements were cut."""
    crowded = _crowded_tags(data)
    pieces: list[bytes] = []
    pos = 0
    for start in crowded:
        name = _TAG_NAME.match(data, start)
        if name is None:  # not where expat said: leave the body as it is
            return data, 0
        end, kept = name.end(), name.end()
        count = 0
        while (attribute := _ATTRIBUTE.match(data, end)) is not None:
            end, count = attribute.end(), count + 1
            kept = end if count <= MAX_ATTRIBUTES else kept
        pieces += [data[pos:kept]]
        pos = end
    pieces.append(data[pos:])
    return b"".join(pieces), len(crowded)
