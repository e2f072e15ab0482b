"""Themes: the shipped taxonomy, the term syntax, and assignment on the sample corpus."""

from __future__ import annotations

import re

import pytest

from poddarkiv.archive.models import Episode, EpisodeThemes
from poddarkiv.archive.themes import (
    default_taxonomy_path,
    load_taxonomy,
    parse_taxonomy,
    score_text,
    score_themes,
    taxonomy_hash,
)
from poddarkiv.errors import ConfigError
from poddarkiv.sample import SAMPLE_EPISODES
from tests.archive.knowledge_sample import sample_episode, sample_transcript, transcript_of

TAXONOMY = load_taxonomy()

MINIMAL = """
[[theme]]
slug = "upphandling"
name = "Upphandling"
description = "Om upphandling."
[theme.terms]
'{term}' = 1
"""


def one_term(term: str):
    return parse_taxonomy(MINIMAL.replace("{term}", term))


# -- the shipped taxonomy -------------------------------------------------------------------


def test_shipped_taxonomy_has_the_fields_first_themes() -> None:
    slugs = [t.slug for t in TAXONOMY.themes]
    assert slugs == ["iop", "upphandling", "reserverad-upphandling", "statsstod", "lov",
                     "civilsamhallet", "sma-foreningar", "kommuner-och-regioner", "rattsfall",
                     "konkurrens"]


@pytest.mark.parametrize("theme", TAXONOMY.themes, ids=lambda t: t.slug)
def test_every_theme_is_described_in_swedish_and_english(theme) -> None:
    assert theme.name and theme.name_en
    assert len(theme.description) > 100 and len(theme.description_en) > 100
    assert "\n" not in theme.description  # one paragraph
    assert theme.terms


def test_default_path_is_the_shipped_file() -> None:
    assert default_taxonomy_path().name == "themes.toml"
    assert load_taxonomy(default_taxonomy_path()) == TAXONOMY


# -- term syntax: Swedish inflection, compounds, acronyms -------------------------------------

MATCHES = [
    # (term, text, occurrences)
    ("upphandl*", "Upphandlingen var en upphandling enligt upphandlingsreglerna.", 3),
    ("upphandl*", "en direktupphandling", 0),
    ("*upphandl*", "en direktupphandling och offentliga upphandlingar", 2),
    ("upphandling", "upphandlingen", 0),
    ("idébur* offentlig* partnerskap*", "Idéburna offentliga partnerskapen", 1),
    ("idébur* offentlig* partnerskap*", "ideburet offentligt partnerskap", 1),
    ("idébur* offentlig* partnerskap*", "idéburet. Offentligt partnerskap", 0),
    ("idébur* offentlig* partnerskap*", "ett idéburet-offentligt partnerskap", 1),
    ("LOV", "enligt LOV och LOV:s regler", 2),
    ("LOV", "får man lov att ha sommarlov", 0),
    ("IOP", "IOP-avtalet", 1),
    ("*statsstöd*", "statsstödsreglerna och otillåtet statsstöd", 2),
    (r"re:\bartikel 10[678]\b", "enligt artikel 107 i fördraget", 1),
]


@pytest.mark.parametrize(("term", "text", "count"), MATCHES)
def test_term_matching(term: str, text: str, count: int) -> None:
    assert score_text(one_term(term), text).get("upphandling", 0.0) == count


