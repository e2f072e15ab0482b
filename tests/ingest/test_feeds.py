"""parse_feed(): one data file per case under tests/data/feeds, plus a few generated cases.

Each fixture starts with a header (in an XML comment, or as plain lines for non-XML bodies)::

    Description: what the case is about
    Headers: {"content-type": "text/html"}      (optional: HTTP response headers)
    Expect: len(episodes) == 2 and episodes[0].title == "…"
    Raises: FeedError                           (instead of Expect; "FeedError: text" also
                                                 asks that the message contain the text)

``Expect`` is a Python expression over the fields of the ParsedFeed (``title``, ``episodes``,
``problems``, ``skipped``, …), ``problem_text`` (all problems, one per line),
``skipped_count`` and ``len``. It is evaluated by a
small interpreter that allows only comparisons, boolean logic, attribute access, indexing,
literals, list comprehensions' simple cousin ``[x.attr for x in seq]`` and ``len``, so a
fixture file can never run code. A new regression test is one new file.
"""

from __future__ import annotations

import ast
import contextlib
import json
import operator
import re
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from poddarkiv.errors import FeedError
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed

FEEDS = Path(__file__).resolve().parents[1] / "data" / "feeds"
URL = "https://feeds.example/podcast.xml"
#: Every fixture, hostile ones included, parses in well under this.
MAX_PARSE_S = 2.0

_HEADER = re.compile(r"^(Description|Expect|Headers|Raises):\s*(.*)$", re.MULTILINE)
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}


def _evaluate(node: ast.AST, names: dict[str, Any]) -> Any:
    """Evaluate the small, side-effect-free subset of Python that Expect lines use."""
    ev = lambda n: _evaluate(n, names)  # noqa: E731
    if isinstance(node, ast.Expression):
        return ev(node.body)
    if isinstance(node, ast.BoolOp):
        values = (ev(v) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
        return not ev(node.operand) if isinstance(node.op, ast.Not) else -ev(node.operand)
    if isinstance(node, ast.Compare):
        left = ev(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = ev(right_node)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    if isinstance(node, ast.Name):
        return names[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute) and not node.attr.startswith("_"):
        return getattr(ev(node.value), node.attr)
    if isinstance(node, ast.Subscript):
        return ev(node.value)[ev(node.slice)]
    if isinstance(node, ast.List | ast.Tuple):
        return [ev(e) for e in node.elts] if isinstance(node, ast.List) else tuple(
            ev(e) for e in node.elts)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
        return len(ev(node.args[0]))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr in ("startswith", "endswith")):
        return getattr(ev(node.func.value), node.func.attr)(*(ev(a) for a in node.args))
    if isinstance(node, ast.ListComp) and len(node.generators) == 1:
        gen = node.generators[0]
        assert isinstance(gen.target, ast.Name) and not gen.ifs
        return [_evaluate(node.elt, {**names, gen.target.id: item}) for item in ev(gen.iter)]
    raise ValueError(f"not allowed in Expect: {ast.dump(node)[:80]}")


def _names(parsed: ParsedFeed) -> dict[str, Any]:
    names = {f.name: getattr(parsed, f.name) for f in fields(parsed)}
    names["problem_text"] = "\n".join(parsed.problems)
    names["skipped_count"] = parsed.skipped_count
    return names


def _header(body: bytes) -> dict[str, str]:
    text = body.decode("utf-16") if body[:2] in (b"\xff\xfe", b"\xfe\xff") else body.decode(
        "utf-8", "replace")
    return {m.group(1): m.group(2).strip() for m in _HEADER.finditer(text[:6000])}


def _fixtures() -> list[Path]:
    return sorted(FEEDS.glob("*.xml"))


def test_there_are_fixtures_and_each_has_a_header() -> None:
    assert len(_fixtures()) >= 20
    for path in _fixtures():
        header = _header(path.read_bytes())
        assert "Description" in header, path.name
        assert ("Expect" in header) != ("Raises" in header), path.name


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: p.stem)
def test_feed_fixture(path: Path) -> None:
    body = path.read_bytes()
    header = _header(body)
    headers = json.loads(header["Headers"]) if "Headers" in header else None
    started = time.monotonic()
    if "Raises" in header:
        kind, _sep, message = header["Raises"].partition(": ")
        assert kind == "FeedError"
        with pytest.raises(FeedError, match=re.escape(message) if message else None):
            parse_feed(body, url=URL, headers=headers)
        return
    parsed = parse_feed(body, url=URL, headers=headers)
    elapsed = time.monotonic() - started
    names = _names(parsed)
    assert _evaluate(ast.parse(header["Expect"], mode="eval"), names), (
        f"{path.name}: {header['Expect']}\n  parsed: {parsed}")
    assert elapsed < MAX_PARSE_S, f"{path.name} took {elapsed:.2f} s"


