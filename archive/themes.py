"""Themes: a taxonomy users can edit (TOML), and scoring episodes and passages against it.

The shipped taxonomy (``archive/data/themes.toml``) describes the field poddarkiv is about: IOP,
procurement, state aid and their neighbours. Its header comment explains the term syntax. Each
theme has a Swedish and an English name and description, a slug for URLs, and weighted terms.

A passage (one transcript segment) is given every theme whose terms score at least
``min_segment_score`` in it; an episode is given every theme whose score over all its passages,
title and description reaches ``min_episode_score``. Scores are weighted hit counts, so "how much
an episode discusses a theme" is just its score, and episodes of a theme rank by it.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from poddarkiv.archive.confidence import is_confident
from poddarkiv.archive.models import Episode, EpisodeThemes, Transcript
from poddarkiv.archive.normalise import fold
from poddarkiv.errors import ConfigError

__all__ = [
    "EpisodeThemes",
    "Taxonomy",
    "Term",
    "Theme",
    "ThemeScores",
    "compile_term",
    "default_taxonomy_path",
    "load_taxonomy",
    "parse_taxonomy",
    "score_text",
    "score_themes",
    "taxonomy_hash",
]

SCORE_DIGITS = 2
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Words of a phrase may be separated by spaces, hyphens or commas, but not by a sentence's end.
_PHRASE_GAP = r"[^\w.!?]+"


@dataclass(frozen=True, slots=True)
class Term:
    """One weighted term of a theme, compiled from the taxonomy's syntax."""

    pattern: str
    weight: float
    regex: re.Pattern[str] = field(compare=False, repr=False)
    cased: bool = False

    def count(self, lower: str, cased: str) -> int:
        """How often the term occurs; ``lower``/``cased`` are the folded text in both cases."""
        return len(self.regex.findall(cased if self.cased else lower))


@dataclass(frozen=True, slots=True)
class Theme:
    """A theme of the taxonomy: names and descriptions in Swedish and English, and its terms."""

    slug: str
    name: str
    description: str
    terms: tuple[Term, ...]
    name_en: str = ""
    description_en: str = ""
    min_score: float | None = None


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """The themes and the thresholds that decide when a passage or an episode has one."""

    themes: tuple[Theme, ...]
    min_episode_score: float = 3.0
    min_segment_score: float = 1.0
    title_weight: float = 2.0
    description_weight: float = 1.0
    #: Where it was read from, and the TOML itself (so the catalogue can keep what it applied).
    source: str = ""
    text: str = field(default="", compare=False, repr=False)

    def theme(self, slug: str) -> Theme | None:
        """The theme with this slug, or ``None``."""
        return next((t for t in self.themes if t.slug == slug), None)


@dataclass(frozen=True, slots=True)
class ThemeScores:
    """One episode's themes with every score: episode themes and passage themes, best first."""

    episode_id: str
    episode: tuple[tuple[str, float], ...]
    segments: Mapping[int, tuple[tuple[str, float], ...]]

    def episode_themes(self) -> EpisodeThemes:
        """The index's view (:class:`~poddarkiv.archive.models.EpisodeThemes`)."""
        return EpisodeThemes(
            episode=self.episode,
            segments={i: tuple(slug for slug, _ in pairs) for i, pairs in self.segments.items()},
        )


# -- loading --------------------------------------------------------------------------------


def default_taxonomy_path() -> Path:
    """The shipped taxonomy file."""
    return Path(str(resources.files("poddarkiv.archive") / "data" / "themes.toml"))


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read a taxonomy file (the shipped one when ``path`` is ``None``); ConfigError if invalid."""
    path = default_taxonomy_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read taxonomy {path}: {exc}") from exc
    return parse_taxonomy(text, source=str(path))


def parse_taxonomy(text: str, *, source: str = "<string>") -> Taxonomy:
    """Parse taxonomy TOML; every mistake raises ConfigError naming the file and the theme."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    raw_themes = data.get("theme")
    if not isinstance(raw_themes, list) or not raw_themes:
        raise ConfigError(f"{source}: no [[theme]] tables")
    themes = tuple(_theme(raw, f"{source}: theme {i + 1}") for i, raw in enumerate(raw_themes))
    slugs = [t.slug for t in themes]
    if len(set(slugs)) != len(slugs):
        raise ConfigError(f"{source}: duplicate theme slugs in {slugs}")
    return Taxonomy(
        themes=themes,
        min_episode_score=_number(data, "min_episode_score", 3.0, source),
        min_segment_score=_number(data, "min_segment_score", 1.0, source),
        title_weight=_number(data, "title_weight", 2.0, source),
        description_weight=_number(data, "description_weight", 1.0, source),
        source=source,
        text=text,
    )


