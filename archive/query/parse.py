"""Our own small query language, parsed without Whoosh's parser.

What a user can write::

    upphandling partnerskap     both words (in one passage, or in the episode's title/description)
    "inte det"                  a phrase; stop words count
    iop OR lou                  either
    -statsstöd                  not this word (or -"a phrase")
    upphandl*                   words starting with this (at least MIN_PREFIX_CHARS letters)
    300 000                     one number (thousands grouped by spaces are joined)
    18:e                        an ordinal: 18 or artonde

Everything else is text: ``title:x``, ``[a TO b]``, ``?``, a bare ``*`` and parentheses are not
syntax, so Whoosh's field, range and wildcard queries (which can take minutes) cannot be asked
for. Problems become :attr:`ParsedQuery.notes` (:class:`~poddarkiv.archive.search.Note` codes that
the site and the CLI put into words), never exceptions.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from poddarkiv.archive.analysis import tokenize
from poddarkiv.archive.query.numbers import is_digits, ordinal_words, parse_ordinal
from poddarkiv.archive.search import Note

__all__ = [
    "MAX_CLAUSES",
    "MAX_QUERY_CHARS",
    "MIN_PREFIX_CHARS",
    "Clause",
    "ParsedQuery",
    "parse_query",
]

#: Longer queries are cut here (characters).
MAX_QUERY_CHARS = 200
#: At most this many words, phrases and prefixes; the rest are ignored.
MAX_CLAUSES = 12
#: At most this many words in one phrase.
MAX_PHRASE_WORDS = 10
#: Digit groups are joined into numbers of at most this many digits.
MAX_NUMBER_DIGITS = 15
#: ``pa*`` would expand to thousands of words: a prefix needs at least this many letters.
MIN_PREFIX_CHARS = 3

ClauseKind = Literal["word", "phrase", "prefix"]

_LEX = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True, slots=True)
class Clause:
    """One word, phrase or prefix: ``words`` are folded (lowercase, é → e)."""

    kind: ClauseKind
    words: tuple[str, ...]
    negated: bool = False

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True, slots=True)
class ParsedQuery:
    """A query as clauses: every group must match (one of its clauses), no excluded one may."""

    groups: tuple[tuple[Clause, ...], ...] = ()
    excluded: tuple[Clause, ...] = ()
    #: Problems with the query, as codes.
    notes: tuple[Note, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.groups

    @property
    def clauses(self) -> tuple[Clause, ...]:
        return tuple(c for group in self.groups for c in group)


def _clean(q: str) -> tuple[str, list[Note]]:
    notes: list[Note] = []
    q = unicodedata.normalize("NFC", q)
    if not q.isprintable():
        q = "".join(ch if ch.isprintable() else " " for ch in q)
    q = q.replace("\u201c", '"').replace("\u201d", '"').replace("\u201e", '"')
    if len(q) > MAX_QUERY_CHARS:
        q = q[:MAX_QUERY_CHARS]
        notes.append(Note("query_truncated", (("max_chars", MAX_QUERY_CHARS),)))
    return q.strip(), notes


def _word_clauses(raw: str, negated: bool, notes: list[Note]) -> list[Clause]:
    """Clauses from one bare token: punctuation splits it; a final ``*`` makes a prefix."""
    prefix = raw.endswith("*")
    words = [w for w, _, _ in tokenize(raw.replace("_", " "))]
    if not words:
        return []
    out = [Clause("word", (w,), negated) for w in words]
    if prefix:
        last = words[-1]
        if len(last) >= MIN_PREFIX_CHARS:
            out[-1] = Clause("prefix", (last,), negated)
        else:
            notes.append(Note("prefix_too_short",
                              (("prefix", last), ("min_chars", MIN_PREFIX_CHARS))))
    return out


def _number_clauses(raw: str, before: str, items: list[Clause | Literal["OR"]]) -> bool:
    """Add a number token's clauses to ``items``: three digits after a token of one to three
    digits (``before``) join it (``300 000`` is 300000; ``2014 500`` stays two numbers), and an
    ordinal (``18:e``) is its digits or its word (``artonde``). Returns whether ``raw`` was such
    a token."""
    last = items[-1] if items else None
    if len(raw) == 3 and is_digits(raw) and is_digits(before) and len(before) <= 3 \
            and isinstance(last, Clause) and last.kind == "word" and not last.negated \
            and is_digits(last.words[0]) and len(last.words[0]) <= MAX_NUMBER_DIGITS:
        items[-1] = Clause("word", (last.words[0] + raw,))
        return True
    n = parse_ordinal(raw)
    if n is None or not ordinal_words(n):
        return False
    # The digits as typed (a phrase of one word: no cardinal spellings, ``4:e`` is not ``fyra``).
    items.extend([Clause("phrase", (str(n),)), "OR", Clause("word", ordinal_words(n)[:1])])
    return True


def _lex(q: str, notes: list[Note]) -> list[Clause | Literal["OR"]]:
    items: list[Clause | Literal["OR"]] = []
    before = ""
    for m in _LEX.finditer(q):
        neg_phrase, phrase, bare = m.group(1), m.group(2), m.group(3)
        if bare is None:
            words = tuple(w for w, _, _ in tokenize(phrase))[:MAX_PHRASE_WORDS]
            if len(words) == 1:
                items.append(Clause("word", words, bool(neg_phrase)))
            elif words:
                items.append(Clause("phrase", words, bool(neg_phrase)))
        elif bare in ("OR", "|", "ELLER"):
            items.append("OR")
        elif _number_clauses(bare, before, items):
            pass
        else:
            negated = bare.startswith("-") and len(bare) > 1
            items.extend(_word_clauses(bare.lstrip("-+") if negated else bare.lstrip("+"),
                                       negated, notes))
        before = bare or ""
    return items


def parse_query(q: str) -> ParsedQuery:
    """Parse ``q`` leniently: never raises; problems are in ``notes``."""
    q, notes = _clean(q or "")
    groups: list[list[Clause]] = []
    excluded: list[Clause] = []
    pending_or = False
    count = 0
    for item in _lex(q, notes):
        if item == "OR":
            pending_or = bool(groups)
            continue
        if count >= MAX_CLAUSES:
            notes.append(Note("too_many_words", (("max_words", MAX_CLAUSES),)))
            break
        count += 1
        if item.negated:
            excluded.append(item)
        elif pending_or:
            groups[-1].append(item)
        else:
            groups.append([item])
        pending_or = False
    if not groups:
        if excluded:
            notes.append(Note("only_excluded"))
        elif q:
            notes.append(Note("no_words"))
    return ParsedQuery(tuple(tuple(g) for g in groups), tuple(excluded),
                       tuple(dict.fromkeys(notes)))
