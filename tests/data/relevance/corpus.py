"""The hand-written relevance corpus: one readable file per episode in ``episodes/``.

Each file has ``Key: value`` header lines (Title, Podcast, Published, Themes, Description), a
blank line, then one transcript segment a line (five seconds each). ``queries.tsv`` lists
queries with the episodes they must find and a passage that must be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from poddarkiv.archive.models import Episode, EpisodeThemes, Feed, Segment, Transcript
from poddarkiv.archive.search import SearchPage

__all__ = [
    "HERE",
    "SEGMENT_S",
    "Judgement",
    "Scores",
    "load_corpus",
    "load_queries",
    "rank_metrics",
    "shows_passage",
]

HERE = Path(__file__).parent
SEGMENT_S = 5.0

Item = tuple[Feed, Episode, Transcript, EpisodeThemes]


def _feed_id(title: str) -> str:
    return "feed-" + "".join(ch for ch in title.lower() if ch.isalnum())


def load_corpus(folder: Path = HERE / "episodes") -> list[Item]:
    """Every episode file as (feed, episode, transcript, themes)."""
    items = []
    for path in sorted(folder.glob("*.txt")):
        head, _, body = path.read_text("utf-8").partition("\n\n")
        meta = dict(line.split(": ", 1) for line in head.splitlines())
        feed = Feed(id=_feed_id(meta["Podcast"]), url=f"http://example.invalid/{path.stem}",
                    title=meta["Podcast"])
        published = datetime.fromisoformat(meta["Published"]).replace(tzinfo=UTC)
        episode = Episode(id=path.stem, feed_id=feed.id, guid=path.stem, title=meta["Title"],
                          description=meta.get("Description", ""), published=published)
        lines = [ln for ln in body.splitlines() if ln.strip()]
        segments = tuple(Segment(i * SEGMENT_S, (i + 1) * SEGMENT_S, ln)
                         for i, ln in enumerate(lines))
        slugs = [s.strip() for s in meta.get("Themes", "").split(",") if s.strip()]
        themes = EpisodeThemes(episode=tuple((s, 1.0) for s in slugs))
        items.append((feed, episode, Transcript(episode.id, "whisper", "sv", segments), themes))
    return items


@dataclass(frozen=True, slots=True)
class Judgement:
    """A query, the episodes it must find, and a passage (substring) it must show."""

    query: str
    relevant: tuple[str, ...]
    passage: str | None


def load_queries(path: Path = HERE / "queries.tsv") -> list[Judgement]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        query, relevant, *rest = line.split("\t")
        passage = rest[0].strip() if rest and rest[0].strip() else None
        out.append(Judgement(query, tuple(r.strip() for r in relevant.split(",")), passage))
    return out


@dataclass(frozen=True)
class Scores:
    """Mean recall@10 and mean reciprocal rank of the first relevant episode."""

    recall_at_10: float
    mrr: float


def rank_metrics(pages: Sequence[tuple[Judgement, SearchPage]]) -> Scores:
    """Recall@10 (share of relevant episodes on the first page of ten) and MRR, averaged."""
    recalls, ranks = [], []
    for j, page in pages:
        ids = [h.episode_id for h in page.hits[:10]]
        recalls.append(sum(r in ids for r in j.relevant) / len(j.relevant))
        first = next((i + 1 for i, e in enumerate(ids) if e in j.relevant), None)
        ranks.append(1 / first if first else 0.0)
    return Scores(sum(recalls) / len(recalls), sum(ranks) / len(ranks))


def shows_passage(j: Judgement, page: SearchPage) -> bool:
    """Whether a relevant episode's hit shows the judgement's passage (true when it has none)."""
    if j.passage is None:
        return True
    wanted = j.passage.lower()
    return any(wanted in p.text.lower() for h in page.hits if h.episode_id in j.relevant
               for p in h.passages)
