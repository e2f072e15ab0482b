"""Relevance on a larger hand-labelled set: queries as listeners and researchers type them.

``tests/data/relevance/listener/`` holds spoken-style Swedish transcripts on partnerships (IOP),
procurement (LOU, LUF, LOV), state aid, civil society, court cases and competition, plus a few
off-topic episodes sharing common words. ``listener_queries.tsv`` labels over a hundred queries by
hand, in four kinds (a ``# kind: NAME`` line starts each block):

* ``listener``: typed after hearing an episode; words said in neighbouring cues, other inflections,
  split or joined compounds, typos, acronyms for what was said in full;
* ``topical``: a researcher's topic query, every episode that discusses it labelled;
* ``phrase``: acronyms and expansions, quoted phrases, synonyms;
* ``hard``: rare words, names, digits for spelled-out numbers, exclusions (``-WORD``).

The queries were written and labelled from the transcripts, not from what search returns, so not
all of them pass: the thresholds sit just below what the current code reaches, and a change that
makes search worse fails here. ``pytest -s`` prints per-kind figures, a markdown table row, and
every query that misses an episode or its passage, with what came back instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.search import SearchPage, SearchRequest
from tests.data.relevance.corpus import (
    HERE,
    Judgement,
    load_corpus,
    load_queries,
    rank_metrics,
    shows_passage,
)

FOLDER = HERE / "listener"
QUERIES_TSV = HERE / "listener_queries.tsv"
KINDS = ("listener", "topical", "phrase", "hard")

#: Overall figures, just below what the current analysis reaches (see the module docstring).
MIN_RECALL_AT_10 = 0.99
MIN_MRR = 0.99
#: Share of queries with a passage whose passage is shown.
MIN_PASSAGE_SHOWN = 0.985
#: Per kind: (recall@10, MRR), just below today's figures.
MIN_BY_KIND: dict[str, tuple[float, float]] = {
    "listener": (0.985, 0.985),
    "topical": (0.99, 0.99),
    "phrase": (0.99, 0.99),
    "hard": (0.99, 0.99),
}


def _kinds(path: Path) -> list[str]:
    """The kind of every query line in the file, in order (the ``# kind:`` line above it)."""
    kind, out = "", []
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("# kind:"):
            kind = line.removeprefix("# kind:").strip()
        elif line.strip() and not line.startswith("#"):
            out.append(kind)
    return out


QUERIES = load_queries(QUERIES_TSV)
QUERY_KINDS = _kinds(QUERIES_TSV)


@pytest.fixture(scope="module")
def listener_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveIndex]:
    """An index of the listener corpus."""
    ix = ArchiveIndex.open(tmp_path_factory.mktemp("relevance-listener") / "index")
    ix.index_many(load_corpus(FOLDER))
    yield ix
    ix.close()


def test_the_set_is_as_large_as_the_issue_asks() -> None:
    episodes = load_corpus(FOLDER)
    assert len(episodes) >= 24
    assert all(25 <= len(t.segments) <= 60 for _, _, t, _ in episodes)
    stems = {e.id for _, e, _, _ in episodes}
    assert len(QUERIES) >= 105
    assert len(QUERY_KINDS) == len(QUERIES) and set(QUERY_KINDS) <= set(KINDS)
    assert QUERY_KINDS.count("listener") * 3 >= len(QUERIES)
    assert all(r in stems for j in QUERIES for r in j.relevant), "a label names no episode"


def _misses(j: Judgement, page: SearchPage) -> str | None:
    ids = [h.episode_id for h in page.hits[:10]]
    missing = [r for r in j.relevant if r not in ids]
    notes = []
    if missing:
        notes.append(f"missing {missing}")
    if not shows_passage(j, page):
        shown = [p.text for h in page.hits if h.episode_id in j.relevant for p in h.passages][:3]
        notes.append(f"passage {j.passage!r} not shown (shown: {shown})")
    if not notes:
        return None
    return f"  [{j.query}] " + "; ".join(notes) + f"; returned {ids}"


def test_listener_set_recall_and_mrr_stay_above_thresholds(
        listener_index: ArchiveIndex) -> None:
    pages = [(j, listener_index.search(SearchRequest(q=j.query))) for j in QUERIES]
    overall = rank_metrics(pages)
    with_passage = [(j, p) for j, p in pages if j.passage is not None]
    shown = sum(shows_passage(j, p) for j, p in with_passage) / len(with_passage)
    by_kind = {k: rank_metrics([jp for jp, kind in zip(pages, QUERY_KINDS, strict=True)
                                 if kind == k]) for k in KINDS}
    counts = {k: QUERY_KINDS.count(k) for k in KINDS}

    print(f"\nrelevance (listener set, {len(load_corpus(FOLDER))} episodes, "
          f"{len(pages)} queries): recall@10={overall.recall_at_10:.3f} MRR={overall.mrr:.3f} "
          f"passage shown={shown:.3f} ({len(with_passage)} with a passage)")
    for k in KINDS:
        print(f"  {k:<9} {counts[k]:>3} queries  recall@10={by_kind[k].recall_at_10:.3f} "
              f"MRR={by_kind[k].mrr:.3f}")
    print("| set | queries | recall@10 | MRR | passage shown | "
          + " | ".join(f"{k} R@10 / MRR" for k in KINDS) + " |")
    print("|---|---|---|---|---|" + "---|" * len(KINDS))
    print(f"| listener | {len(pages)} | {overall.recall_at_10:.3f} | {overall.mrr:.3f} | "
          f"{shown:.3f} | "
          + " | ".join(f"{by_kind[k].recall_at_10:.3f} / {by_kind[k].mrr:.3f}" for k in KINDS)
          + " |")
    for k in KINDS:
        failing = [m for (j, page), kind in zip(pages, QUERY_KINDS, strict=True)
                   if kind == k and (m := _misses(j, page))]
        print(f"failing {k} queries ({len(failing)}):")
        for line in failing:
            print(line)

    assert overall.recall_at_10 >= MIN_RECALL_AT_10
    assert overall.mrr >= MIN_MRR
    assert shown >= MIN_PASSAGE_SHOWN
    for k, (min_recall, min_mrr) in MIN_BY_KIND.items():
        assert by_kind[k].recall_at_10 >= min_recall, k
        assert by_kind[k].mrr >= min_mrr, k
