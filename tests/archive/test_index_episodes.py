"""Passages grouped per episode: scores that gather passages, pages that read only their rows."""

from __future__ import annotations

import numpy as np
import pytest

from poddarkiv.archive.index.episodes import (
    EMPTY,
    MAX_PASSAGES,
    PASSAGE_DECAY,
    SCORED_PASSAGES,
    Meta,
    group,
    rank_episodes,
)

#: Documents 0-9 belong to episode 100, 10-19 to 200, 20-29 to 300.
EP = np.repeat(np.array([100, 200, 300]), 10)
NO_META = Meta(EMPTY, np.zeros(0, dtype=np.float32), EMPTY)


def docs(*ids: int) -> np.ndarray:
    return np.array(ids, dtype=np.int64)


def scores(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_an_episode_with_one_passage_scores_that_passage() -> None:
    g = group(EP, docs(3, 12, 25), scores(1.5, 4.0, 2.25))
    assert g.keys.tolist() == [100, 200, 300]
    assert g.totals.tolist() == [1.5, 4.0, 2.25]


def test_several_passages_add_up_with_decaying_weights() -> None:
    many = [float(i + 1) for i in range(10)]  # ten passages in episode 100
    g = group(EP, docs(*range(10)), scores(*many))
    best_first = sorted(many, reverse=True)
    expected = sum(s * PASSAGE_DECAY ** i for i, s in enumerate(best_first[:SCORED_PASSAGES]))
    assert g.keys.tolist() == [100]
    assert g.totals[0] == pytest.approx(expected)


def test_episodes_rank_by_their_passages_together() -> None:
    # Episode 100 has three fair passages, 200 one better one: several beat one.
    g = group(EP, docs(1, 4, 7, 15), scores(2.0, 2.0, 2.0, 3.0))
    page = rank_episodes(g, g.keys, "passage", NO_META, 0, 10)
    assert [m.ep_key for m in page] == [100, 200]
    assert [m.passage_total for m in page] == [3, 1]


def test_a_page_shows_the_best_passages_that_do_not_overlap() -> None:
    firsts, lasts = docs(1, 2, 6, 8, 9), docs(3, 4, 6, 8, 9)
    g = group(EP, firsts, scores(5.0, 4.0, 3.0, 2.0, 1.0), lasts)
    (m,) = rank_episodes(g, g.keys, "near", NO_META, 0, 10)
    # 2..4 overlaps the best stretch 1..3; the next best that do not are shown.
    assert [(p.first, p.last, p.score) for p in m.passages] == \
        [(1, 3, 5.0), (6, 6, 3.0), (8, 8, 2.0)]
    assert len(m.passages) == MAX_PASSAGES


def test_only_the_requested_ranks_are_built() -> None:
    g = group(EP, docs(0, 10, 20), scores(1.0, 3.0, 2.0))
    page = rank_episodes(g, g.keys, "passage", NO_META, 1, 2)
    assert [(m.ep_key, m.score) for m in page] == [(300, 2.0)]


def test_a_metadata_match_adds_to_speech_and_shows_its_excerpt() -> None:
    g = group(EP, docs(2, 12), scores(2.0, 2.5))
    meta = Meta(docs(100), scores(2.0), docs(9))
    first, second = rank_episodes(g, g.keys, "passage", meta, 0, 10)
    assert (first.ep_key, first.score, first.metadata) == (100, 3.0, True)
    assert [p.metadata for p in first.passages] == [False, True]
    assert (second.ep_key, second.metadata) == (200, False)


def test_episodes_without_spoken_passages_rank_by_the_scores_given() -> None:
    g = group(EP, docs(5), scores(1.0))
    keys = docs(300, 100)  # ordered by ``base``, as the episode tier does
    page = rank_episodes(g, keys, "episode", NO_META, 0, 10, base=scores(4.0, 1.0))
    assert [(m.ep_key, m.passage_total, len(m.passages)) for m in page] == \
        [(300, 0, 0), (100, 1, 1)]


def test_nothing_grouped_ranks_nothing() -> None:
    g = group(EP, EMPTY, np.zeros(0, dtype=np.float32))
    assert g.keys.tolist() == []
    assert rank_episodes(g, EMPTY, "passage", NO_META, 0, 10) == []