def test_the_evaluator_refuses_code() -> None:
    for source in ("__import__('os')", "open('/etc/passwd')", "episodes.__class__",
                   "(lambda: 1)()"):
        with pytest.raises((ValueError, KeyError)):
            _evaluate(ast.parse(source, mode="eval"), {"episodes": ()})


# -- generated cases ------------------------------------------------------------------------


def _feed(items: str, *, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{head}<rss version="2.0"><channel>'
            f"<title>T</title>{items}</channel></rss>").encode()


def test_a_body_that_looks_like_a_local_path_is_not_opened() -> None:
    for body in (b"/etc/passwd", b"file:///etc/passwd", b"http://127.0.0.1/feed"):
        with pytest.raises(FeedError):
            parse_feed(body, url=URL)


def test_one_large_entity_referenced_many_times_is_quick() -> None:
    # feedparser keeps "safe" entities like this one; expanded 5,000 times it is 500 MB.
    entity = "x" * 100_000
    head = f'<!DOCTYPE rss [<!ENTITY big "{entity}">]>'
    items = "<item><title>A</title><guid>1</guid><description>" + "&big;" * 5000 + (
        '</description><enclosure url="https://cdn.example/a.mp3" type="audio/mpeg"/></item>')
    started = time.monotonic()
    parsed = parse_feed(_feed(items, head=head), url=URL)
    assert time.monotonic() - started < MAX_PARSE_S
    assert len(parsed.episodes) == 1 and "x" * 1000 not in parsed.episodes[0].description


def test_an_element_with_fifty_thousand_attributes_is_quick_and_cut() -> None:
    # feedparser's strict parser looks up each attribute by a linear search: a minute before.
    junk = " ".join(f'a{n}="x"' for n in range(50_000))
    items = (f'<item><title>A</title><guid>1</guid><enclosure url="https://cdn.example/a.mp3" '
             f'type="audio/mpeg" {junk}/></item>'
             f'<item><title>B</title><guid>2</guid><enclosure {junk} '
             'url="https://cdn.example/b.mp3" type="audio/mpeg"/></item>')
    started = time.monotonic()
    parsed = parse_feed(_feed(items), url=URL)
    assert time.monotonic() - started < MAX_PARSE_S
    a, b = parsed.episodes
    assert a.enclosure is not None and a.enclosure.url == "https://cdn.example/a.mp3"
    assert b.enclosure is None and b.text_only  # its URL was past the cut, and that is said:
    assert "cut 2 element(s) to their first 64 attributes" in parsed.problems


def test_unclosed_items_and_cdata_do_not_make_the_scan_quadratic() -> None:
    body = _feed("<item><![CDATA[<!--" * 50_000)
    started = time.monotonic()
    with contextlib.suppress(FeedError):
        parse_feed(body, url=URL)
    assert time.monotonic() - started < 10 * MAX_PARSE_S


def test_episode_ids_are_stable_and_ignore_cdn_tokens() -> None:
    def parse(enclosure: str) -> ParsedFeed:
        return parse_feed(_feed(f'<item><title>A</title><enclosure url="{enclosure}" '
                                'type="audio/mpeg"/></item>'), url=URL)

    first = parse("https://cdn.example/a.mp3?token=1&amp;expires=2")
    again = parse("https://CDN.example/a.mp3?token=999")
    tracked = parse("https://dts.podtrac.com/redirect.mp3/cdn.example/a.mp3?x=1")
    assert first.episodes[0].id == again.episodes[0].id == tracked.episodes[0].id
    assert first.episodes[0].enclosure is not None
    assert first.episodes[0].enclosure.url.endswith("token=1&expires=2")  # kept for download


