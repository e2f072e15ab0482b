"""feedparser's own test corpus (about 2,200 feeds, many of them broken on purpose) through
parse_feed: no crash, and no feed slow. It runs twice: as shipped, and with an enclosure added to
every item, so that the episode code (identity, dates, chapters, images…) reads every item too.
An exception inside one item is contained (the item is skipped with the reason "could not be
read"); here that counts as a crash all the same.

The corpus ships in feedparser's source distribution, which pip downloads once into a cache
directory (``PODDARKIV_TEST_CACHE``, else the system's temporary directory). The feeds are
read straight from the tarball in memory; nothing is extracted. Without a package index the
test is skipped and says why.
"""

from __future__ import annotations

import re
import tarfile
import time
from pathlib import Path

import pytest

from poddarkiv.errors import FeedError
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed
from tests.ingest.sdist import sdist

FEEDPARSER_SDIST = "feedparser==6.0.12"
TARBALL = "feedparser-6.0.12.tar.gz"
#: The sdist holds 2,275 test files; fewer means we are not reading what we think we are.
MIN_FEEDS = 2_000
#: No single feed may take longer than this to parse.
MAX_FEED_S = 2.0


def _tarball() -> Path:
    return sdist(FEEDPARSER_SDIST, TARBALL, "feedparser-corpus")


def _corpus(tarball: Path) -> list[tuple[str, bytes]]:
    feeds = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in archive.getmembers():
            parts = member.name.split("/")
            if member.isfile() and len(parts) > 2 and parts[1] == "tests" and not (
                    member.name.endswith(".py")):
                handle = archive.extractfile(member)
                if handle is not None:
                    feeds.append((member.name, handle.read()))
    return feeds


_ITEM = re.compile(rb"<item(\s[^<>]*)?>")
_ENTRY = re.compile(rb"<entry(\s[^<>]*)?>")


def with_enclosures(body: bytes) -> bytes:
    """``body`` with an audio enclosure at the start of every RSS item and Atom entry."""
    body = _ITEM.sub(lambda m: m.group(0) + b'<enclosure url="https://cdn.example/a.mp3" '
                     b'type="audio/mpeg" length="1000"/>', body)
    return _ENTRY.sub(lambda m: m.group(0) + b'<link rel="enclosure" type="audio/mpeg" '
                      b'href="https://cdn.example/a.mp3"/>', body)


def _contained(name: str, parsed: ParsedFeed) -> list[str]:
    return [f"{name}: item {s.title!r}: {s.reason}" for s in parsed.skipped
            if s.reason.startswith("could not be read")]


@pytest.mark.parametrize("enclosures", [False, True], ids=["as-shipped", "with-enclosures"])
def test_feedparser_corpus_parses_without_crashing(enclosures: bool) -> None:
    corpus = _corpus(_tarball())
    assert len(corpus) >= MIN_FEEDS
    if enclosures:
        corpus = [(name, with_enclosures(body)) for name, body in corpus]
    crashes: list[str] = []
    timings: list[tuple[float, str]] = []
    refused = with_episodes = episodes = 0
    for name, body in corpus:
        started = time.monotonic()
        try:
            parsed = parse_feed(body, url="https://feeds.example/feed.xml",
                                headers={"content-type": "application/xml"})
        except FeedError:
            refused += 1
        except Exception as exc:  # a crash is exactly what this test looks for
            crashes.append(f"{name}: {type(exc).__name__}: {exc}")
        else:
            with_episodes += bool(parsed.episodes)
            episodes += len(parsed.episodes)
            crashes += _contained(name, parsed)
        timings.append((time.monotonic() - started, name))
    timings.sort(reverse=True)
    print(f"\nfeedparser corpus ({'with' if enclosures else 'without'} added enclosures): "
          f"{len(corpus)} files, {refused} refused as not a feed, {with_episodes} with "
          f"{episodes} episodes, {len(crashes)} crashes; slowest "
          + ", ".join(f"{name.split('/', 1)[1]} {t * 1000:.0f} ms" for t, name in timings[:3]))
    assert crashes == []
    slow = [f"{name} {t:.2f} s" for t, name in timings if t > MAX_FEED_S]
    assert slow == []
