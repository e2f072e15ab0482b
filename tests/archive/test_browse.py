"""Reading the knowledge map: what the themes, reference, person and episode pages show."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.archive import browse
from poddarkiv.archive.knowledge import apply_themes
from poddarkiv.archive.models import Person
from poddarkiv.archive.store import Catalogue, open_catalogue
from poddarkiv.archive.themes import load_taxonomy
from tests.archive.knowledge_sample import SEGMENT_S, sample_feed, sample_pairs


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalogue]:
    """The sample podcast, analysed; one episode credits a guest who another one names."""
    cat = open_catalogue(Path(tmp_path_factory.mktemp("browse")) / "data")
    cat.save_feed(sample_feed())
    for episode, transcript in sample_pairs():
        if episode.id == "statsstod-och-sgei":
            episode = episode.replace(persons=(Person("Lisa Berg", "host"),),
                                      description="Gäst: Eva Ek, jurist")
        cat.save_episode(episode)
        cat.save_transcript(transcript)
    apply_themes(cat, None, load_taxonomy())
    yield cat
    cat.close()


def test_overview_counts(catalogue: Catalogue) -> None:
    overview = {t.slug: t for t in browse.themes_overview(catalogue)}
    assert overview["iop"].episode_count == 4
    assert overview["lov"].episode_count == 0
    assert overview["rattsfall"].passage_count == 6
    assert overview["iop"].name_en == "Non-profit public partnership (IOP)"


def test_theme_names_in_both_languages(catalogue: Catalogue) -> None:
    assert browse.theme_names(catalogue)["statsstod"] == "Statsstöd och SGEI"
    assert browse.theme_names(catalogue, "en")["statsstod"] == "State aid and SGEI"


def test_theme_page_ranks_episodes_and_dates_passages(catalogue: Catalogue) -> None:
    page = browse.theme_page(catalogue, "iop")
    assert page is not None
    scores = [e.score for e in page.episodes]
    assert scores == sorted(scores, reverse=True)
    assert page.episodes[0].episode_id == "iop-och-upphandling"
    published = [p.published for p in page.passages]
    assert published == sorted(published, reverse=True)  # newest episode first
    first = [p.start_s for p in page.passages if p.episode_id == page.passages[0].episode_id]
    assert first == sorted(first)                       # then in the order they are said
    assert all(p.start_s is not None and p.start_s % SEGMENT_S == 0 for p in page.passages)


def test_theme_page_pages_and_unknown_theme(catalogue: Catalogue) -> None:
    whole = browse.theme_page(catalogue, "iop")
    second = browse.theme_page(catalogue, "iop", page=2, page_size=3)
    assert whole is not None and second is not None
    assert second.passages == whole.passages[3:6]
    assert browse.theme_page(catalogue, "finns-inte") is None


def test_reference_pages(catalogue: Catalogue) -> None:
    overview = {(r.kind, r.key): r for r in browse.references_overview(catalogue)}
    kv = overview[("organisation", "konkurrensverket")]
    assert (kv.episode_count, kv.mention_count) == (2, 3)
    page = browse.reference_page(catalogue, "lag", "2016:1145")
    assert page is not None
    assert page.reference.url == "https://lagen.nu/2016:1145"
    assert [(m.episode_id, m.start_s) for m in page.mentions] == [
        ("iop-och-upphandling", 3 * SEGMENT_S)]
    assert browse.reference_page(catalogue, "lag", "1999:1") is None


def test_person_pages(catalogue: Catalogue) -> None:
    slugs = {p.slug for p in browse.people_overview(catalogue)}
    assert slugs == {"lisa-berg", "eva-ek"}
    page = browse.person_page(catalogue, "eva-ek")
    assert page is not None
    assert [(c.episode_id, c.source, c.role) for c in page.credits] == [
        ("statsstod-och-sgei", "description", "guest")]
    assert browse.person_page(catalogue, "ingen") is None


def test_episode_knowledge_is_json_ready(catalogue: Catalogue) -> None:
    known = browse.episode_knowledge(catalogue, "rattsfallet-i-alingsas")
    assert known.themes[0].slug == "rattsfall"
    assert "alingsås" in [k.label for k in known.key_terms]
    assert {r.key for r in known.references} >= {"konkurrensverket", "alingsas-kommun",
                                                 "forvaltningsratten-i-goteborg"}
    assert known.chapters == ()  # 30 seconds of one theme
    json.dumps(dataclasses.asdict(known))


def test_episodes_sharing_key_terms_are_related(catalogue: Catalogue) -> None:
    related = browse.episodes_sharing_key_terms(catalogue, "rattsfallet-i-alingsas")
    assert related and "rattsfallet-i-alingsas" not in [r.episode_id for r in related]
    # The other episode that names Konkurrensverket is the closest.
    assert related[0].episode_id == "iop-och-upphandling"
    assert "konkurrensverket" in related[0].shared_terms
    assert [r.score for r in related] == sorted((r.score for r in related), reverse=True)
    assert browse.episodes_sharing_key_terms(catalogue, "finns-inte") == []
