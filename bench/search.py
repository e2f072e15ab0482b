"""Search benchmark: poddarkiv's Whoosh index against SQLite FTS5 on the same synthetic corpus.

    .venv/bin/python bench/search.py --hours 100 1000      # sizes in hours of speech
    .venv/bin/python bench/search.py --hours 10 --profile  # cProfile of each query kind
    .venv/bin/python bench/search.py --cold                # no per-term memo between searches

For each size it builds the corpus (``tests/data/relevance/synthetic.py``, about 650 segments an
hour) into a fresh ``ArchiveIndex`` (one writer, one commit, as ``rebuild`` does) and into an
FTS5 table, then runs the same queries on both:

* single-term: a word from the rare tail (tens of segments per 100 hours);
* two-term: two mid-frequency words (both must occur);
* phrase: two adjacent words taken from the corpus;
* frequent-term: one of the five most frequent content words;
* near: two mid-frequency words said in neighbouring segments of one episode and never together
  in one segment, so only the cross-segment tier finds them (FTS5 answers them as two-term,
  finding segments with both words, usually none: its figure is for scale only).

Whoosh answers through ``ArchiveIndex.search`` (parse, analyse, collect, group per episode,
page of ten; with or without highlighted snippets). FTS5 answers the same question: rows by
``bm25`` (top 1,000), grouped per episode in Python, passages of the first ten episodes read,
with ``highlight()`` when highlighting. It reports p50/p95 in milliseconds, build throughput,
and the time until a new one-hour episode is searchable (index it, search it).
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import os
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

print = functools.partial(print, flush=True)  # progress shows as it happens
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from poddarkiv.archive.index import ArchiveIndex  # noqa: E402
from poddarkiv.archive.index.postings import cache_bytes, packed_bytes  # noqa: E402
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript  # noqa: E402
from poddarkiv.archive.search import SearchRequest  # noqa: E402
from tests.data.relevance.synthetic import (  # noqa: E402
    SEGMENTS_PER_HOUR,
    rare_words,
    synthetic_corpus,
    vocabulary,
)

CORPUS_SEED = 11
QUERIES_PER_KIND = 40
REPEATS = 3
FTS_ROWS = 1_000
PAGE = 10
PASSAGES = 3
Item = tuple[Feed, Episode, Transcript]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def make_queries(items: list[Item], *, corpus_seed: int, seed: int) -> dict[str, list[str]]:
    """The same query kinds for every engine, from the corpus's own vocabulary."""
    gen = random.Random(corpus_seed)  # replay the generator: ranked words, then the rare tail
    words = vocabulary(gen)
    rare = set(rare_words(gen))
    rng = random.Random(seed)
    segs = [s.text for _, _, t in items[:50] for s in t.segments]
    mid = set(words[20:400])
    near = []
    while len(near) < QUERIES_PER_KIND:
        _, _, t = rng.choice(items[:50])
        i = rng.randrange(len(t.segments) - 1)
        a = [w for w in t.segments[i].text.lower().rstrip(".").split() if w in mid]
        b = [w for w in t.segments[i + 1].text.lower().rstrip(".").split() if w in mid]
        a = [w for w in a if w not in b]
        b = [w for w in b if w not in a]
        if a and b:
            near.append(f"{rng.choice(a)} {rng.choice(b)}")
    tail = sorted({w for s in segs for w in s.lower().rstrip(".").split() if w in rare})
    phrases = []
    while len(phrases) < QUERIES_PER_KIND:
        toks = rng.choice(segs).lower().rstrip(".").split()
        i = rng.randrange(len(toks) - 1)
        if len(toks[i]) > 3 and len(toks[i + 1]) > 3:
            phrases.append(f'"{toks[i]} {toks[i + 1]}"')
    return {
        "single-term": rng.sample(tail, QUERIES_PER_KIND),
        "two-term": [f"{a} {b}" for a, b in (rng.sample(words[20:200], 2)
                                             for _ in range(QUERIES_PER_KIND))],
        "phrase": phrases,
        "frequent-term": [words[i % 5] for i in range(QUERIES_PER_KIND)],
        "near": near,
    }


