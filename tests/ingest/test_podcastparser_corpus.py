"""podcastparser's test feeds (70 of them, each with the JSON podcastparser expects) through
parse_feed, compared field by field with what podcastparser stores.

The corpus ships in podcastparser's source distribution, which pip downloads once into a cache
directory (``PODDARKIV_TEST_CACHE``, else the system's temporary directory), like feedparser's
(:mod:`tests.ingest.test_feedparser_corpus`). Without a package index the tests are skipped and
say why.

podcastparser reads each feed from ``file://tests/data/NAME.rss``; we cannot (``file:`` URLs are
refused everywhere), so the feeds are parsed at ``https://tests/data/NAME.rss`` and podcastparser's
``file://`` URLs are compared as ``https://`` ones. Its conventions for "nothing" (``0``, ``-1``,
``""``, ``application/octet-stream``) compare equal to our ``None`` and ``""``. Every value where
the two disagree must be explained by one of :data:`EXPLANATIONS` (a new, unexplained difference
fails the test), and ``docs/reliability.md`` has the agreement table this test prints
(``pytest -s``).
"""

from __future__ import annotations

import json
import tarfile
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from poddarkiv.archive.models import Episode, Feed
from poddarkiv.errors import FeedError
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed
from poddarkiv.ingest.text import clean_markup
from tests.ingest.sdist import sdist

PODCASTPARSER_SDIST = "podcastparser==0.6.11"
TARBALL = "podcastparser-0.6.11.tar.gz"
#: The sdist holds 70 feeds with their expected JSON.
MIN_CASES = 70
BASE = "https://tests/data/"

Explanation = Callable[[str, str, Any, Any], bool]
#: Why we differ from podcastparser, each a test over (case, field, theirs, ours).
EXPLANATIONS: dict[str, Explanation] = {
    "a feed without <title> is named by its address: podcastparser uses the file name, we "
    "use host and path": lambda case, field, theirs, ours: (
        field == "feed title" and theirs == case and ours == f"tests/data/{case}.rss"),
    "a relative permalink guid: podcastparser resolves it (and makes it the link); we keep "
    "the guid as written, so an episode's identity survives a feed move": lambda c, f, t, o: (
        (f == "guid" and "://" not in o and t.endswith("/" + o.lstrip("/")))
        or (f == "link" and o is None and str(t).startswith(BASE))),
    "the fuller text is the description: we take the longer of <description>/<summary> "
    "and content:encoded; podcastparser prefers content:encoded, and ignores Atom "
    "<summary>": lambda c, f, t, o: f == "description" and len(o) > len(t),
    "an item without a guid: our identity prefers the enclosure over the link (a link is "
    "often the show's home page)": lambda c, f, t, o: (
        f == "guid" and c == "no_guid" and o.endswith(".ogg")),
    "an episode's first audio or video enclosure is its audio; podcastparser takes the "
    "first enclosure, an image here": lambda c, f, t, o: (
        f == "enclosures" and t and not t[1].startswith("audio") and o[1].startswith("audio")),
    "only http(s) URLs are kept (episode::x is not one)": lambda c, f, t, o: (
        f == "link" and o is None and not str(t).startswith(("http:", "https:"))),
}


def _tarball() -> Path:
    return sdist(PODCASTPARSER_SDIST, TARBALL, "podcastparser-corpus")


