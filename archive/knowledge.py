"""What the archive knows about each episode, kept in the catalogue: themes, references, people,
key terms and chapters.

The tables live in the catalogue's SQLite file beside the feeds and episodes (defined in
``data/knowledge.sql``, created when the catalogue opens by :mod:`poddarkiv.archive.migrations`,
deleted with their episode by ``ON DELETE CASCADE``)::

    knowledge_meta     key/value: the applied taxonomy's hash, source and TOML
    themes             the applied taxonomy's themes (names, descriptions), in its order
    episode_themes     episode, theme → score
    passage_themes     episode, segment, theme → score, with the segment's times and text
    reference_mentions episode, reference → segment (or none: title/description), context
    person_mentions    episode, person → source (feed, description, transcript), role, times
    episode_terms      episode, term (stem) → count and the form shown (for tf-idf)
    chapters           episode → chapters, from the publisher or suggested

:func:`analyse` is pure; :func:`analyse_episode` analyses one episode and stores the result (the
ingest pipeline calls it after transcribing); :func:`apply_themes` redoes every episode with a new
taxonomy and updates the search index. The read side (pages) is :mod:`poddarkiv.archive.browse`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from poddarkiv.archive.chapters import suggest_chapters
from poddarkiv.archive.confidence import is_confident
from poddarkiv.archive.keyterms import TermCounts, count_terms
from poddarkiv.archive.models import Chapter, Episode, EpisodeThemes, Feed, Transcript
from poddarkiv.archive.people import PersonMention, credited_people, extract_people
from poddarkiv.archive.references import Mention, extract_references
from poddarkiv.archive.store import Catalogue
from poddarkiv.archive.themes import (
    Taxonomy,
    ThemeScores,
    load_taxonomy,
    parse_taxonomy,
    score_themes,
    taxonomy_hash,
)
from poddarkiv.errors import CatalogueError, ConfigError

__all__ = [
    "INDEX_BATCH",
    "EpisodeAnalysis",
    "PassageTheme",
    "ThemedIndex",
    "analyse",
    "analyse_episode",
    "applied_taxonomy_hash",
    "apply_themes",
    "save_analysis",
    "save_publisher_chapters",
    "save_taxonomy",
    "stored_episode_themes",
    "stored_taxonomy",
]

log = logging.getLogger(__name__)

_EPISODE_TABLES = ("episode_themes", "passage_themes", "reference_mentions", "person_mentions",
                   "episode_terms")
#: Episodes re-indexed per index commit by :func:`apply_themes` (their transcripts are in memory).
INDEX_BATCH = 50


class ThemedIndex(Protocol):
    """The part of :class:`poddarkiv.archive.index.ArchiveIndex` that :func:`apply_themes` uses.

    (If the index also has ``indexed_episode_ids()``, only those episodes are re-indexed.)
    """

    def index_many(
        self, items: Iterable[tuple[Feed, Episode, Transcript | None, EpisodeThemes | None]],
    ) -> int: ...


@dataclass(frozen=True, slots=True)
class PassageTheme:
    """One passage (segment) given one theme, with what the theme page shows of it."""

    segment: int
    start_s: float
    end_s: float
    theme: str
    score: float
    text: str


@dataclass(frozen=True, slots=True)
class EpisodeAnalysis:
    """Everything :func:`analyse` found in one episode."""

    episode_id: str
    themes: ThemeScores
    passages: tuple[PassageTheme, ...]
    references: tuple[Mention, ...]
    people: tuple[PersonMention, ...]
    terms: TermCounts
    chapters: tuple[Chapter, ...]


# -- the taxonomy the catalogue was analysed with -------------------------------------------


def save_taxonomy(catalogue: Catalogue, taxonomy: Taxonomy) -> None:
    """Record ``taxonomy`` as the applied one: its themes, hash, source and TOML."""
    meta = {"taxonomy_hash": taxonomy_hash(taxonomy), "taxonomy_source": taxonomy.source,
            "taxonomy_text": taxonomy.text}
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM themes")
        conn.executemany(
            "INSERT INTO themes VALUES (?, ?, ?, ?, ?, ?)",
            [(t.slug, i, t.name, t.description, t.name_en, t.description_en)
             for i, t in enumerate(taxonomy.themes)])
        conn.executemany("INSERT OR REPLACE INTO knowledge_meta VALUES (?, ?)", meta.items())


def _meta(catalogue: Catalogue, key: str) -> str | None:
    rows = catalogue.query("SELECT value FROM knowledge_meta WHERE key = ?", (key,))
    return str(rows[0][0]) if rows else None


def applied_taxonomy_hash(catalogue: Catalogue) -> str | None:
    """The :func:`~poddarkiv.archive.themes.taxonomy_hash` last applied, or ``None``."""
    return _meta(catalogue, "taxonomy_hash")


def stored_taxonomy(catalogue: Catalogue) -> Taxonomy:
    """The taxonomy last applied to this catalogue (its saved TOML), else the shipped one."""
    text = _meta(catalogue, "taxonomy_text")
    if text:
        try:
            return parse_taxonomy(text, source=_meta(catalogue, "taxonomy_source") or "catalogue")
        except ConfigError as exc:
            log.warning("the catalogue's saved taxonomy is unusable, using the shipped one: %s",
                        exc)
    return load_taxonomy()


# -- analysing and saving -------------------------------------------------------------------


def analyse(taxonomy: Taxonomy, episode: Episode, transcript: Transcript | None, *,
            known_people: Iterable[str] = ()) -> EpisodeAnalysis:
    """Themes, references, people, term counts and suggested chapters of one episode.

    Key terms and themes read only the passages the recogniser was sure of
    (:func:`poddarkiv.archive.confidence.is_confident`), so misheard words do not become them.
    """
    scores = score_themes(taxonomy, episode, transcript)
    segments = transcript.segments if transcript is not None else ()
    passages = tuple(
        PassageTheme(i, segments[i].start, segments[i].end, slug, score, segments[i].text.strip())
        for i, pairs in sorted(scores.segments.items()) for slug, score in pairs)
    confident = (s.text.strip() for s in segments if is_confident(s))
    text = " ".join((episode.title, episode.description, *confident))
    chapters = suggest_chapters(taxonomy, transcript, scores.segments) if transcript else ()
    return EpisodeAnalysis(
        episode_id=episode.id, themes=scores, passages=passages,
        references=extract_references(episode, transcript),
        people=extract_people(episode, transcript, known=known_people),
        terms=count_terms(text), chapters=chapters,
    )


def _insert_analysis(conn: sqlite3.Connection, a: EpisodeAnalysis) -> None:
    conn.executemany("INSERT INTO episode_themes VALUES (?, ?, ?)",
                     [(a.episode_id, slug, score) for slug, score in a.themes.episode])
    conn.executemany("INSERT INTO passage_themes VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(a.episode_id, p.segment, p.start_s, p.end_s, p.theme, p.score, p.text)
                      for p in a.passages])
    conn.executemany(
        "INSERT INTO reference_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(a.episode_id, m.reference.kind, m.reference.key, m.reference.label, m.reference.url,
          m.segment, m.start_s, m.end_s, m.context) for m in a.references])
    conn.executemany(
        "INSERT INTO person_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(a.episode_id, p.slug, p.name, p.source, p.role, p.group, p.href, p.img, p.segment,
          p.start_s, p.end_s, p.context) for p in a.people])
    conn.executemany("INSERT INTO episode_terms VALUES (?, ?, ?, ?)",
                     [(a.episode_id, term, a.terms.labels.get(term, term), count)
                      for term, count in a.terms.counts.items()])
    conn.executemany("INSERT INTO chapters VALUES (?, 'suggested', ?, ?, ?, ?)",
                     [(a.episode_id, i, c.start, c.title, c.url)
                      for i, c in enumerate(a.chapters)])


def save_analysis(catalogue: Catalogue, analysis: EpisodeAnalysis) -> None:
    """Replace what the catalogue knows about the episode with ``analysis`` (one transaction).

    Publisher chapters are kept; suggested ones are replaced.
    """
    try:
        with catalogue.transaction() as conn:
            for table in _EPISODE_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE episode_id = ?", (analysis.episode_id,))
            conn.execute("DELETE FROM chapters WHERE episode_id = ? AND source = 'suggested'",
                         (analysis.episode_id,))
            _insert_analysis(conn, analysis)
    except sqlite3.DatabaseError as exc:
        raise CatalogueError(f"cannot save analysis of {analysis.episode_id}: {exc}") from exc


def save_publisher_chapters(catalogue: Catalogue, episode_id: str,
                            chapters: Sequence[Chapter]) -> None:
    """Store the feed's own chapters for an episode (they win over suggested ones)."""
    with catalogue.transaction() as conn:
        conn.execute("DELETE FROM chapters WHERE episode_id = ? AND source = 'publisher'",
                     (episode_id,))
        conn.executemany("INSERT INTO chapters VALUES (?, 'publisher', ?, ?, ?, ?)",
                         [(episode_id, i, c.start, c.title, c.url)
                          for i, c in enumerate(chapters)])