# -- FTS5 --------------------------------------------------------------------------------------


def fts_build(items: Iterable[Item], path: Path) -> tuple[sqlite3.Connection, int, float]:
    conn = sqlite3.connect(path)
    conn.execute("CREATE VIRTUAL TABLE seg USING fts5(episode_id UNINDEXED, start UNINDEXED, "
                 "text, tokenize='unicode61 remove_diacritics 2')")
    t0 = time.perf_counter()
    n = 0
    with conn:
        for _, ep, tr in items:
            conn.executemany("INSERT INTO seg VALUES (?, ?, ?)",
                             [(ep.id, s.start, s.text) for s in tr.segments])
            n += len(tr.segments)
    return conn, n, time.perf_counter() - t0


def fts_search(conn: sqlite3.Connection, q: str, highlight: bool) -> int:
    match = q if q.startswith('"') else " AND ".join(q.split())
    rows = conn.execute("SELECT rowid, episode_id FROM seg WHERE seg MATCH ? ORDER BY rank "
                        "LIMIT ?", (match, FTS_ROWS)).fetchall()
    groups: dict[str, list[int]] = {}
    for rowid, eid in rows:
        if len(groups.setdefault(eid, [])) < PASSAGES:
            groups[eid].append(rowid)
    shown = [r for rids in list(groups.values())[:PAGE] for r in rids]
    if shown:
        col = "highlight(seg, 2, '<mark>', '</mark>')" if highlight else "text"
        marks = ",".join("?" * len(shown))
        conn.execute(f"SELECT start, {col} FROM seg WHERE seg MATCH ? AND rowid IN ({marks})",
                     (match, *shown)).fetchall()
    return len(groups)


# -- measuring ---------------------------------------------------------------------------------


def timed(fn: Callable[[str], object], queries: list[str], repeats: int,
          before_each: Callable[[], None] = lambda: None) -> tuple[float, float]:
    for q in queries[:5]:
        fn(q)  # warm caches, as a running site would be
    times = []
    for _ in range(repeats):
        for q in queries:
            before_each()
            t0 = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t0) * 1000)
    return percentile(times, 50), percentile(times, 95)


def fresh_hour(n: int) -> Item:
    feed = Feed(id="feed0", url="http://example.invalid/0.xml", title="Konkurrenten")
    ep = Episode(id=f"new{n}", feed_id=feed.id, guid=f"new{n}", title="Nytt avsnitt")
    segs = tuple(Segment(i * 5.5, i * 5.5 + 5.5, f"Ett nytt avsnitt om nyckelordet zyxbrant{n}"
                         f" och mening nummer {i}.") for i in range(SEGMENTS_PER_HOUR))
    return feed, ep, Transcript(ep.id, "whisper", "sv", segs)


def run(hours: float, *, profile: bool, per_kind: int, repeats: int, cold: bool) -> None:
    t0 = time.perf_counter()
    items = list(synthetic_corpus(hours, seed=CORPUS_SEED))
    n_segments = sum(len(t.segments) for _, _, t in items)
    print(f"\n## {hours:g} hours: {len(items)} episodes, {n_segments} segments "
          f"(generated in {time.perf_counter() - t0:.0f} s)")
    queries = {k: v[:per_kind]
               for k, v in make_queries(items, corpus_seed=CORPUS_SEED, seed=5).items()}
    with tempfile.TemporaryDirectory() as tmp:
        ix = ArchiveIndex.open(Path(tmp) / "index")
        t0 = time.perf_counter()
        ix.index_many((f, e, t, None) for f, e, t in items)
        build_s = time.perf_counter() - t0
        conn, _, fts_s = fts_build(items, Path(tmp) / "fts.sqlite")
        del items
        t0 = time.perf_counter()
        warmed = ix.warm()
        print(f"warm-up: {warmed} frequent terms decoded in {time.perf_counter() - t0:.1f} s, "
              f"decoded postings and positions held: {cache_bytes() / 2**20:.0f} MiB (the "
              f"rarer terms packed: {packed_bytes() / 2**20:.1f} MiB)")
        size = sum(p.stat().st_size for p in (Path(tmp) / "index").rglob("*") if p.is_file())
        print(f"build: whoosh {n_segments / build_s:,.0f} segments/s ({build_s:.0f} s, "
              f"{size / 2**20:.0f} MiB); fts5 {n_segments / fts_s:,.0f} segments/s "
              f"({fts_s:.1f} s); ratio {fts_s / build_s:.2f}x")
        _compare(ix, conn, queries, repeats=repeats, cold=cold)
        if profile:
            _profile(ix, queries)
        _new_hours(ix)
        ix.close()
        conn.close()