def _corpus(tarball: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(name, feed bytes, expected JSON) for every feed under tests/data."""
    files: dict[str, bytes] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if member.isfile() and parts[1:3] == ["tests", "data"]:
                handle = archive.extractfile(member)
                if handle is not None:
                    files[parts[-1]] = handle.read()
    return [(name.removesuffix(".rss"), body,
             json.loads(files[name.removesuffix(".rss") + ".json"]))
            for name, body in sorted(files.items()) if name.endswith(".rss")]


# -- what each side says, in one form ---------------------------------------------------------


def _url(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return "https://" + value.removeprefix("file://") if value.startswith("file://") else value


def _text(value: object) -> str:
    return " ".join(clean_markup(value or "").split()) if isinstance(value, str) else ""


def _when(value: object) -> int | None:
    return int(value) if isinstance(value, int | float) and value else None


def _ours_when(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def _guid(episode: Episode) -> str:
    # Without a guid, our identity says where it came from ("enclosure:…"); podcastparser
    # uses the URL itself.
    for tag in ("enclosure:", "link:"):
        if episode.guid.startswith(tag):
            return episode.guid.removeprefix(tag)
    return _url(episode.guid) or episode.guid


def _enclosure(values: object) -> tuple[str | None, str, int | None] | None:
    if not isinstance(values, list) or not values:
        return None
    first = values[0]
    kind = first.get("mime_type") or ""
    size = first.get("file_size")
    return (_url(first.get("url")), "" if kind == "application/octet-stream" else kind,
            size if isinstance(size, int) and size > 0 else None)


def _ours_enclosure(episode: Episode) -> tuple[str | None, str, int | None] | None:
    enc = episode.enclosure
    if enc is None:
        return None
    return (enc.url, "" if enc.type == "application/octet-stream" else enc.type, enc.length)


Getter = Callable[[Any], object]
#: field → (podcastparser's value from its JSON, ours from our Episode)
EPISODE_FIELDS: dict[str, tuple[Getter, Getter]] = {
    "title": (lambda e: e.get("title") or "", lambda e: e.title),
    "guid": (lambda e: _url(e.get("guid")) or "", _guid),
    "link": (lambda e: _url(e.get("link")), lambda e: e.link),
    "description": (lambda e: _text(e.get("description")), lambda e: _text(e.description)),
    "published": (lambda e: _when(e.get("published")), lambda e: _ours_when(e.published)),
    "total_time": (lambda e: _when(e.get("total_time")),
                   lambda e: int(e.duration_s) if e.duration_s else None),
    "enclosures": (lambda e: _enclosure(e.get("enclosures")), _ours_enclosure),
    "episode_art_url": (lambda e: _url(e.get("episode_art_url")), lambda e: e.image),
    "chapters": (lambda e: [(int(c["start"]), c["title"]) for c in e.get("chapters") or []],
                 lambda e: [(int(c.start), c.title) for c in e.chapters]),
    "chapters_json_url": (lambda e: _url(e.get("chapters_json_url")), lambda e: e.chapters_url),
    "transcript_url": (lambda e: _url(e.get("transcript_url")),
                       lambda e: e.transcripts[0].url if e.transcripts else None),
    "persons": (lambda e: [p.get("name") for p in e.get("persons") or []],
                lambda e: [p.name for p in e.persons]),
    "number": (lambda e: e.get("number"), lambda e: e.number),
    "season": (lambda e: e.get("season"), lambda e: e.season),
}
FEED_FIELDS: dict[str, tuple[Getter, Getter]] = {
    "feed title": (lambda f: f.get("title") or "", lambda p: p.apply_to(
        Feed(id=p.feed_id, url=p.url)).title),
    "feed description": (lambda f: _text(f.get("description")), lambda p: _text(p.description)),
    "feed cover_url": (lambda f: _url(f.get("cover_url")), lambda p: p.image),
    "feed new_url": (lambda f: _url(f.get("new_url")), lambda p: p.new_feed_url),
    "feed language": (lambda f: f.get("language"), lambda p: p.language),
    "feed link": (lambda f: _url(f.get("link")), lambda p: p.link),
}
#: podcastparser fields poddarkiv does not keep (payments, iTunes categories, explicit flags…).
NOT_KEPT = frozenset({"payment_url", "description_html", "type", "itunes_author", "subtitle",
                      "explicit", "itunes_owner", "itunes_categories", "itunes_keywords",
                      "funding_url", "paged_feed_first", "paged_feed_next", "generator",
                      "import_prohibited"})


def _match(expected: dict[str, Any], ours: tuple[Episode, ...], used: set[str]
           ) -> Episode | None:
    """Our episode for one of podcastparser's: same enclosure, else same title."""
    want = _enclosure(expected.get("enclosures"))
    for same in (lambda e: want is not None and _ours_enclosure(e) == want,
                 lambda e: e.title == (expected.get("title") or "")):
        for episode in ours:
            if episode.id not in used and same(episode):
                used.add(episode.id)
                return episode
    return None


def _verdict(name: str, field: str, theirs: object, mine: object) -> str:
    """"agree", or the explanation of the difference, or "UNEXPLAINED: …"."""
    if theirs == mine:
        return "agree"
    for reason, explains in EXPLANATIONS.items():
        if explains(name, field, theirs, mine):
            return reason
    return f"UNEXPLAINED: {theirs!r} ≠ {mine!r}"


def compare(name: str, parsed: ParsedFeed, expected: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, verdict) for every field podcastparser's JSON names (see :func:`_verdict`)."""
    results: list[tuple[str, str]] = []

    def check(field: str, theirs: object, mine: object) -> None:
        results.append((field, _verdict(name, field, theirs, mine)))

    for field, (theirs, mine) in FEED_FIELDS.items():
        if field.removeprefix("feed ") in expected:
            check(field, theirs(expected), mine(parsed))
    used: set[str] = set()
    for item in expected.get("episodes", []):
        episode = _match(item, parsed.episodes, used)
        results.append(("episode found", "agree" if episode
                        else f"UNEXPLAINED: no episode {item['title']!r}"))
        if episode is None:
            continue
        for field, (theirs, mine) in EPISODE_FIELDS.items():
            if field in item:
                check(field, theirs(item), mine(episode))
    return results


def agreement(corpus: list[tuple[str, bytes, dict[str, Any]]]
              ) -> tuple[Counter[str], Counter[str], list[str]]:
    """Per field: how often compared, how often equal; and every difference with its
    verdict (``case: field: reason``)."""
    compared: Counter[str] = Counter()
    agreed: Counter[str] = Counter()
    differences: list[str] = []
    for name, body, expected in corpus:
        try:
            parsed = parse_feed(body, url=f"{BASE}{name}.rss")
        except FeedError as exc:
            compared["feed parsed"] += 1
            differences.append(f"{name}: feed parsed: UNEXPLAINED: {exc}")
            continue
        compared["feed parsed"] += 1
        agreed["feed parsed"] += 1
        for field, verdict in compare(name, parsed, expected):
            compared[field] += 1
            if verdict == "agree":
                agreed[field] += 1
            else:
                differences.append(f"{name}: {field}: {verdict}")
    return compared, agreed, differences


def table(compared: Counter[str], agreed: Counter[str]) -> str:
    """The agreement table as Markdown."""
    lines = ["| field | compared | agree | differ |", "| --- | ---: | ---: | ---: |"]
    for field, n in sorted(compared.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {field} | {n} | {agreed[field]} | {n - agreed[field]} |")
    return "\n".join(lines)


def test_podcastparser_corpus_agrees_field_by_field() -> None:
    corpus = _corpus(_tarball())
    assert len(corpus) >= MIN_CASES
    compared, agreed, differences = agreement(corpus)
    reasons = Counter(d.split(": ", 2)[2] for d in differences)
    print(f"\npodcastparser corpus: {len(corpus)} feeds\n{table(compared, agreed)}\n"
          + "\n".join(f"{n}x {reason}" for reason, n in reasons.most_common()))
    assert [d for d in differences if "UNEXPLAINED" in d] == []
    assert compared["episode found"] == agreed["episode found"] >= 50