def _credited_names(catalogue: Catalogue) -> list[str]:
    rows = catalogue.query(
        "SELECT DISTINCT name FROM person_mentions WHERE source != 'transcript'")
    return [str(r[0]) for r in rows]


def analyse_episode(catalogue: Catalogue, episode: Episode, transcript: Transcript | None,
                    taxonomy: Taxonomy | None = None) -> EpisodeThemes:
    """Analyse one episode with ``taxonomy`` (default: the catalogue's), store it, and return
    its themes for the search index."""
    if taxonomy is None:
        taxonomy = stored_taxonomy(catalogue)
    if applied_taxonomy_hash(catalogue) is None:
        save_taxonomy(catalogue, taxonomy)  # the first episode: the site needs theme names
    analysis = analyse(taxonomy, episode, transcript, known_people=_credited_names(catalogue))
    save_analysis(catalogue, analysis)
    return analysis.themes.episode_themes()


def stored_episode_themes(catalogue: Catalogue, episode_id: str) -> EpisodeThemes | None:
    """The episode's themes as last stored (no recomputation), for rebuilding the index;
    ``None`` when the episode was never analysed."""
    episode = catalogue.query("SELECT theme, score FROM episode_themes WHERE episode_id = ? "
                              "ORDER BY score DESC, theme", (episode_id,))
    passages = catalogue.query("SELECT segment, theme FROM passage_themes WHERE episode_id = ? "
                               "ORDER BY segment, score DESC, theme", (episode_id,))
    if not episode and not passages and not catalogue.query(
            "SELECT 1 FROM episode_terms WHERE episode_id = ? LIMIT 1", (episode_id,)):
        return None
    segments: dict[int, tuple[str, ...]] = {}
    for row in passages:
        segments[row["segment"]] = (*segments.get(row["segment"], ()), row["theme"])
    return EpisodeThemes(tuple((r["theme"], r["score"]) for r in episode), segments)


