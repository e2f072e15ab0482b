"""Reading the knowledge tables: what the themes, reference and person pages and the episode page
show. Every record here is flat and JSON-ready (``dataclasses.asdict``); dates are ISO strings.

Orders: a theme's episodes by score (how much they discuss it), its passages newest episode
first and then by time in the episode; mentions of a reference or a person likewise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from poddarkiv.archive.keyterms import KEY_TERMS_LIMIT, KeyTerm, TermCounts, key_terms
from poddarkiv.archive.models import Chapter
from poddarkiv.archive.store import Catalogue

__all__ = [
    "EpisodeKnowledge", "EpisodeTheme", "Mentioned", "PersonPage", "PersonSummary",
    "ReferencePage", "ReferenceSummary", "RelatedEpisode", "ThemeEpisode", "ThemePage",
    "ThemeSummary", "episode_chapters", "episode_key_terms", "episode_knowledge",
    "episodes_sharing_key_terms", "people_overview", "person_page", "reference_page",
    "references_overview", "theme_names", "theme_page", "themes_overview",
]

PASSAGES_PAGE_SIZE = 50
THEME_EPISODES_LIMIT = 500
MENTIONS_LIMIT = 500
RELATED_LIMIT = 5
#: Related episodes are found through this many of an episode's best key terms.
RELATED_TERMS = 20


@dataclass(frozen=True, slots=True)
class ThemeSummary:
    """A theme as the overview shows it, with how many episodes and passages have it."""

    slug: str
    name: str
    description: str
    name_en: str
    description_en: str
    episode_count: int
    passage_count: int


@dataclass(frozen=True, slots=True)
class ThemeEpisode:
    """An episode of a theme, with its score and how many of its passages have the theme."""

    episode_id: str
    title: str
    published: str | None
    feed_id: str
    score: float
    passage_count: int


@dataclass(frozen=True, slots=True)
class Mentioned:
    """A moment in an episode: a passage of a theme, or a mention of a reference or person.

    ``start_s`` is ``None`` when the mention is in the title or show notes, not the audio.
    """

    episode_id: str
    title: str
    published: str | None
    segment: int | None
    start_s: float | None
    end_s: float | None
    text: str
    score: float | None = None
    source: str | None = None
    role: str | None = None


@dataclass(frozen=True, slots=True)
class ThemePage:
    theme: ThemeSummary
    episodes: list[ThemeEpisode]
    passages: list[Mentioned]
    passage_total: int


@dataclass(frozen=True, slots=True)
class ReferenceSummary:
    kind: str
    key: str
    label: str
    url: str | None
    episode_count: int
    mention_count: int


@dataclass(frozen=True, slots=True)
class ReferencePage:
    reference: ReferenceSummary
    mentions: list[Mentioned]


@dataclass(frozen=True, slots=True)
class PersonSummary:
    slug: str
    name: str
    href: str | None
    img: str | None
    episode_count: int


@dataclass(frozen=True, slots=True)
class PersonPage:
    """A person: the episodes that credit them (``source`` feed/description, with ``role``)
    and the moments their name is said (``source`` transcript)."""

    person: PersonSummary
    credits: list[Mentioned]
    mentions: list[Mentioned]


@dataclass(frozen=True, slots=True)
class EpisodeTheme:
    slug: str
    name: str
    name_en: str
    score: float


@dataclass(frozen=True, slots=True)
class RelatedEpisode:
    episode_id: str
    title: str
    published: str | None
    score: float
    shared_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class EpisodeKnowledge:
    """What the episode page shows beside the transcript."""

    themes: list[EpisodeTheme]
    key_terms: list[KeyTerm]
    references: list[ReferenceSummary]
    people: list[PersonSummary]
    chapters: tuple[Chapter, ...]
    related: list[RelatedEpisode]


def _mentioned(row: Any, **extra: Any) -> Mentioned:
    return Mentioned(row["episode_id"], row["title"], row["published"], row["segment"],
                     row["start_s"], row["end_s"], row["text"], **extra)


# -- themes ---------------------------------------------------------------------------------

# An episode "has" a theme when it passed the episode threshold or has a passage of the theme;
# counting only the first gave "0 avsnitt · 1 stycke".
_THEMES_SQL = """SELECT t.*,
  (SELECT count(*) FROM (SELECT episode_id FROM episode_themes WHERE theme = t.slug
     UNION SELECT episode_id FROM passage_themes WHERE theme = t.slug)) AS episode_count,
  (SELECT count(*) FROM passage_themes p WHERE p.theme = t.slug) AS passage_count
