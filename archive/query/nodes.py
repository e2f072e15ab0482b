"""The compiled query: a tree of stems to match, and what the compiler asks of the index.

:mod:`~poddarkiv.archive.query.compile` builds the tree; :mod:`~poddarkiv.archive.index.matching`
matches it against the segment text and the episode's title, description and podcast title.
The tree knows no fields and no index library; what the compiler needs to know of the index it
asks a :class:`Lexicon` (the index's :class:`~poddarkiv.archive.index.view.SearchView`).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

__all__ = ["AllOf", "AnyOf", "CompiledQuery", "Lexicon", "Node", "Phrase", "Term"]

T = TypeVar("T")


class Lexicon(Protocol):
    """What the compiler asks of the index."""

    def indexed(self, stem: str) -> bool:
        """Whether ``stem`` occurs in the index."""

    def expand_prefix(self, prefix: str, limit: int) -> list[str]:
        """Indexed stems that start with ``prefix``."""

    def expand_suffix(self, suffix: str, limit: int) -> list[str]:
        """Indexed stems that end with ``suffix``."""

    def vocabulary(self) -> Sequence[str]:
        """The transcripts' distinct unstemmed words."""

    def spelling_frequency(self, word: str) -> int:
        """In how many episodes ``word`` is spoken."""

    def memo(self, key: Hashable, make: Callable[[], T]) -> T:
        """``make()``, remembered as long as the index does not change."""


@dataclass(frozen=True, slots=True)
class Term:
    """One stem; ``weight`` scales its score (derived forms and near spellings count less)."""

    stem: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Phrase:
    """Stems at consecutive positions."""

    stems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AllOf:
    """Every item in the same document (a compound's parts)."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Any of the items (alternatives: variants, synonyms, prefix expansions)."""

    items: tuple[Node, ...]


Node = Term | Phrase | AllOf | AnyOf


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """What to match, and what the highlighter and the suggester need to know."""

    #: Each group must match (somewhere); empty when there is nothing to search for.
    groups: tuple[Node, ...]
    #: Passages (and episode metadata) matching this are left out.
    excluded: Node | None
    #: Stems to mark in snippets (words, compound parts, synonyms, phrase words).
    stems: frozenset[str]
    #: Folded prefixes to mark.
    prefixes: tuple[str, ...]
    #: Plain query words (folded) with their stems, for fuzzy matching and suggestions.
    words: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        return not self.groups
