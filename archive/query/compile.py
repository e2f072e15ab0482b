"""Turn a :class:`~poddarkiv.archive.query.ParsedQuery` into a Whoosh query.

Each word is looked for in the segment text and in the episode's title, description and podcast
title. A compound also matches when its parts occur together (``upphandlingsregler`` →
``upphandling`` and ``regler``), synonyms from ``synonyms.txt`` are alternatives, a prefix
expands to at most :data:`MAX_PREFIX_TERMS` indexed words, and with ``fuzzy`` rare words also
match words one or two edits away. Stop words are dropped from word lists but kept in phrases;
a query of stop words only is searched as a phrase.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from whoosh import query as wq
from whoosh.reading import IndexReader

from poddarkiv.archive.analysis import analyze_word, inflection_stems, stem
from poddarkiv.archive.compounds import CompoundSplitter
from poddarkiv.archive.query.fuzzy import near_words
from poddarkiv.archive.query.parse import Clause, ParsedQuery
from poddarkiv.archive.query.synonyms import Synonyms

__all__ = ["FIELDS", "MAX_PREFIX_TERMS", "CompiledQuery", "compile_query"]

#: Where words are looked for: segment text, then the episode document's fields.
FIELDS = ("text", "title", "description", "podcast")
TEXT_FIELDS = ("text",)
META_FIELDS = ("title", "description", "podcast")
#: A prefix expands to at most this many indexed words per field.
MAX_PREFIX_TERMS = 64
#: Fuzzy matching: two edits from this word length on, else one.
FUZZY_LONG_WORD_CHARS = 8
#: A fuzzy word expands to at most this many indexed words.
MAX_FUZZY_TERMS = 16


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """The Whoosh query, and what the highlighter and the suggester need to know."""

    query: wq.Query | None
    #: Stems to mark in snippets (words, compound parts, synonyms, phrase words).
    stems: frozenset[str]
    #: Folded prefixes to mark.
    prefixes: tuple[str, ...]
    #: Plain query words (folded) with their stems, for fuzzy matching and suggestions.
    words: tuple[tuple[str, str], ...]


class _Builder:
    def __init__(self, reader: IndexReader, splitter: CompoundSplitter, synonyms: Synonyms,
                 fuzzy: frozenset[str]) -> None:
        self.reader = reader
        self.splitter = splitter
        self.synonyms = synonyms
        self.fuzzy = fuzzy
        self.fields: tuple[str, ...] = TEXT_FIELDS
        self.stems: set[str] = set()
        self.prefixes: list[str] = []
        self.words: list[tuple[str, str]] = []

    def any_field(self, stems: Sequence[str]) -> wq.Query:
        self.stems.update(stems)
        if len(stems) == 1:
            return _or([wq.Term(f, stems[0]) for f in self.fields])
        return _or([wq.Phrase(f, list(stems)) for f in self.fields])

    def word(self, word: str) -> wq.Query:
        info = analyze_word(word, splitter=self.splitter)
        if self.fields == TEXT_FIELDS:
            self.words.append((info.word, info.stem))
        alts = [self.any_field([info.stem])]
        for variant in sorted(inflection_stems(info.word) - {info.stem}):
            if self.indexed(variant):
                alts.append(self.any_field([variant]))
        if info.parts:
            self.stems.update(info.parts)
            alts += [wq.And([wq.Term(f, p) for p in info.parts]) for f in self.fields]
        if info.word in self.fuzzy and self.fields == TEXT_FIELDS:
            alts += self.near(info.word)
        return wq.Or(alts) if len(alts) > 1 else alts[0]

    def indexed(self, stem: str) -> bool:
        return any(self.reader.doc_frequency(f, stem) for f in self.fields)

    def near(self, word: str) -> list[wq.Query]:
        """Terms for indexed words a few edits from ``word``.

        They are looked up among the unstemmed spelling words (``FuzzyTerm`` would compare the
        word with stems and find little) and stemmed here.
        """
        dist = 2 if len(word) >= FUZZY_LONG_WORD_CHARS else 1
        near = near_words(self.reader, word, dist)[:MAX_FUZZY_TERMS]
        stems = {stem(w) for _, w in near} - {stem(word)}
        self.stems.update(stems)
        return [wq.Term("text", s) for s in sorted(stems)]

    def prefix(self, prefix: str) -> wq.Query:
        self.prefixes.append(prefix)
        terms: list[wq.Query] = []
        for f in self.fields:
            for i, btext in enumerate(self.reader.expand_prefix(f, prefix)):
                if i >= MAX_PREFIX_TERMS:
                    break
                terms.append(wq.Term(f, btext.decode("utf-8")))
        return wq.Or(terms) if terms else wq.NullQuery

    def synonym_group(self, alternatives: Iterable[tuple[str, ...]]) -> wq.Query:
        return wq.Or([self.any_field(list(alt)) for alt in alternatives])

    def clause(self, clause: Clause) -> wq.Query:
        if clause.kind == "prefix":
            return self.prefix(clause.words[0])
        stems = tuple(stem(w) for w in clause.words)
        alts = self.synonyms.expand(stems)
        if alts:
            return self.synonym_group(alts)
        if clause.kind == "phrase":
            return self.any_field(list(stems))
        return self.word(clause.words[0])


def _merge_synonym_runs(groups: list[list[Clause]], synonyms: Synonyms) -> list[list[Clause]]:
    """Join consecutive single words that spell a multi-word synonym into one phrase clause."""
    longest = synonyms.longest
    out: list[list[Clause]] = []
    i = 0
    while i < len(groups):
        for n in range(min(longest, len(groups) - i), 1, -1):
            run = groups[i:i + n]
            if all(len(g) == 1 and g[0].kind == "word" for g in run):
                words = tuple(g[0].words[0] for g in run)
                if synonyms.expand(tuple(stem(w) for w in words)):
                    out.append([Clause("phrase", words)])
                    i += n
                    break
        else:
            out.append(groups[i])
            i += 1
    return out


def _drop_stop_words(groups: list[list[Clause]]) -> list[list[Clause]]:
    """Stop words are dropped from word lists; a query of stop words only becomes a phrase."""
    from poddarkiv.archive.analysis import STOP_WORDS

    def is_stop(c: Clause) -> bool:
        return c.kind == "word" and c.words[0] in STOP_WORDS

    kept = [g for g in groups if not all(is_stop(c) for c in g)]
    if kept:
        return kept
    words = tuple(c.words[0] for g in groups for c in g)
    if len(words) > 1:
        return [[Clause("phrase", words)]]
    return groups


def compile_query(parsed: ParsedQuery, reader: IndexReader, *, splitter: CompoundSplitter,
                  synonyms: Synonyms, fuzzy: Iterable[str] = ()) -> CompiledQuery:
    """The Whoosh query for ``parsed``; ``fuzzy`` names (folded) words to match approximately."""
    b = _Builder(reader, splitter, synonyms, frozenset(fuzzy))
    groups = _drop_stop_words(_merge_synonym_runs([list(g) for g in parsed.groups], synonyms))
    if not groups:
        return CompiledQuery(None, frozenset(), (), ())
    # Segments and episode documents are matched by separate conjunctions: one Or over four
    # fields per word made every intersection step walk four posting lists (cProfile: most of
    # a two-word search went to skip_to).
    per_kind = []
    for fields in (TEXT_FIELDS, META_FIELDS):
        b.fields = fields
        musts = [_or([b.clause(c) for c in g]) for g in groups]
        per_kind.append(wq.And(musts) if len(musts) > 1 else musts[0])
    query: wq.Query = wq.Or(per_kind)
    if parsed.excluded:
        not_b = _Builder(reader, splitter, synonyms, frozenset())
        not_b.fields = FIELDS
        query = wq.AndNot(query, _or([not_b.clause(c) for c in parsed.excluded]))
    return CompiledQuery(query, frozenset(b.stems), tuple(dict.fromkeys(b.prefixes)),
                         tuple(b.words))


def _or(queries: list[wq.Query]) -> wq.Query:
    return queries[0] if len(queries) == 1 else wq.Or(queries)