def _indexed(index: ThemedIndex) -> Collection[str] | None:
    ids = getattr(index, "indexed_episode_ids", None)
    return set(ids()) if callable(ids) else None


def apply_themes(catalogue: Catalogue, index: ThemedIndex | None, taxonomy: Taxonomy, *,
                 batch_size: int = INDEX_BATCH) -> int:
    """Re-analyse every episode with ``taxonomy``, record it as applied, and re-index the
    episodes (``batch_size`` to a commit); return how many episodes were analysed.

    An episode whose transcript cannot be read keeps its old analysis (a warning is logged).
    """
    save_taxonomy(catalogue, taxonomy)
    episodes = catalogue.episodes()
    known = {p.name for ep in episodes for p in credited_people(ep)}
    feeds = {f.id: f for f in catalogue.feeds()}
    indexed = _indexed(index) if index is not None else None
    batch: list[tuple[Feed, Episode, Transcript | None, EpisodeThemes | None]] = []
    done = 0
    for episode in episodes:
        try:
            transcript = catalogue.transcript(episode.id)
        except CatalogueError as exc:
            log.warning("themes: skipping %s: %s", episode.id, exc)
            continue
        analysis = analyse(taxonomy, episode, transcript, known_people=known)
        save_analysis(catalogue, analysis)
        done += 1
        feed = feeds.get(episode.feed_id)
        if index is not None and feed is not None and (indexed is None or episode.id in indexed):
            batch.append((feed, episode, transcript, analysis.themes.episode_themes()))
        if index is not None and len(batch) >= batch_size:
            index.index_many(batch)
            batch = []
    if index is not None and batch:
        index.index_many(batch)
    return done
