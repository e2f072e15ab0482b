"""Searching: the query language, filters, sorting, paging, snippets and hostile input."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poddarkiv.archive.index import ArchiveIndex, matching
from poddarkiv.archive.index.tiers import MAX_PASSAGES
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.query.fuzzy import near_words
from poddarkiv.archive.query.parse import MAX_CLAUSES, MAX_QUERY_CHARS, parse_query
from poddarkiv.archive.search import MAX_PAGE, MAX_PER_PAGE, SearchPage, SearchRequest
from tests.data.relevance.corpus import load_corpus
from tests.data.relevance.synthetic import synthetic_corpus

#: Hostile queries must answer within this, on an index of a few hours of speech.
HOSTILE_LIMIT_S = 1.0


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ArchiveIndex]:
    """The hand-written corpus plus two hours of synthetic speech."""
    ix = ArchiveIndex.open(tmp_path_factory.mktemp("search") / "index")
    ix.index_many(load_corpus())
    ix.index_many((f, e, t, None) for f, e, t in synthetic_corpus(2.0, seed=3))
    html_feed = Feed(id="feed-html", url="http://example.invalid/h.xml", title="Test")
    ep = Episode(id="html", feed_id="feed-html", guid="html", title="Skript")
    text = 'Taggen <script>alert("x")</script> och en hjärtlig hälsning & annat.'
    ix.index_episode(html_feed, ep, Transcript("html", "whisper", "sv",
                                                (Segment(12.5, 17.0, text),)))
    yield ix
    ix.close()


def search(ix: ArchiveIndex, q: str, **kw: object) -> SearchPage:
    return ix.search(SearchRequest(q=q, **kw))  # type: ignore[arg-type]


def ids(page: SearchPage) -> list[str]:
    return [h.episode_id for h in page.hits]


# -- request parameters -----------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "page"), [
    ("2", 2), ("abc", 1), ("-1", 1), ("0", 1), ("1e3", 1), ("9" * 5000, 1), ("", 1),
    (" 3 ", 3), (str(MAX_PAGE + 5), MAX_PAGE), ("2.5", 1), ("٣", 1),
])
def test_from_params_clamps_the_page(raw: str, page: int) -> None:
    assert SearchRequest.from_params({"q": "x", "page": raw}).page == page


def test_from_params_reads_every_option() -> None:
    req = SearchRequest.from_params({
        "q": "iop", "per_page": "500", "podcast": "feed-x", "theme": "iop",
        "from": "2024-01-01", "to": "2024-12-31", "sort": "newest", "highlight": "0"})
    assert req == SearchRequest(q="iop", per_page=MAX_PER_PAGE, podcast="feed-x", theme="iop",
                                date_from=date(2024, 1, 1), date_to=date(2024, 12, 31),
                                sort="newest", highlight=False)
    assert SearchRequest.from_params(req.to_params()) == req


@given(st.dictionaries(st.sampled_from(["q", "page", "per_page", "sort", "from", "to",
                                        "podcast", "theme", "highlight"]), st.text()))
@settings(max_examples=200, deadline=None)
def test_from_params_never_raises(params: dict[str, str]) -> None:
    req = SearchRequest.from_params(params)
    assert 1 <= req.page <= MAX_PAGE and 1 <= req.per_page <= MAX_PER_PAGE
    assert req.sort in ("relevance", "newest", "oldest")


# -- the query language -----------------------------------------------------------------------


def test_parser_reads_words_phrases_or_exclusions_and_prefixes() -> None:
    p = parse_query('partnerskap "inte det" iop OR lou -statsstöd upphandl*')
    kinds = [[(c.kind, c.text) for c in g] for g in p.groups]
    assert kinds == [[("word", "partnerskap")], [("phrase", "inte det")],
                     [("word", "iop"), ("word", "lou")], [("prefix", "upphandl")]]
    assert [c.text for c in p.excluded] == ["statsstöd"]
    assert p.notes == ()


@pytest.mark.parametrize("q", ["title:partnerskap", "[a TO z]", "partner?kap", "(partnerskap)",
                               "partnerskap^10", "partnerskap~2", "feed_id:*"])
def test_whoosh_syntax_is_plain_text(q: str) -> None:
    assert all(c.kind in ("word", "phrase") for c in parse_query(q).clauses)


def test_short_prefixes_and_bare_wildcards_are_refused_kindly() -> None:
    assert parse_query("*").empty and parse_query("*").notes
    short = parse_query("pa*")
    assert short.clauses[0].kind == "word"
    assert short.notes[0].code == "prefix_too_short"
    assert (short.notes[0].get("prefix"), short.notes[0].get("min_chars")) == ("pa", 3)


def test_long_queries_and_many_words_are_cut_with_a_note() -> None:
    long = parse_query("partnerskap " * 100)
    assert len(long.clauses) == MAX_CLAUSES
    assert {(n.code, n.params) for n in long.notes} == {
        ("query_truncated", (("max_chars", MAX_QUERY_CHARS),)),
        ("too_many_words", (("max_words", MAX_CLAUSES),))}


def test_only_exclusions_is_a_friendly_message(index: ArchiveIndex) -> None:
    page = search(index, "-partnerskap")
    assert page.hits == () and [n.code for n in page.notes] == ["only_excluded"]


# -- matching ---------------------------------------------------------------------------------


def test_phrase_of_stop_words_matches(index: ArchiveIndex) -> None:
    assert ids(search(index, '"inte det"'))[:1] == ["sma-foreningar"]


def test_stop_words_only_query_is_searched_as_a_phrase(index: ArchiveIndex) -> None:
    assert "fotbollsklubben" in ids(search(index, "och så"))


def test_exclusion_removes_passages(index: ArchiveIndex) -> None:
    with_ = search(index, "kommunen partnerskap")
    without = search(index, "kommunen partnerskap -alingsås")
    assert "rattsfall-alingsas" in ids(with_)
    assert all("alingsås" not in p.text.lower() for h in without.hits for p in h.passages)


def test_or_finds_either(index: ArchiveIndex) -> None:
    assert {"klimatkommunen", "hemtjanst-lov"} <= set(ids(search(index, "biogas OR hemtjänst")))


def test_idé_and_ide_find_the_same(index: ArchiveIndex) -> None:
    assert ids(search(index, "idéburet")) == ids(search(index, "ideburet"))


def test_title_only_match_is_metadata_and_still_shows_passages(index: ArchiveIndex) -> None:
    hit = next(h for h in search(index, "hemtjänst valfrihet").hits
               if h.episode_id == "hemtjanst-lov")
    assert hit.matched_metadata
    assert hit.passages


def test_typo_is_matched_fuzzily_and_suggested(index: ArchiveIndex) -> None:
    page = search(index, "konkurensverket")
    assert page.fuzzy
    assert page.suggestion == "konkurrensverket"
    assert "rattsfall-alingsas" in ids(page)


def test_the_suggestion_is_the_close_word_that_more_episodes_use(tmp_path: Path) -> None:
    feed = Feed(id="f", url="http://example.invalid/f.xml", title="Test")
    lines = {"a": "Avtalen gäller i år.", "b": "Avtalen ändras nu.", "c": "Avtalen sägs upp.",
             "d": "Avtalet gäller i år. Avtalet igen. Avtalet en tredje gång."}
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many((feed, Episode(id=eid, feed_id="f", guid=eid, title="Avsnitt"),
                       Transcript(eid, "whisper", "sv", (Segment(0.0, 5.0, line),)), None)
                      for eid, line in lines.items())
        assert search(ix, "avtalxy").suggestion == "avtalen"  # two edits from both words


def test_no_suggestion_when_the_query_finds_plenty(index: ArchiveIndex) -> None:
    assert search(index, "partnerskap").suggestion is None


# -- results ----------------------------------------------------------------------------------


def test_hits_are_grouped_per_episode_with_best_passages_first(index: ArchiveIndex) -> None:
    page = search(index, "partnerskap")
    assert len(set(ids(page))) == len(page.hits)
    for hit in page.hits:
        scores = [p.score for p in hit.passages if p.kind == "transcript"]
        assert scores == sorted(scores, reverse=True)
        assert 1 <= len(hit.passages) <= 3


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest"])
def test_every_episode_is_found_when_its_passages_alone_would_fill_the_collection(
        tmp_path: Path, sort: str) -> None:
    """Whoosh's collectors kept at most 1,000 documents, so one episode's segments could crowd
    others out; matching now sees every document, and shows MAX_PASSAGES per episode."""
    per_episode = 40
    count = 1_000 // per_episode + 5
    feed = Feed(id="f", url="http://example.invalid/f.xml", title="Samma ord")
    items = []
    for n in range(count):
        ep = Episode(id=f"e{n:02d}", feed_id="f", guid=str(n), title=f"Del {n}",
                     published=datetime(2024, 1, 1) + timedelta(days=n))
        segs = tuple(Segment(i * 2.0, i * 2.0 + 1.8, f"Om partnerskap, mening {i}.")
                     for i in range(per_episode))
        items.append((feed, ep, Transcript(ep.id, "whisper", "sv", segs), None))
    with ArchiveIndex.open(tmp_path / "index") as ix:
        ix.index_many(items)
        page = search(ix, "partnerskap", sort=sort, per_page=MAX_PER_PAGE)
    assert page.total_episodes == count
    assert all(len(hit.passages) == MAX_PASSAGES for hit in page.hits)
    if sort != "relevance":
        days = [hit.published for hit in page.hits]
        assert days == sorted(days, reverse=sort == "newest")  # type: ignore[type-var]


def test_a_search_past_its_time_limit_answers_with_a_note(
        index: ArchiveIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "TIME_LIMIT_S", -1.0)  # out of time at once
    page = search(index, "partnerskap")
    assert "timed_out" in [n.code for n in page.notes]
    assert page.hits == ()


def test_snippets_mark_matches_with_their_time_as_spans_of_plain_text(
        index: ArchiveIndex) -> None:
    (hit,) = search(index, "hjärtlig").hits
    (p,) = hit.passages
    assert (p.start, p.end) == (12.5, 17.0)
    assert p.snippet.marked == ("hjärtlig",)
    # The text is the segment's own: markup in it is text, escaped only where it is shown.
    assert '<script>alert("x")</script>' in p.snippet.text and "&" in p.snippet.text


def test_highlight_off_gives_snippets_without_marks(index: ArchiveIndex) -> None:
    (hit,) = search(index, "hjärtlig", highlight=False).hits
    assert hit.passages[0].snippet.marks == ()


def test_compound_parts_are_marked(index: ArchiveIndex) -> None:
    page = search(index, "regler")
    marked = {w for h in page.hits for p in h.passages for w in p.snippet.marked}
    assert "upphandlingsreglerna" in marked


def test_filters_by_podcast_theme_and_date(index: ArchiveIndex) -> None:
    assert set(ids(search(index, "kommun", podcast="feed-kommunpodden"))) <= {
        "skolans-datorer", "hemtjanst-lov", "klimatkommunen"}
    assert ids(search(index, "partnerskap", theme="rattsfall")) == ["rattsfall-alingsas"]
    in_2023 = search(index, "kommunen", date_from=date(2023, 1, 1), date_to=date(2023, 12, 31))
    assert set(ids(in_2023)) <= {"skolans-datorer", "fotbollsklubben"} and in_2023.hits


def test_sorting_by_date(index: ArchiveIndex) -> None:
    def dates(sort: str) -> list[object]:
        return [h.published for h in search(index, "partnerskap", sort=sort).hits]
    assert dates("newest") == sorted(dates("newest"), reverse=True)  # type: ignore[type-var]
    assert dates("oldest") == sorted(dates("oldest"))  # type: ignore[type-var]


def test_pages_partition_the_results(index: ArchiveIndex) -> None:
    first = search(index, "kommun", per_page=5)
    second = search(index, "kommun", per_page=5, page=2)
    assert first.total_episodes > 5 and first.pages >= 2
    assert not set(ids(first)) & set(ids(second))
    beyond = search(index, "kommun", per_page=5, page=MAX_PAGE)
    assert beyond.page == first.pages  # clamped to the last page


def test_theme_counts_count_matching_episodes(index: ArchiveIndex) -> None:
    counts = search(index, "partnerskap").theme_counts
    assert counts["iop"] >= 4 and counts["rattsfall"] == 1


# -- hostile input ----------------------------------------------------------------------------


HOSTILE = [
    "*", "?????*", "a*", "*a*", "partnerskap" * 500, '"' * 300, "-" * 300, "OR " * 200,
    " ".join(f"ord{i}*" for i in range(200)), "title:* OR feed_id:*", "[* TO *]",
    "\x00\x01\x02", "\U0001d52d\U0001d51e\U0001d52f", "ö" * 5000, '"och så" ' * 50,
    "kom* mun* par* upp*",
    "<script>alert(1)</script>", "%s%n%x", "' OR 1=1 --",
]


@pytest.mark.parametrize("q", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_queries_answer_quickly_without_raising(index: ArchiveIndex, q: str) -> None:
    t0 = time.perf_counter()
    page = search(index, q)
    assert time.perf_counter() - t0 < HOSTILE_LIMIT_S
    assert isinstance(page, SearchPage)


@given(st.text(max_size=300))
@settings(max_examples=150, deadline=None)
def test_any_text_is_a_query(q: str) -> None:
    parse_query(q)  # never raises


def test_any_text_searches_without_raising(index: ArchiveIndex) -> None:
    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=80))
    @settings(max_examples=60, deadline=None)
    def run(q: str) -> None:
        assert isinstance(search(index, q), SearchPage)
    run()


def test_search_results_on_an_empty_index(tmp_path: Path) -> None:
    with ArchiveIndex.open(tmp_path / "index") as ix:
        page = search(ix, "partnerskap")
        assert (page.hits, page.total_episodes, page.pages) == ((), 0, 0)


def test_requests_built_in_code_are_clamped_too(index: ArchiveIndex) -> None:
    page = index.search(SearchRequest(q="kommun", per_page=0, page=-3))
    assert page.page == 1 and len(page.hits) == 1


def test_near_words_finds_typos_in_any_letter() -> None:
    vocabulary = ["partnerskap", "partnerskapet", "upphandling", "konkurrensverket", "stöd"]
    assert near_words(vocabulary, "patnerskap", 1) == [(1, "partnerskap")]
    assert near_words(vocabulary, "bartnerskap", 1) == [(1, "partnerskap")]  # the first letter
    assert near_words(vocabulary, "uphpandling", 1) == [(1, "upphandling")]  # two swapped
    assert near_words(vocabulary, "konkurensverket", 2)[0] == (1, "konkurrensverket")
    assert near_words(vocabulary, "stöd", 1) == []  # the word itself is not "near"
    assert near_words(vocabulary, "xyz", 2) == []  # too short to guess