def test_feed_id_seeds_episode_ids() -> None:
    body = _feed('<item><guid>g</guid><enclosure url="https://c.example/a.mp3"/></item>')
    a = parse_feed(body, url=URL)
    b = parse_feed(body, url="https://moved.example/feed", feed_id=a.feed_id)
    other = parse_feed(body, url="https://other.example/feed")
    assert a.episodes[0].id == b.episodes[0].id != other.episodes[0].id


def test_apply_to_keeps_what_the_feed_had_when_the_parse_is_empty() -> None:
    from poddarkiv.archive.models import Feed

    parsed = parse_feed(_feed(""), url=URL)
    feed = Feed(id="f", url=URL, title="Old", author="Someone")
    updated = parsed.apply_to(feed)
    assert updated.title == "T" and updated.author == "Someone"
    untitled = parse_feed(b'<rss version="2.0"><channel></channel></rss>', url=URL + "?x=1")
    assert untitled.apply_to(Feed(id="f", url=URL)).title == "feeds.example/podcast.xml"
    assert untitled.apply_to(feed).title == "Old"


def test_items_past_the_cap_are_counted_as_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.ingest import feeds

    monkeypatch.setattr(feeds, "MAX_EPISODES", 5)
    items = "".join(f'<item><title>A{n}</title><guid>{n}</guid><enclosure url="https://c.example/'
                    f'{n}.mp3" type="audio/mpeg"/></item>' for n in range(8))
    parsed = parse_feed(_feed(items), url=URL)
    assert len(parsed.episodes) == 5 and parsed.item_count == 8 and parsed.skipped_count == 3
    assert "cap" in parsed.skipped[-1].reason and "only the first 5 of 8" in parsed.problems[-1]


def test_an_exception_in_one_item_skips_that_item_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv.ingest import feeds

    real = feeds.episode_from_entry

    def sometimes(entry: Any, item: Any, ctx: Any) -> Any:
        if entry.get("title") == "Trasig":
            raise KeyError("something nobody expected")
        return real(entry, item, ctx)

    monkeypatch.setattr(feeds, "episode_from_entry", sometimes)
    items = "".join(f'<item><title>{t}</title><guid>{t}</guid><enclosure url="https://c.example/'
                    f'{t}.mp3" type="audio/mpeg"/></item>' for t in ("Ett", "Trasig", "Tre"))
    parsed = parse_feed(_feed(items), url=URL)
    assert [e.title for e in parsed.episodes] == ["Ett", "Tre"]
    assert [(s.title, s.guid) for s in parsed.skipped] == [("Trasig", "Trasig")]
    assert parsed.skipped[0].reason.startswith("could not be read: KeyError")


def test_many_skipped_items_are_listed_then_counted() -> None:
    from poddarkiv.ingest.feeds import MAX_SKIPPED_LISTED

    items = "".join(f"<item><guid>{n}</guid></item>" for n in range(250))  # nothing to keep
    parsed = parse_feed(_feed(items), url=URL)
    assert len(parsed.skipped) == MAX_SKIPPED_LISTED and parsed.skipped_count == 250
    assert parsed.skipped[-1].count == 250 - MAX_SKIPPED_LISTED + 1


def test_many_problems_are_listed_then_counted() -> None:
    from poddarkiv.ingest.feeds import MAX_PROBLEMS

    items = "".join(f'<item><title>{n}</title><guid>{n}</guid><enclosure url="ftp://c.example/'
                    f'{n}.mp3" type="audio/mpeg"/></item>' for n in range(80))  # 80 refusals
    parsed = parse_feed(_feed(items), url=URL)
    assert len(parsed.problems) == MAX_PROBLEMS
    assert parsed.problems[-1] == f"{80 - MAX_PROBLEMS + 1} more problems (not listed one by one)"


def test_duplicate_guid_identities_are_stable_when_items_are_added() -> None:
    def item(n: int) -> str:
        return (f'<item><title>Del {n}</title><guid>samma</guid><enclosure '
                f'url="https://c.example/{n}.mp3" type="audio/mpeg"/></item>')

    before = parse_feed(_feed(item(1) + item(2)), url=URL)
    after = parse_feed(_feed(item(1) + item(2) + item(3)), url=URL)
    ids = {e.title: e.id for e in after.episodes}
    assert {e.title: e.id for e in before.episodes}.items() <= ids.items()
    assert len(set(ids.values())) == 3