@pytest.mark.parametrize(("toml", "message"), [
    ("not toml [", "not valid TOML"),
    ("title = 'x'", "no [[theme]]"),
    (MINIMAL.replace('slug = "upphandling"', 'slug = "Upp Handling"'), "slug"),
    (MINIMAL.replace("'{term}' = 1", ""), "at least one term"),
    (MINIMAL.replace("{term}", "upp*handling"), "with * only"),
    (MINIMAL.replace("{term}", "re:("), "bad regular expression"),
    (MINIMAL.replace("'{term}' = 1", "'x' = 0"), "must be a number > 0"),
    (MINIMAL.replace('name = "Upphandling"', ""), "name"),
    (MINIMAL + MINIMAL.replace("{term}", "y"), "duplicate"),
    ("min_episode_score = -1\n" + MINIMAL, "min_episode_score"),
])
def test_invalid_taxonomies_raise_config_error(toml: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_taxonomy(toml.replace("{term}", "x"), source="mine.toml")


def test_missing_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_taxonomy(tmp_path / "nope.toml")


def test_hash_follows_content_not_layout() -> None:
    base = one_term("upphandl*")
    relaid = parse_taxonomy("# a comment\n\n" + MINIMAL.replace("{term}", "upphandl*"))
    changed = one_term("upphandling*")
    assert taxonomy_hash(base) == taxonomy_hash(relaid)
    assert taxonomy_hash(base) != taxonomy_hash(changed)
    assert len(taxonomy_hash(base)) == 64


# -- assignment ------------------------------------------------------------------------------

# Per sample episode: themes it must have, its strongest theme (one of), themes it must not have.
EXPECTED = {
    "iop-och-upphandling": ({"iop", "upphandling"}, {"iop", "upphandling"},
                            {"statsstod", "lov", "rattsfall", "sma-foreningar"}),
    "statsstod-och-sgei": ({"statsstod"}, {"statsstod"},
                           {"upphandling", "lov", "rattsfall", "reserverad-upphandling"}),
    "sma-foreningar-som-partner": ({"sma-foreningar", "iop", "civilsamhallet"}, {"sma-foreningar"},
                                   {"statsstod", "upphandling", "lov", "rattsfall"}),
    "rattsfallet-i-alingsas": ({"rattsfall", "iop"}, {"rattsfall"},
                               {"statsstod", "lov", "sma-foreningar", "reserverad-upphandling"}),
}


@pytest.mark.parametrize("sample", SAMPLE_EPISODES, ids=lambda s: s.slug)
def test_sample_corpus_themes(sample) -> None:
    must, top, never = EXPECTED[sample.slug]
    scores = score_themes(TAXONOMY, sample_episode(sample), sample_transcript(sample))
    assigned = {slug for slug, _ in scores.episode}
    assert must <= assigned
    assert not assigned & never
    assert scores.episode[0][0] in top
    assert [s for _, s in scores.episode] == sorted((s for _, s in scores.episode), reverse=True)


def test_passages_get_themes_with_scores() -> None:
    sample = next(s for s in SAMPLE_EPISODES if s.slug == "rattsfallet-i-alingsas")
    transcript = sample_transcript(sample)
    scores = score_themes(TAXONOMY, sample_episode(sample), transcript)
    # "Ett sådant beslut kan överklagas till kammarrätten." is about the court case only.
    line = next(i for i, s in enumerate(transcript.segments) if "kammarrätten" in s.text)
    assert [slug for slug, _ in scores.segments[line]] == ["rattsfall"]
    assert all(score >= TAXONOMY.min_segment_score
               for pairs in scores.segments.values() for _, score in pairs)


def test_title_and_description_count_without_a_transcript() -> None:
    episode = Episode(id="e", feed_id="f", guid="g", title="Statsstöd och SGEI",
                      description="Om statsstöd till föreningar.")
    scores = score_themes(TAXONOMY, episode, None)
    assert scores.episode[0][0] == "statsstod"
    assert scores.segments == {}


def test_scores_give_the_index_its_type() -> None:
    episode = Episode(id="e", feed_id="f", guid="g", title="")
    transcript = transcript_of("e", "Vi pratar om LOU och upphandling.", "Och sedan om vädret.")
    themes = score_themes(TAXONOMY, episode, transcript).episode_themes()
    assert isinstance(themes, EpisodeThemes)
    assert themes.slugs == ("upphandling",)
    assert dict(themes.segments) == {0: ("upphandling",)}


def test_a_theme_can_set_its_own_threshold() -> None:
    strict = parse_taxonomy(MINIMAL.replace("{term}", "upphandl*").replace(
        'description = "Om upphandling."', 'description = "Om upphandling."\nmin_score = 10'))
    episode = Episode(id="e", feed_id="f", guid="g", title="")
    transcript = transcript_of("e", "upphandling upphandling upphandling upphandling")
    assert score_themes(strict, episode, transcript).episode == ()
    assert score_themes(one_term("upphandl*"), episode, transcript).episode == (
        ("upphandling", 4.0),)