FROM themes t {where} ORDER BY t.position"""


def _summary(row: Any) -> ThemeSummary:
    return ThemeSummary(row["slug"], row["name"], row["description"], row["name_en"],
                        row["description_en"], row["episode_count"], row["passage_count"])


def themes_overview(catalogue: Catalogue) -> list[ThemeSummary]:
    """Every theme of the applied taxonomy, in its order, with episode and passage counts."""
    return [_summary(r) for r in catalogue.query(_THEMES_SQL.format(where=""))]


def theme_names(catalogue: Catalogue, lang: str = "sv") -> dict[str, str]:
    """Theme slug → name in ``lang`` (``sv`` or ``en``; English falls back to Swedish)."""
    rows = catalogue.query("SELECT slug, name, name_en FROM themes ORDER BY position")
    return {r["slug"]: (r["name_en"] or r["name"]) if lang == "en" else r["name"] for r in rows}


def theme_page(catalogue: Catalogue, slug: str, *, page: int = 1,
               page_size: int = PASSAGES_PAGE_SIZE) -> ThemePage | None:
    """A theme, its episodes by score, and one page of its passages; ``None`` if unknown."""
    rows = catalogue.query(_THEMES_SQL.format(where="WHERE t.slug = ?"), (slug,))
    if not rows:
        return None
    episodes = [ThemeEpisode(r["id"], r["title"], r["published"], r["feed_id"], r["score"],
                             r["passages"]) for r in catalogue.query("""
        SELECT e.id, e.title, e.published, e.feed_id, coalesce(et.score, 0.0) AS score,
          (SELECT count(*) FROM passage_themes p WHERE p.episode_id = e.id AND p.theme = ?)
            AS passages
        FROM episodes e LEFT JOIN episode_themes et ON et.episode_id = e.id AND et.theme = ?
        WHERE et.episode_id IS NOT NULL OR e.id IN (
          SELECT episode_id FROM passage_themes WHERE theme = ?)
        ORDER BY score DESC, passages DESC, e.published DESC LIMIT ?""",
        (slug, slug, slug, THEME_EPISODES_LIMIT))]
    passages = [_mentioned(r, score=r["score"]) for r in catalogue.query("""
        SELECT p.*, e.title, e.published FROM passage_themes p JOIN episodes e
          ON e.id = p.episode_id WHERE p.theme = ?
        ORDER BY e.published DESC, p.episode_id, p.start_s LIMIT ? OFFSET ?""",
        (slug, page_size, (max(page, 1) - 1) * page_size))]
    return ThemePage(_summary(rows[0]), episodes, passages, rows[0]["passage_count"])


# -- references and people ------------------------------------------------------------------

_REF_SQL = """SELECT kind, key, min(label) AS label, max(url) AS url,
  count(DISTINCT episode_id) AS episodes, count(*) AS mentions
FROM reference_mentions {where} GROUP BY kind, key ORDER BY {order}"""


def _ref(row: Any) -> ReferenceSummary:
    return ReferenceSummary(row["kind"], row["key"], row["label"], row["url"], row["episodes"],
                            row["mentions"])


def references_overview(catalogue: Catalogue) -> list[ReferenceSummary]:
    """Every reference found, grouped by kind, most mentioned first."""
    sql = _REF_SQL.format(where="", order="kind, mentions DESC, label")
    return [_ref(r) for r in catalogue.query(sql)]


def reference_page(catalogue: Catalogue, kind: str, key: str) -> ReferencePage | None:
    """A reference and where it is mentioned; ``None`` if never."""
    rows = catalogue.query(_REF_SQL.format(where="WHERE kind = ? AND key = ?", order="kind"),
              (kind, key))
    if not rows:
        return None
    mentions = [_mentioned(r) for r in catalogue.query("""
        SELECT m.*, m.context AS text, e.title, e.published FROM reference_mentions m
          JOIN episodes e ON e.id = m.episode_id WHERE m.kind = ? AND m.key = ?
        ORDER BY e.published DESC, m.episode_id, m.start_s LIMIT ?""",
        (kind, key, MENTIONS_LIMIT))]
    return ReferencePage(_ref(rows[0]), mentions)


_PEOPLE_SQL = """SELECT slug,
  coalesce(max(CASE WHEN source != 'transcript' THEN name END), max(name)) AS name,
  max(href) AS href, max(img) AS img, count(DISTINCT episode_id) AS episodes
