"""Synonyms and acronyms from a file users can edit (``data/synonyms.txt``).

One group a line, alternatives separated by ``|``; ``#`` starts a comment::

    iop | idéburet offentligt partnerskap

Alternatives are compared by their stems, so inflection and accents do not matter. Expansion
happens at query time: editing the file needs no reindex.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from poddarkiv.archive.analysis import stem, tokenize
from poddarkiv.errors import IndexError_

__all__ = ["SYNONYMS_FILE", "Synonyms", "load_synonyms"]

SYNONYMS_FILE = "synonyms.txt"
#: Lines, and words in one alternative, beyond these are ignored (a guard against huge files).
MAX_GROUPS = 10_000
MAX_WORDS = 8

Stems = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Synonyms:
    """Groups of equivalent expressions, each alternative as a tuple of stems."""

    groups: tuple[tuple[Stems, ...], ...] = ()
    _by_stems: Mapping[Stems, int] = field(default_factory=lambda: MappingProxyType({}))
    #: The most words in any alternative (asked by every query compiled).
    _longest: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_longest", max((len(a) for g in self.groups for a in g),
                                                 default=0))

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        """Read the file format; blank lines, comments and one-alternative lines are skipped."""
        groups: list[tuple[Stems, ...]] = []
        by_stems: dict[Stems, int] = {}
        for line in text.splitlines()[:MAX_GROUPS]:
            line = line.split("#", 1)[0]
            alts = [tuple(stem(w) for w, _, _ in tokenize(a))[:MAX_WORDS] for a in line.split("|")]
            alts = list(dict.fromkeys(a for a in alts if a))
            if len(alts) < 2:
                continue
            for alt in alts:
                by_stems.setdefault(alt, len(groups))
            groups.append(tuple(alts))
        return cls(tuple(groups), MappingProxyType(by_stems))

    @property
    def longest(self) -> int:
        """The most words in any alternative."""
        return self._longest

    def expand(self, stems: Stems) -> tuple[Stems, ...]:
        """Every alternative of the group ``stems`` belongs to (itself first), or ``()``."""
        i = self._by_stems.get(stems)
        if i is None:
            return ()
        return (stems, *(a for a in self.groups[i] if a != stems))


def load_synonyms(path: Path | None = None) -> Synonyms:
    """Synonyms from ``path``, or the shipped file when ``path`` is ``None``."""
    try:
        if path is None:
            text = resources.files("poddarkiv.archive").joinpath("data", SYNONYMS_FILE).read_text(
                "utf-8")
        else:
            text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexError_(f"cannot read synonyms from {path or SYNONYMS_FILE}: {exc}") from exc
    return Synonyms.parse(text)