def _number(data: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: {key} must be a number ≥ 0, not {value!r}")
    return float(value)


def _text(raw: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ConfigError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _theme(raw: Any, where: str) -> Theme:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: not a table")
    slug = _text(raw, "slug", where)
    where = f"{where} ({slug})"
    if not _SLUG.match(slug):
        raise ConfigError(f"{where}: slug must be lower-case letters, digits and hyphens")
    terms = raw.get("terms")
    if not isinstance(terms, dict) or not terms:
        raise ConfigError(f"{where}: [theme.terms] must list at least one term")
    min_score = raw.get("min_score")
    return Theme(
        slug=slug,
        name=_text(raw, "name", where),
        description=_text(raw, "description", where),
        name_en=_text(raw, "name_en", where, required=False),
        description_en=_text(raw, "description_en", where, required=False),
        terms=tuple(compile_term(p, w, where=where) for p, w in terms.items()),
        min_score=None if min_score is None else _number(raw, "min_score", 0.0, where),
    )


def compile_term(pattern: str, weight: Any, *, where: str = "") -> Term:
    """Compile one term of the taxonomy syntax (see the shipped file's header)."""
    if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
        raise ConfigError(f"{where}: weight of {pattern!r} must be a number > 0")
    if pattern.startswith("re:"):
        try:
            return Term(pattern, float(weight), re.compile(pattern[3:]))
        except re.error as exc:
            raise ConfigError(f"{where}: bad regular expression {pattern!r}: {exc}") from exc
    parts = pattern.split()
    if not parts or any(not p.strip("*") or "*" in p.strip("*") for p in parts):
        raise ConfigError(f"{where}: {pattern!r}: use words, with * only at their start or end")
    cased = all(p.strip("*").isupper() for p in parts)
    body = _PHRASE_GAP.join(_word_regex(fold(p, lower=not cased)) for p in parts)
    return Term(pattern, float(weight), re.compile(rf"(?<!\w){body}(?!\w)"), cased)


def _word_regex(part: str) -> str:
    core = re.escape(part.strip("*"))
    head = r"\w*" if part.startswith("*") else ""
    tail = r"\w*" if part.endswith("*") else ""
    return f"{head}{core}{tail}"


def taxonomy_hash(taxonomy: Taxonomy) -> str:
    """A SHA-256 of everything that decides assignment and display (not the file's layout)."""
    canonical = {
        "thresholds": [taxonomy.min_episode_score, taxonomy.min_segment_score,
                       taxonomy.title_weight, taxonomy.description_weight],
        "themes": [[t.slug, t.name, t.description, t.name_en, t.description_en, t.min_score,
                    [[term.pattern, term.weight] for term in t.terms]] for t in taxonomy.themes],
    }
    blob = json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()


# -- scoring --------------------------------------------------------------------------------


def score_text(taxonomy: Taxonomy, text: str) -> dict[str, float]:
    """Each theme's weighted hit count in ``text`` (themes that score 0 are left out)."""
    lower, cased = fold(text), fold(text, lower=False)
    scores: dict[str, float] = {}
    for theme in taxonomy.themes:
        score = sum(term.weight * term.count(lower, cased) for term in theme.terms)
        if score > 0:
            scores[theme.slug] = score
    return scores


def _best_first(scores: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted(((s, round(v, SCORE_DIGITS)) for s, v in scores.items()),
                        key=lambda pair: (-pair[1], pair[0])))


def score_themes(taxonomy: Taxonomy, episode: Episode,
                 transcript: Transcript | None) -> ThemeScores:
    """Score every theme on every passage and on the whole episode; keep those that qualify.

    Passages the recogniser was unsure of (:func:`poddarkiv.archive.confidence.is_confident`)
    are left out: a theme should not rest on misheard words.
    """
    totals: dict[str, float] = {}
    passages: dict[int, tuple[tuple[str, float], ...]] = {}
    segments = transcript.segments if transcript is not None else ()
    for index, segment in enumerate(segments):
        if not is_confident(segment):
            continue
        scores = score_text(taxonomy, segment.text)
        for slug, value in scores.items():
            totals[slug] = totals.get(slug, 0.0) + value
        kept = {s: v for s, v in scores.items() if v >= taxonomy.min_segment_score}
        if kept:
            passages[index] = _best_first(kept)
    description = " ".join(episode.description.split())  # plain text since ingest
    for text, weight in ((episode.title, taxonomy.title_weight),
                         (description, taxonomy.description_weight)):
        for slug, value in score_text(taxonomy, text).items():
            totals[slug] = totals.get(slug, 0.0) + weight * value
    kept_episode = {slug: value for slug, value in totals.items()
                    if value >= _threshold(taxonomy, slug)}
    return ThemeScores(episode.id, _best_first(kept_episode), passages)


def _threshold(taxonomy: Taxonomy, slug: str) -> float:
    theme = taxonomy.theme(slug)
    if theme is not None and theme.min_score is not None:
        return theme.min_score
    return taxonomy.min_episode_score