FROM person_mentions {where} GROUP BY slug ORDER BY {order}"""


def _person(row: Any) -> PersonSummary:
    return PersonSummary(row["slug"], row["name"], row["href"], row["img"], row["episodes"])


def people_overview(catalogue: Catalogue) -> list[PersonSummary]:
    """Every person the feeds name, in most episodes first."""
    return [_person(r) for r in catalogue.query(_PEOPLE_SQL.format(
        where="", order="episodes DESC, name"))]


def person_page(catalogue: Catalogue, slug: str) -> PersonPage | None:
    """A person, the episodes that credit them and where their name is said."""
    rows = catalogue.query(_PEOPLE_SQL.format(where="WHERE slug = ?", order="slug"), (slug,))
    if not rows:
        return None
    found = [_mentioned(r, source=r["source"], role=r["role"] or None) for r in catalogue.query("""
        SELECT m.*, m.context AS text, e.title, e.published FROM person_mentions m
          JOIN episodes e ON e.id = m.episode_id WHERE m.slug = ?
        ORDER BY e.published DESC, m.episode_id, m.start_s LIMIT ?""", (slug, MENTIONS_LIMIT))]
    return PersonPage(_person(rows[0]), [m for m in found if m.source != "transcript"],
                      [m for m in found if m.source == "transcript"])


# -- one episode ----------------------------------------------------------------------------


def episode_chapters(catalogue: Catalogue, episode_id: str) -> tuple[Chapter, ...]:
    """The publisher's chapters if the feed has them, else suggested ones (maybe none)."""
    rows = catalogue.query("SELECT * FROM chapters WHERE episode_id = ? "
              "ORDER BY source = 'suggested', position", (episode_id,))
    source = rows[0]["source"] if rows else None
    return tuple(Chapter(r["start_s"], r["title"], r["url"]) for r in rows
                 if r["source"] == source)


def _documents(catalogue: Catalogue) -> int:
    return int(catalogue.query("SELECT count(DISTINCT episode_id) FROM episode_terms")[0][0])


def episode_key_terms(catalogue: Catalogue, episode_id: str, *,
                      limit: int = KEY_TERMS_LIMIT) -> list[KeyTerm]:
    """The episode's key terms by tf-idf against every analysed episode."""
    rows = catalogue.query("""SELECT t.term, t.label, t.count,
        (SELECT count(*) FROM episode_terms d WHERE d.term = t.term) AS df
        FROM episode_terms t WHERE t.episode_id = ?""", (episode_id,))
    counts = TermCounts({r["term"]: r["count"] for r in rows},
                        {r["term"]: r["label"] for r in rows})
    return key_terms(counts, document_frequency={r["term"]: r["df"] for r in rows},
                     documents=_documents(catalogue), limit=limit)


def episodes_sharing_key_terms(catalogue: Catalogue, episode_id: str, *,
                     limit: int = RELATED_LIMIT) -> list[RelatedEpisode]:
    """Episodes sharing the most weight of this episode's best key terms.

    Score: the dot product of tf-idf weights over the shared terms, divided by the square root
    of the other episode's number of distinct terms, so that long episodes do not win by size.
    """
    terms = {k.term: k for k in episode_key_terms(catalogue, episode_id, limit=RELATED_TERMS)}
    if not terms:
        return []
    marks = ", ".join("?" * len(terms))
    rows = catalogue.query(f"""SELECT o.episode_id, o.term, o.count, e.title, e.published,
        (SELECT count(*) FROM episode_terms n WHERE n.episode_id = o.episode_id) AS size
        FROM episode_terms o JOIN episodes e ON e.id = o.episode_id
        WHERE o.term IN ({marks}) AND o.episode_id != ?""", (*terms, episode_id))
    found: dict[str, tuple[float, list[str], Any]] = {}
    for r in rows:
        mine = terms[r["term"]]
        idf = mine.score / (1.0 + math.log(mine.count))
        weight = mine.score * (1.0 + math.log(r["count"])) * idf
        score, shared, _ = found.get(r["episode_id"], (0.0, [], r))
        found[r["episode_id"]] = (score + weight, [*shared, mine.label], r)
    ranked = sorted(((s / math.sqrt(max(r["size"], 1)), shared, r)
                     for s, shared, r in found.values()), key=lambda x: -x[0])
    return [RelatedEpisode(r["episode_id"], r["title"], r["published"], round(s, 4),
                           tuple(shared)) for s, shared, r in ranked[:limit]]


def episode_knowledge(catalogue: Catalogue, episode_id: str) -> EpisodeKnowledge:
    """Themes, key terms, references, people, chapters and related episodes of one episode."""
    themes = [EpisodeTheme(r["slug"], r["name"], r["name_en"], r["score"])
              for r in catalogue.query(
                  "SELECT t.slug, t.name, t.name_en, et.score FROM episode_themes et JOIN themes "
                  "t ON t.slug = et.theme WHERE et.episode_id = ? ORDER BY et.score DESC",
                  (episode_id,))]
    where = "WHERE episode_id = ?"
    references = [_ref(r) for r in catalogue.query(_REF_SQL.format(
        where=where, order="kind, mentions DESC, label"), (episode_id,))]
    people = [_person(r) for r in catalogue.query(
        _PEOPLE_SQL.format(where=where, order="name"), (episode_id,))]
    return EpisodeKnowledge(themes, episode_key_terms(catalogue, episode_id), references,
                            people, episode_chapters(catalogue, episode_id),
                            episodes_sharing_key_terms(catalogue, episode_id))
