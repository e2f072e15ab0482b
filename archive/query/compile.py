"""Turn a :class:`~poddarkiv.archive.query.parse.ParsedQuery` into a tree of stems to match.

The tree (:mod:`~poddarkiv.archive.query.nodes`) knows no fields and no index library:
:mod:`~poddarkiv.archive.index.matching` matches it against the segment text and the episode's
title, description and podcast title. What the compiler needs to know of the index it asks a
:class:`~poddarkiv.archive.query.nodes.Lexicon`.

Each word matches its stem, the stems of its likely inflections and derivations that the index
holds (``regel`` → ``regler``, ``upphandling`` → ``upphandlande``), its compound parts together
(``upphandlingsregler`` → ``upphandling`` and ``regler``), and synonyms from ``synonyms.txt``. A
prefix expands to at most :data:`MAX_PREFIX_TERMS` indexed stems; with ``fuzzy``, rare words also
match words one or two edits away (a typo in any letter). Stop words are dropped from word lists
but kept in phrases; a query of stop words only is searched as a phrase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from poddarkiv.archive.analysis import STOP_WORDS, analyze_word, stem
from poddarkiv.archive.compounds import CompoundSplitter, linked, unlinked
from poddarkiv.archive.families import derived_stems, inflection_stems
from poddarkiv.archive.query.fuzzy import near_inflected, near_words
from poddarkiv.archive.query.nodes import (
    AllOf,
    AnyOf,
    CompiledQuery,
    Lexicon,
    Node,
    Phrase,
    Term,
)
from poddarkiv.archive.query.numbers import (
    cardinal_words,
    digit_groups,
    is_digits,
    number_value,
)
from poddarkiv.archive.query.parse import Clause, ParsedQuery
from poddarkiv.archive.query.synonyms import Synonyms

__all__ = ["MAX_PREFIX_TERMS", "compile_query"]

#: A prefix expands to at most this many indexed stems per field.
MAX_PREFIX_TERMS = 64
#: Fuzzy matching: two edits from this word length on, else one.
FUZZY_LONG_WORD_CHARS = 8
#: A fuzzy word expands to at most this many indexed words.
MAX_FUZZY_TERMS = 16
#: Words this long that the index does not hold are split in two.
MIN_HEAD_CHARS = 6
#: The shortest word accepted as the rest of a compound, or as half of a split word, and the
#: shortest stem looked for as the head of indexed compounds.
MIN_TAIL_CHARS = 3
#: After a head of only three letters, the rest must be this long (``kör`` + ``sång``).
MIN_PART_CHARS = 4
#: A match through a derived form (``upphandlande`` for ``upphandling``) counts this much of
#: an exact one, and one through a near spelling this much.
DERIVED_WEIGHT = 0.7
FUZZY_WEIGHT = 0.5


class _Builder:
    def __init__(self, lexicon: Lexicon, splitter: CompoundSplitter, synonyms: Synonyms,
                 fuzzy: frozenset[str]) -> None:
        self.lexicon = lexicon
        self.splitter = splitter
        self.synonyms = synonyms
        self.fuzzy = fuzzy
        self.stems: set[str] = set()
        self.prefixes: list[str] = []
        self.words: list[tuple[str, str]] = []

    def stems_node(self, stems: Sequence[str]) -> Node:
        self.stems.update(stems)
        return Term(stems[0]) if len(stems) == 1 else Phrase(tuple(stems))

    def word(self, word: str, *, apart: bool = False) -> list[Node]:
        """:meth:`_word`, remembered per index state: a word searched before (in any query)
        compiles with a dictionary look-up (a one-word query's compiling 32 → 13 µs at the
        median at 1,000 hours, where finding the variants, compounds and spellings of the
        word again was an eighth of the search)."""
        info = analyze_word(word, splitter=self.splitter)
        key = ("word", info.word, apart, info.word in self.fuzzy, id(self.splitter),
               self.splitter.version)

        def make() -> tuple[tuple[Node, ...], frozenset[str], tuple[tuple[str, str], ...]]:
            alone = _Builder(self.lexicon, self.splitter, self.synonyms, self.fuzzy)
            nodes = alone._word(word, apart=apart)
            return tuple(nodes), frozenset(alone.stems), tuple(alone.words)

        nodes, stems, words = self.lexicon.memo(key, make)
        self.stems |= stems
        self.words += words
        return list(nodes)

    def _word(self, word: str, *, apart: bool = False) -> list[Node]:
        """The word's alternatives, as one node.

        With ``apart``, a word that no transcript says in any form but that is two indexed words
        joined gives one node per word, matched as if typed apart: a listener's compound
        (``kapiteringsersättning``, ``sjukhustak``) is what the speaker said in a sentence or
        two (``ersättningen … en kapitering``, ``sjukhus … fyrtio tak``).
        """
        info = analyze_word(word, splitter=self.splitter)
        self.words.append((info.word, info.stem))
        alts: list[Node] = [self.stems_node([info.stem])]
        if is_digits(info.word):
            return [_any(alts + self.number(int(info.word), info.word))]
        alts += self.number(number_value(info.word), info.word)
        alts += self.variants(info.word, {info.stem})
        compounds = self.compounds_with_head(info.stem) + self.compounds_with_tail(info.stem) \
            if len(info.stem) >= MIN_TAIL_CHARS else []
        said = len(alts) > 1 or bool(compounds) or self.lexicon.indexed(info.stem)
        if info.parts:
            self.stems.update(info.parts)
            alts.append(AllOf(tuple(_any([Term(p), *self.variants(p, {p}, derived=False)])
                                    for p in info.parts)))
        alts += compounds
        halves = self.split_in_two(info.word) if not said else ()
        if halves and apart and info.word not in self.fuzzy and not self.misspelt(info.word):
            return [self.stems_node([h]) for h in halves]
        if halves:
            alts.append(self.stems_node(list(halves)))
        if info.word in self.fuzzy:
            alts += self.near(info.word)
        return [_any(alts)]

    def variants(self, word: str, known: set[str], *, derived: bool = True) -> list[Node]:
        """Indexed stems of the word's inflections (and derivations, which weigh less)."""
        out: list[Node] = []
        for variant in sorted(inflection_stems(word) - known):
            if self.lexicon.indexed(variant):
                self.stems.add(variant)
                out.append(Term(variant))
        for variant in sorted(derived_stems(word) - known) if derived else ():
            if self.lexicon.indexed(variant):
                self.stems.add(variant)
                out.append(Term(variant, DERIVED_WEIGHT))
        return out

    def number(self, value: int | None, word: str) -> list[Node]:
        """The number's other indexed spellings: digits (``300 000`` as two words) for a spelled
        number, and the spelled words for digits (``2014`` → ``tjugohundrafjorton``)."""
        if value is None:
            return []
        out: list[Node] = []
        for digits in sorted({(str(value),), digit_groups(value)} - {(word,)}):
            if all(self.lexicon.indexed(d) for d in digits):
                out.append(self.stems_node(list(digits)))
        for spelled in cardinal_words(value):
            term = stem(spelled)
            if spelled != word and spelled not in STOP_WORDS and self.lexicon.indexed(term):
                self.stems.add(term)
                out.append(Term(term))
        return out

    def compounds_with_head(self, head: str) -> list[Node]:
        """Indexed compounds that start with the word: ``uppsägning`` → ``uppsägningstid``,
        ``kör`` → ``körsång``.

        The index splits compounds only into parts of four letters or more, and short known
        compounds only where the later part is longer (``konstgräset`` stays whole), so a
        compound with a short part is found through its head here instead: the rest of the
        indexed word, with or without a linking s, must be a known word, of four letters or more
        after a head of three (``körsbär`` is not ``kör`` + ``s`` + ``bär``).
        """
        min_rest = MIN_TAIL_CHARS if len(head) > MIN_TAIL_CHARS else MIN_PART_CHARS
        return self._compounds(self.lexicon.expand_prefix(head, MAX_PREFIX_TERMS),
                               lambda term: linked(term[len(head):]), min_rest)

    def compounds_with_tail(self, tail: str) -> list[Node]:
        """Indexed compounds that end with the word: ``gräs`` → ``konstgräset``, ``tid`` →
        ``uppsägningstiden``.

        The index keeps known compounds whole (``konstgräs``) and splits off no part shorter
        than four letters (``tid``), so a word that such a compound ends with is found here:
        what comes before it, with or without a linking s, must be a known word of three
        letters or more (four before a three-letter word), never a particle or a stop word
        (``upphandling`` is not a kind of ``handling``, nor ``avtal`` of ``tal``).
        """
        min_front = MIN_PART_CHARS if len(tail) == MIN_TAIL_CHARS else MIN_TAIL_CHARS
        return self._compounds(self.lexicon.expand_suffix(tail, MAX_PREFIX_TERMS),
                               lambda term: unlinked(term[:-len(tail)]), min_front)

    def _compounds(self, terms: list[str], others: Callable[[str], tuple[str, ...]],
                   min_chars: int) -> list[Node]:
        """The indexed ``terms`` whose other part (``others``: as it is and without a linking
        s) is a known word of ``min_chars`` letters or more, as derived matches."""
        out: list[Node] = []
        for term in terms:
            if any(len(o) >= min_chars and self.splitter.knows(o, MIN_TAIL_CHARS)
                   for o in others(term)):
                self.stems.add(term)
                out.append(Term(term, DERIVED_WEIGHT))
        return out

    def split_in_two(self, word: str) -> tuple[str, ...]:
        """The stems of a word the index does not know, as two words it does: ``välskött`` →
        ``väl skött`` (speech recognition and people disagree on where Swedish words join)."""
        best: tuple[str, str] | None = None
        if len(word) < MIN_HEAD_CHARS:
            return ()
        for i in range(MIN_TAIL_CHARS, len(word) - MIN_TAIL_CHARS + 1):
            a, b = stem(word[:i]), stem(word[i:])
            if a in STOP_WORDS or b in STOP_WORDS:
                continue
            if self.lexicon.indexed(a) and self.lexicon.indexed(b) and \
                    (best is None or min(len(a), len(b)) > min(map(len, best))):
                best = (a, b)
        return best or ()

    def misspelt(self, word: str) -> bool:
        """Whether a word no transcript says is within the fuzzy pass's reach of one that a
        transcript does say: then it is more likely a typo (``kammarätten``) than a compound
        said apart, and is left to the fuzzy pass rather than split."""
        return bool(near_words(self.lexicon.vocabulary(), word, _fuzzy_edits(word)))

    def near(self, word: str) -> list[Node]:
        """Stems of indexed words a few edits from ``word`` (first letters included)."""
        dist = _fuzzy_edits(word)
        near = [w for _, w in near_words(self.lexicon.vocabulary(), word, dist)]
        if len(word) >= FUZZY_LONG_WORD_CHARS:
            # A typo and an ending together (kolektivavtal → kollektivavtalet).
            near = near[:MAX_FUZZY_TERMS] + near_inflected(self.lexicon.vocabulary(), word,
                                                           dist, stem)
        stems = {stem(w) for w in near[:2 * MAX_FUZZY_TERMS]} - {stem(word)}
        self.stems.update(stems)
        return [Term(s, FUZZY_WEIGHT) for s in sorted(stems)]

    def prefix(self, prefix: str) -> Node:
        self.prefixes.append(prefix)
        return _any([Term(s) for s in self.lexicon.expand_prefix(prefix, MAX_PREFIX_TERMS)])

    def clause(self, clause: Clause, *, apart: bool = False) -> list[Node]:
        """The clause's node (``apart``: see :meth:`word`)."""
        if clause.kind == "prefix":
            return [self.prefix(clause.words[0])]
        stems = tuple(stem(w) for w in clause.words)
        alts = self.synonyms.expand(stems)
        if alts:
            return [_any([self.stems_node(list(alt)) for alt in alts])]
        if clause.kind == "phrase":
            return [self.stems_node(list(stems))]
        return self.word(clause.words[0], apart=apart)

    def group(self, clauses: Sequence[Clause]) -> list[Node]:
        """One node for a group of alternatives; a lone word may become two (see :meth:`word`)."""
        if len(clauses) == 1:
            return self.clause(clauses[0], apart=True)
        return [_any([n for c in clauses for n in self.clause(c)])]


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

    def is_stop(c: Clause) -> bool:
        return c.kind == "word" and c.words[0] in STOP_WORDS

    kept = [g for g in groups if not all(is_stop(c) for c in g)]
    if kept:
        return kept
    words = tuple(c.words[0] for g in groups for c in g)
    if len(words) > 1:
        return [[Clause("phrase", words)]]
    return groups


