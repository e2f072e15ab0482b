"""Relevance: Swedish queries must find the episodes and passages a listener expects.

Two sets, both measured as recall@10 (share of relevant episodes on the first page of ten) and
MRR (mean reciprocal rank of the first relevant episode):

* the hand-written corpus in ``tests/data/relevance/episodes`` with ``queries.tsv``;
* a synthetic corpus of several hours (``synthetic.py``) with sentences planted in it
  (``planted.tsv``), so the right passage has thousands of distractors sharing its words.

The thresholds sit just below what the current analysis reaches: a change that makes search
worse fails here. Figures are printed with ``pytest -s`` and recorded in ``bench/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.search import SearchRequest
from tests.data.relevance.corpus import (
    HERE,
    Judgement,
    load_corpus,
    load_queries,
    rank_metrics,
    shows_passage,
)
from tests.data.relevance.synthetic import Planted, synthetic_corpus

#: Hand-written set: every query finds all its episodes today; allow no regression.
SMALL_MIN_RECALL_AT_10 = 1.0
SMALL_MIN_MRR = 0.95
#: Synthetic set (planted passages among thousands of distractors).
SYNTHETIC_HOURS = 6.0
#: Quarter-hour episodes: 24 of them, so the planted sentences sit in different episodes.
SYNTHETIC_EPISODE_HOURS = 0.25
SYNTHETIC_MIN_RECALL_AT_10 = 1.0
SYNTHETIC_MIN_MRR = 0.9


@pytest.fixture(scope="module")
def small_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveIndex]:
    """An index of the hand-written relevance corpus."""
    ix = ArchiveIndex.open(tmp_path_factory.mktemp("relevance") / "index")
    ix.index_many(load_corpus())
    yield ix
    ix.close()


def _load_planted(path: Path = HERE / "planted.tsv") -> list[tuple[Planted, Judgement]]:
    out = []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        episode, segment, sentence, query = line.split("\t")
        planted = Planted(episode, int(segment), sentence)
        out.append((planted, Judgement(query, (episode,), sentence)))
    return out


@pytest.fixture(scope="module")
def synthetic_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveIndex]:
    """An index of a few hours of synthetic speech with the planted sentences in place."""
    planted = tuple(p for p, _ in _load_planted())
    ix = ArchiveIndex.open(tmp_path_factory.mktemp("synthetic") / "index")
    corpus = synthetic_corpus(SYNTHETIC_HOURS, seed=7, planted=planted,
                              episode_hours=SYNTHETIC_EPISODE_HOURS)
    ix.index_many((f, e, t, None) for f, e, t in corpus)
    yield ix
    ix.close()


QUERIES = load_queries()


@pytest.mark.parametrize("judgement", QUERIES, ids=[j.query for j in QUERIES])
def test_each_query_finds_its_episodes_and_passage(small_index: ArchiveIndex,
                                                   judgement: Judgement) -> None:
    page = small_index.search(SearchRequest(q=judgement.query))
    ids = [h.episode_id for h in page.hits]
    assert set(judgement.relevant) <= set(ids), (judgement.query, ids)
    assert shows_passage(judgement, page), [p.text for h in page.hits for p in h.passages]


def test_small_set_recall_and_mrr_stay_above_thresholds(small_index: ArchiveIndex) -> None:
    pages = [(j, small_index.search(SearchRequest(q=j.query))) for j in QUERIES]
    scores = rank_metrics(pages)
    print(f"\nrelevance (hand-written, {len(pages)} queries): "
          f"recall@10={scores.recall_at_10:.3f} MRR={scores.mrr:.3f}")
    assert scores.recall_at_10 >= SMALL_MIN_RECALL_AT_10
    assert scores.mrr >= SMALL_MIN_MRR


def test_synthetic_set_recall_and_mrr_stay_above_thresholds(
        synthetic_index: ArchiveIndex) -> None:
    judged = [j for _, j in _load_planted()]
    pages = [(j, synthetic_index.search(SearchRequest(q=j.query))) for j in judged]
    scores = rank_metrics(pages)
    missing = [j.query for j, page in pages if not shows_passage(j, page)]
    _, segments = synthetic_index.doc_counts()
    print(f"\nrelevance (synthetic, {segments} segments, {len(pages)} queries): "
          f"recall@10={scores.recall_at_10:.3f} MRR={scores.mrr:.3f}")
    assert not missing, missing
    assert scores.recall_at_10 >= SYNTHETIC_MIN_RECALL_AT_10
    assert scores.mrr >= SYNTHETIC_MIN_MRR
