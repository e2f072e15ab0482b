"""The knowledge tables: analysing episodes into the catalogue, applying a new taxonomy, and
handing the search index its themes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from poddarkiv.archive.browse import episode_chapters, theme_page, themes_overview
from poddarkiv.archive.knowledge import (
    analyse,
    analyse_episode,
    applied_taxonomy_hash,
    apply_themes,
    save_publisher_chapters,
    stored_episode_themes,
    stored_taxonomy,
)
from poddarkiv.archive.models import Chapter, Episode, EpisodeThemes, Feed, Transcript
from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.archive.themes import load_taxonomy, parse_taxonomy, taxonomy_hash
from tests.archive.knowledge_sample import FEED_ID, sample_feed, sample_pairs, transcript_of

TAXONOMY = load_taxonomy()
ONLY_STATSSTOD = """
[[theme]]
slug = "statsstod"
name = "Statsstöd"
description = "Bara statsstöd."
[theme.terms]
"*statsstöd*" = 3
"""


@pytest.fixture()
def catalogue(tmp_path: Path) -> Iterator[Catalogue]:
    """The sample feed and its four episodes with transcripts, not yet analysed."""
    cat = open_catalogue(tmp_path / "data")
    cat.save_feed(sample_feed())
    for episode, transcript in sample_pairs():
        cat.save_episode(episode)
        cat.save_transcript(transcript)
    yield cat
    cat.close()


class RecordingIndex:
    """Stands in for ArchiveIndex: records each index_many batch."""

    def __init__(self, indexed: set[str] | None = None) -> None:
        self.batches: list[list[tuple[Feed, Episode, Transcript | None, EpisodeThemes | None]]]
        self.batches = []
        self._indexed = indexed

    def index_many(self, items: Iterable[tuple[Feed, Episode, Transcript | None,
                                               EpisodeThemes | None]]) -> int:
        batch = list(items)
        self.batches.append(batch)
        return len(batch)


class IndexKnowingItsEpisodes(RecordingIndex):
    def indexed_episode_ids(self) -> set[str]:
        return self._indexed or set()


def test_the_knowledge_tables_exist_once_the_catalogue_is_open(catalogue: Catalogue) -> None:
    names = {r[0] for r in catalogue.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"themes", "episode_themes", "passage_themes", "reference_mentions",
            "person_mentions", "episode_terms", "chapters", "knowledge_meta"} <= names


def test_analyse_episode_stores_and_returns_index_themes(catalogue: Catalogue) -> None:
    episode, transcript = sample_pairs()[0]
    themes = analyse_episode(catalogue, episode, transcript)
    assert isinstance(themes, EpisodeThemes)
    assert set(themes.slugs) == {"iop", "upphandling"}
    assert stored_episode_themes(catalogue, episode.id) == themes
    # The first analysis records the taxonomy, so the site can name the themes.
    assert applied_taxonomy_hash(catalogue) == taxonomy_hash(TAXONOMY)
    assert [t.slug for t in themes_overview(catalogue)] == [t.slug for t in TAXONOMY.themes]


def test_analysing_again_replaces_not_adds(catalogue: Catalogue) -> None:
    episode, transcript = sample_pairs()[0]
    analyse_episode(catalogue, episode, transcript)
    analyse_episode(catalogue, episode, transcript)
    page = theme_page(catalogue, "upphandling")
    assert page is not None
    assert [e.episode_id for e in page.episodes] == [episode.id]
    assert page.passage_total == 3


def test_never_analysed_has_no_stored_themes(catalogue: Catalogue) -> None:
    assert stored_episode_themes(catalogue, "iop-och-upphandling") is None


def test_apply_themes_redoes_everything_and_reindexes_in_batches(catalogue: Catalogue) -> None:
    index = RecordingIndex()
    assert apply_themes(catalogue, index, TAXONOMY, batch_size=3) == 4
    assert [len(b) for b in index.batches] == [3, 1]
    assert all(feed.id == FEED_ID and themes is not None
               for batch in index.batches for feed, _, _, themes in batch)
    counts = {t.slug: t.episode_count for t in themes_overview(catalogue)}
    assert counts["iop"] == 4 and counts["statsstod"] == 1


def test_apply_themes_only_reindexes_what_the_index_holds(catalogue: Catalogue) -> None:
    index = IndexKnowingItsEpisodes({"statsstod-och-sgei"})
    assert apply_themes(catalogue, index, TAXONOMY) == 4
    assert [[e.id for _, e, _, _ in b] for b in index.batches] == [["statsstod-och-sgei"]]


def test_a_new_taxonomy_is_detected_applied_and_kept(catalogue: Catalogue) -> None:
    apply_themes(catalogue, None, TAXONOMY)
    mine = parse_taxonomy(ONLY_STATSSTOD, source="mine.toml")
    assert applied_taxonomy_hash(catalogue) == taxonomy_hash(TAXONOMY) != taxonomy_hash(mine)
    apply_themes(catalogue, None, mine)
    assert applied_taxonomy_hash(catalogue) == taxonomy_hash(mine)
    assert [t.slug for t in themes_overview(catalogue)] == ["statsstod"]
    assert stored_taxonomy(catalogue) == mine
    # Later ingests analyse with the applied taxonomy, not the shipped one.
    episode, transcript = sample_pairs()[0]
    assert analyse_episode(catalogue, episode, transcript).episode == ()


def test_publisher_chapters_win_over_suggested(catalogue: Catalogue) -> None:
    iop = "Ett idéburet offentligt partnerskap är ett IOP mellan kommunen och föreningen."
    sgei = "Statsstöd och SGEI: tjänster av allmänt ekonomiskt intresse och statsstödet."
    episode = sample_pairs()[0][0]
    transcript = transcript_of(episode.id, *([iop] * 12), *([sgei] * 12), segment_s=10.0)
    analysis = analyse(TAXONOMY, episode, transcript)
    assert len(analysis.chapters) == 2
    catalogue.save_transcript(transcript)
    analyse_episode(catalogue, episode, transcript)
    assert episode_chapters(catalogue, episode.id) == analysis.chapters
    save_publisher_chapters(catalogue, episode.id, [Chapter(0.0, "Början"), Chapter(42.0, "Slut")])
    analyse_episode(catalogue, episode, transcript)  # re-analysis keeps the publisher's
    assert [c.title for c in episode_chapters(catalogue, episode.id)] == ["Början", "Slut"]


def test_knowledge_goes_with_its_episode(catalogue: Catalogue) -> None:
    apply_themes(catalogue, None, TAXONOMY)
    catalogue.remove_feed(FEED_ID)
    for table in ("episode_themes", "passage_themes", "reference_mentions", "episode_terms"):
        assert catalogue.query(f"SELECT count(*) FROM {table}")[0][0] == 0