def _compare(ix: ArchiveIndex, conn: sqlite3.Connection, queries: dict[str, list[str]], *,
             repeats: int, cold: bool) -> None:
    """One table row per query kind and highlighting, both engines timed in the same run."""
    print("\n| query | highlight | poddarkiv p50 | poddarkiv p95 | fts5 p50 | fts5 p95 | "
          "p50 ratio | p95 ratio |\n| --- | --- | --- | --- | --- | --- | --- | --- |")
    for kind, qs in queries.items():
        for hl in (False, True):
            # --cold: each search scores and groups its words afresh (the view's per-term
            # memo is cleared; decoded postings stay), as the first search of a word after
            # a commit does. Without it, words repeated across the runs are remembered.
            w50, w95 = timed(lambda q, hl=hl: ix.search(SearchRequest(q=q, highlight=hl)),
                             qs, repeats, ix._decoded.forget_memo if cold else lambda: None)
            f50, f95 = timed(lambda q, hl=hl: fts_search(conn, q, hl), qs, repeats)
            print(f"| {kind} | {'yes' if hl else 'no'} | {_ms(w50)} | {_ms(w95)} | "
                  f"{_ms(f50)} | {_ms(f95)} | {w50 / f50:.2f}x | {w95 / f95:.2f}x |")


def _ms(value: float) -> str:
    """Milliseconds, with two decimals below one (a single word takes a fifth of one)."""
    return f"{value:.2f}" if value < 1 else f"{value:.1f}"


def _profile(ix: ArchiveIndex, queries: dict[str, list[str]]) -> None:
    for kind, qs in queries.items():
        prof = cProfile.Profile()
        prof.enable()
        for q in qs:
            ix.search(SearchRequest(q=q))
        prof.disable()
        print(f"\n### cProfile: {kind}")
        pstats.Stats(prof).sort_stats("tottime").print_stats(8)


def _new_hours(ix: ArchiveIndex) -> None:
    """How soon a new one-hour episode is found after it is indexed."""
    for n in range(3):
        feed, ep, tr = fresh_hour(n)
        t0 = time.perf_counter()
        ix.index_episode(feed, ep, tr)
        found = ix.search(SearchRequest(q=f"zyxbrant{n}")).total_episodes
        print(f"new one-hour episode searchable after {time.perf_counter() - t0:.2f} s "
              f"(found: {found == 1})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, nargs="+", default=[100.0, 1000.0])
    parser.add_argument("--profile", action="store_true", help="cProfile each query kind")
    parser.add_argument("--queries", type=int, default=QUERIES_PER_KIND, help="per kind")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--cold", action="store_true",
                        help="clear the per-term memo before each search (first-search times)")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{args.queries} queries per kind x {args.repeats}, {os.cpu_count()} CPUs, "
          f"per-term memo {'cleared before each search' if args.cold else 'kept'}")
    for hours in args.hours:
        run(hours, profile=args.profile, per_kind=args.queries, repeats=args.repeats,
            cold=args.cold)


if __name__ == "__main__":
    main()
