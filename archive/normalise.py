"""Text normalisation for matching Swedish words: folding, word lists and URL slugs.

Swedish keeps å, ä and ö as letters of their own (``får`` and ``far`` are different words), so
:func:`~poddarkiv.archive.analysis.fold` (the archive's one fold, re-exported here) removes only
the *other* accents (``idéburen`` → ``ideburen``). :func:`slugify` goes further and writes them as
``a``/``a``/``o`` for ASCII URLs.

HTML to text is :mod:`poddarkiv.archive.markup`'s (``plain_text`` is re-exported here for the
callers that still import it from this module).
"""

from __future__ import annotations

import re

from poddarkiv.archive.analysis import fold
from poddarkiv.archive.markup import plain_text

__all__ = ["fold", "plain_text", "slugify", "words"]

_WORD = re.compile(r"\w+")
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def words(text: str) -> list[str]:
    """The folded, lower-case words of ``text``; punctuation, hyphens and colons split words.

    >>> words("IOP-avtalet och EU:s regler")
    ['iop', 'avtalet', 'och', 'eu', 's', 'regler']
    """
    return [w for w in _WORD.findall(fold(text)) if w != "_"]


def slugify(text: str) -> str:
    """An ASCII URL slug.

    >>> slugify("Förvaltningsrätten i Göteborg")
    'forvaltningsratten-i-goteborg'
    """
    ascii_text = fold(text).translate(str.maketrans("åäö", "aao"))
    return _NON_SLUG.sub("-", ascii_text).strip("-")