def compile_query(parsed: ParsedQuery, lexicon: Lexicon, *, splitter: CompoundSplitter,
                  synonyms: Synonyms, fuzzy: Iterable[str] = ()) -> CompiledQuery:
    """The tree for ``parsed``; ``fuzzy`` names (folded) words to match approximately."""
    b = _Builder(lexicon, splitter, synonyms, frozenset(fuzzy))
    groups = _drop_stop_words(_merge_synonym_runs([list(g) for g in parsed.groups], synonyms))
    if not groups:
        return CompiledQuery((), None, frozenset(), (), ())
    nodes = tuple(n for g in groups for n in b.group(g))
    excluded = None
    if parsed.excluded:
        not_b = _Builder(lexicon, splitter, synonyms, frozenset())
        excluded = _any([n for c in parsed.excluded for n in not_b.clause(c)])
    return CompiledQuery(nodes, excluded, frozenset(b.stems), tuple(dict.fromkeys(b.prefixes)),
                         tuple(dict.fromkeys(b.words)))


def _fuzzy_edits(word: str) -> int:
    """How many edits from ``word`` a near spelling may be."""
    return 2 if len(word) >= FUZZY_LONG_WORD_CHARS else 1


def _any(nodes: list[Node]) -> Node:
    return nodes[0] if len(nodes) == 1 else AnyOf(tuple(nodes))
