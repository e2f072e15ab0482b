"""Hostile feeds: parsed quickly, never crashing, and nothing unsafe comes out of them.

Each case under ``tests/data/hostile/feeds/`` is a body with a sidecar ``<name>.expect``::

    Description: what the body is
    Outcome: FeedError | any | episodes=N | episodes>=N
    Headers: {"content-type": "…"}        (optional: the HTTP response headers)
    Absent: text                          (optional: appears in no stored string)
    Contains: text                        (optional: appears in some stored string)

Whatever the outcome, every case must also keep the promises of :func:`unsafe_strings`: no NUL,
control characters or lone surrogates in any text, no URL but ``http``/``https``, episode ids
safe as file names, and parsing within :data:`MAX_PARSE_S`.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from poddarkiv.archive.index import ArchiveIndex
from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.store import Catalogue, DataDir
from poddarkiv.config import Settings
from poddarkiv.errors import FeedError
from poddarkiv.ingest.client import make_client, policy_for
from poddarkiv.ingest.feeds import ParsedFeed, parse_feed
from poddarkiv.ingest.refresh import refresh_feed
from poddarkiv.site.app import create_app
from tests.httpserver import LoopbackServer, conditional, reply

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile" / "feeds"
URL = "https://feeds.example/hostile.xml"
MAX_PARSE_S = 2.0

_HEADER = re.compile(r"^(Description|Outcome|Headers|Absent|Contains):\s*(.*)$", re.MULTILINE)
#: C0 controls but tab, newline and carriage return; DEL and C1; lone surrogates; non-characters.
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_URL_FIELDS = frozenset({"url", "link", "image", "href", "img", "chapters_url", "new_feed_url"})


def expectation(path: Path) -> dict[str, str]:
    """The sidecar's fields."""
    text = path.with_name(path.name + ".expect").read_text("utf-8")
    return {m.group(1): m.group(2).strip() for m in _HEADER.finditer(text)}


def cases() -> list[Path]:
    """Every body that has a sidecar."""
    return sorted(p.with_suffix("") for p in CORPUS.glob("*.expect"))


def _strings(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """Every (field name, string) inside a record, however deeply nested."""
    if isinstance(value, str):
        yield name, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _strings(getattr(value, f.name), f.name)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item, name)


def unsafe_strings(parsed: ParsedFeed) -> list[str]:
    """Every stored string that breaks a promise (empty when all is well)."""
    problems = []
    for name, text in _strings(parsed):
        if name == "problems":
            continue  # our own notes about the feed, never shown as content
        if _BAD_CHARS.search(text):
            problems.append(f"{name}: forbidden character in {text[:60]!r}")
        if name in _URL_FIELDS and text and not text.lower().startswith(("http://", "https://")):
            problems.append(f"{name}: not an http(s) URL: {text[:60]!r}")
    for episode in parsed.episodes:
        if not _SAFE_ID.fullmatch(episode.id) or ".." in episode.id:
            problems.append(f"episode id unsafe as a file name: {episode.id!r}")
    return problems


def stored_text(parsed: ParsedFeed) -> str:
    return "\n".join(text for name, text in _strings(parsed) if name != "problems")


def _check_outcome(outcome: str, parsed: ParsedFeed) -> None:
    count = len(parsed.episodes)
    if outcome.startswith("episodes>="):
        assert count >= int(outcome.removeprefix("episodes>=")), parsed.problems
    elif outcome.startswith("episodes="):
        assert count == int(outcome.removeprefix("episodes=")), parsed.problems
    else:
        assert outcome == "any", outcome


def test_the_corpus_covers_what_the_issue_lists() -> None:
    names = {p.stem for p in cases()}
    assert {"billion-laughs", "huge-entity", "external-entity", "forbidden-char-refs",
            "nul-and-controls", "latin1-declared-utf8", "truncated", "html-page",
            "duplicate-guids", "missing-guids", "absurd-enclosure-lengths", "hostile-urls",
            "hostile-titles"} <= names
    for path in cases():
        assert path.exists() and expectation(path).get("Description"), path.name


@pytest.mark.parametrize("path", cases(), ids=lambda p: p.name)
def test_hostile_feed(path: Path) -> None:
    expect = expectation(path)
    headers = json.loads(expect["Headers"]) if "Headers" in expect else None
    started = time.monotonic()
    try:
        parsed = parse_feed(path.read_bytes(), url=URL, headers=headers)
    except FeedError:
        assert expect["Outcome"] == "FeedError", "refused a body it should have read"
        assert time.monotonic() - started < MAX_PARSE_S
        return
    assert time.monotonic() - started < MAX_PARSE_S
    assert expect["Outcome"] != "FeedError", f"read {len(parsed.episodes)} episodes"
    _check_outcome(expect["Outcome"], parsed)
    assert unsafe_strings(parsed) == []
    text = stored_text(parsed)
    if "Absent" in expect:
        assert expect["Absent"] not in text
    if "Contains" in expect:
        assert expect["Contains"] in text


# -- the whole corpus through the archive and the site ----------------------------------------

class _LiveMarkup(HTMLParser):
    """Finds markup a browser would run: event handlers, script URLs, scripts not our own."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            url = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in ("href", "src", "action", "formaction") and url.startswith(
                    ("javascript:", "data:text/html", "vbscript:")):
                self.found.append(f"<{tag} {name}={url[:30]}>")
        src = dict(attrs).get("src") or ""
        if tag == "script" and not src.startswith("/static/"):
            self.found.append(f"<script src={src[:30]!r}>")


def live_markup(html: str) -> list[str]:
    """What in ``html`` would run in a browser and is not the site's own static script."""
    parser = _LiveMarkup()
    parser.feed(html)
    return parser.found


def _stored_strings(catalogue: Catalogue) -> Iterator[tuple[str, str]]:
    for feed in catalogue.feeds():
        yield from _strings(feed)
    for episode in catalogue.episodes():
        yield from _strings(episode)


def _site_problems(client: TestClient, catalogue: Catalogue) -> list[str]:
    """Pages of every hostile feed and episode: no error status, no live markup from a feed."""
    paths = ["/", "/index.json", "/poddar", "/poddar.opml",
             "/sok?q=alert", "/sok?q=script", "/sok?q=passwd"]
    for feed in catalogue.feeds():
        paths += [f"/poddar/{feed.id}", f"/poddar/{feed.id}.json", f"/poddar/{feed.id}/rss.xml"]
    paths += [f"/avsnitt/{e.id}" for e in catalogue.episodes()]
    problems = []
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            problems.append(f"{path}: {response.status_code}")
        elif "html" in response.headers.get("content-type", "") and (
                found := live_markup(response.text)):
            problems.append(f"{path}: live markup {found[:3]}")
    return problems


#: What a transcript may hold too: speech about markup is still only text.
HOSTILE_SPEECH = ('Hon sa <script>alert("tal")</script> och <img src=x onerror=alert(1)> '
                  "och ../../etc/passwd och javascript:alert(2) \u202e baklänges.")


def _transcribe_all(catalogue: Catalogue) -> None:
    for episode in catalogue.episodes():
        catalogue.save_transcript(Transcript(
            episode_id=episode.id, source="whisper", language="sv", engine="fake", model="fake",
            segments=(Segment(0.0, 4.0, HOSTILE_SPEECH), Segment(4.0, 8.0, episode.title))))


def test_the_whole_corpus_goes_into_the_archive_and_the_site_safely(
        http_server: LoopbackServer, tmp_path: Path, figures: dict[str, object]) -> None:
    settings = Settings(data_dir=tmp_path / "data", allow_private=True)
    catalogue = Catalogue(DataDir(settings.data_dir))
    outcomes: Counter[str] = Counter()
    try:
        with make_client(policy_for(settings)) as http:
            for path in cases():
                headers = json.loads(expectation(path).get("Headers", "{}"))
                url = http_server.route(f"/{path.name}", reply(
                    path.read_bytes(), content_type=headers.get("content-type",
                                                                 "application/rss+xml")))
                outcome = refresh_feed(catalogue, http, url, settings=settings)
                outcomes[outcome.status] += 1
        bad = [f"{name}: {text[:60]!r}" for name, text in _stored_strings(catalogue)
               if _BAD_CHARS.search(text)]
        bad += [f"{name}: {text[:60]!r}" for name, text in _stored_strings(catalogue)
                if name in _URL_FIELDS and text and not text.startswith(("http:", "https:"))]
        assert bad == []
        _transcribe_all(catalogue)
        with ArchiveIndex.open(catalogue.data.index) as index:
            index.rebuild(catalogue)
            app = create_app(settings, catalogue=catalogue, index=index)
            with TestClient(app, raise_server_exceptions=False) as client:
                problems = _site_problems(client, catalogue)
                assert problems == [], '\n'.join(problems)
        figures[f"hostile feeds: {len(cases())} through refresh, catalogue, index and site"] = (
            f"{dict(outcomes)}, {catalogue.count_episodes()} episodes stored, "
            "0 crashes, 0 unsafe strings, 0 non-200 pages")
    finally:
        catalogue.close()


def test_episode_pages_work_before_any_episode_is_transcribed(tmp_path: Path) -> None:
    """A new archive whose downloads all failed so far: metadata only, no transcripts."""
    settings = Settings(data_dir=tmp_path / "data")
    catalogue = Catalogue(DataDir(settings.data_dir))
    try:
        catalogue.save_feed(Feed(id="podd", url="https://feeds.example/p.xml", title="Podd"))
        catalogue.save_episode(Episode(id="ep1", feed_id="podd", guid="1", title="Första"))
        with ArchiveIndex.open(catalogue.data.index) as index:
            index.rebuild(catalogue)
            app = create_app(settings, catalogue=catalogue, index=index)
            with TestClient(app, raise_server_exceptions=False) as client:
                assert client.get("/avsnitt/ep1").status_code == 200
    finally:
        catalogue.close()


@pytest.mark.slow
def test_feedparsers_own_corpus_stores_nothing_unsafe(figures: dict[str, object]) -> None:
    """The feeds engineer's corpus test counts crashes; this one checks what would be stored."""
    from tests.ingest.test_feedparser_corpus import _corpus, _tarball

    corpus = _corpus(_tarball())
    unsafe: list[str] = []
    parsed_count = 0
    for name, body in corpus:
        try:
            parsed = parse_feed(body, url="https://feeds.example/feed.xml",
                                headers={"content-type": "application/xml"})
        except FeedError:
            continue
        parsed_count += 1
        unsafe += [f"{name}: {problem}" for problem in unsafe_strings(parsed)]
    figures["feedparser corpus: files, parsed as feeds, unsafe strings"] = (
        len(corpus), parsed_count, len(unsafe))
    assert unsafe == []


# -- hostile feeds through the real CLI: each fails alone, and says where and why ------------


def _rss(title: str, items: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>{title}</title>{items}</channel></rss>").encode()


def _item(title: str, *, guid: str | None = None, audio: str | None = None) -> str:
    guid_tag = f"<guid>{guid}</guid>" if guid is not None else ""
    enclosure = f'<enclosure url="{audio}" type="audio/mpeg"/>' if audio else ""
    return f"<item><title>{title}</title>{guid_tag}<description>Om {title}</description>" \
           f"{enclosure}</item>"


def test_hostile_feeds_through_the_cli_fail_alone_and_say_why(
        http_server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        figures: dict[str, object]) -> None:
    from click.testing import CliRunner

    from poddarkiv.cli import cli
    from poddarkiv.ingest import refresh as refresh_module

    dead = http_server.url("/audio")  # every enclosure answers 404
    feeds = {
        "/malformed.xml": _rss("Trasiga guid", _item("Ett", guid="http://example.c[o.test/",
                                                     audio=f"{dead}/1.mp3")
                               + _item("Två", guid="http://[domain]/episode/12",
                                       audio=f"{dead}/2.mp3")),
        "/shared-guid.xml": _rss("Samma guid", "".join(
            _item(f"Debatt {n}", guid="samma", audio=f"{dead}/debatt-{n}.mp3")
            for n in range(20))),
        "/no-audio.xml": _rss("Blandat", _item("Med ljud", guid="a", audio=f"{dead}/a.mp3")
                              + _item("Bara text", guid="b") + _item("Också text", guid="c")
                              + "<item><guid>tom</guid></item>"),
        "/crashes.xml": _rss("Kraschar", _item("X", guid="x", audio=f"{dead}/x.mp3")),
        "/good.xml": _rss("Fungerar", _item("Bra", guid="g", audio=f"{dead}/g.mp3")),
    }
    urls = [http_server.route(path, reply(body)) for path, body in feeds.items()]
    crash_url = http_server.url("/crashes.xml")
    real_parse = refresh_module.parse_feed

    def parse_or_crash(body: bytes, *, url: str, **kwargs: Any) -> ParsedFeed:
        if url == crash_url:  # a bug anywhere in parsing, not one of our own errors
            raise RuntimeError("a bug in the parser")
        return real_parse(body, url=url, **kwargs)

    monkeypatch.setattr(refresh_module, "parse_feed", parse_or_crash)
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    data = tmp_path / "data"

    def cli_run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)

    assert cli_run("feeds", "add", *urls).exit_code == 0
    first = cli_run("ingest", "--allow-private", "-q")
    assert first.exit_code == 1, first.output
    assert f"FAILED feed {crash_url}: unexpected RuntimeError: a bug in the parser" in first.output
    assert "1 of 4 items not stored (1: no audio, no transcript and no text)" in first.output
    assert "2 of 4 items have no audio; kept as text-only episodes" in first.output
    with Catalogue(DataDir(data)) as catalogue:
        by_title = {f.title: f for f in catalogue.feeds()}
        counts = {t: catalogue.count_episodes(feed_id=f.id) for t, f in by_title.items()}
        report = catalogue.last_report()
        crashed = catalogue.feed_by_url(crash_url)
    assert counts == {"Trasiga guid": 2, "Samma guid": 20, "Blandat": 3, "Fungerar": 1,
                      "": 0}  # the crashing feed: known, never read
    assert crashed is not None and crashed.error_count == 1 and crashed.next_fetch_after
    assert [s.guid for s in by_title["Blandat"].skipped] == ["tom"]
    assert report is not None
    mixed = next(f for f in report["feeds"] if f["url"] == http_server.url("/no-audio.xml"))
    assert (mixed["skipped_count"], mixed["text_only"], mixed["items"]) == (1, 2, 4)
    listing = cli_run("feeds", "list", "--problems")
    assert "1 of 4 items skipped, 2 text-only (no audio)" in listing.output
    assert "skipped: tom: no audio, no transcript and no text" in listing.output
    assert "unexpected RuntimeError" in listing.output and "HTTP 404" in listing.output
    assert f"(not read yet: see the errors)\n    {crash_url}" in listing.output
    # each failed episode by the title and the audio URL the user knows, not only its error
    assert f'episode failed 1x: "Debatt 3" ({dead}/debatt-3.mp3): HTTP 404' in listing.output

    audio_requests = sum(http_server.count(f"/audio/{p}") for p in (
        "1.mp3", "2.mp3", "a.mp3", "g.mp3", *(f"debatt-{n}.mp3" for n in range(20))))
    second = cli_run("ingest", "--allow-private", "-q")
    assert second.exit_code == 0, second.output  # nothing new failed: the failures wait
    assert "24 failed episode(s) waiting to be retried" in second.output
    assert "Episodes: none" in second.output  # text-only episodes are indexed once, not again
    assert sum(http_server.count(f"/audio/{p}") for p in (
        "1.mp3", "2.mp3", "a.mp3", "g.mp3", *(f"debatt-{n}.mp3" for n in range(20)))
    ) == audio_requests
    figures["hostile feeds through the CLI: feeds, episodes stored, skipped items listed"] = (
        f"{len(feeds)} feeds (1 crashing), {sum(counts.values())} episodes (2 text-only), "
        "1 skipped item listed, "
        "0 tracebacks; the second run requested no audio")


def test_an_unexpected_exception_in_one_item_is_that_items_alone_and_shown_everywhere(
        http_server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not one of our errors, raised while one item is read: the item is listed as skipped
    with the reason in ``feeds list --problems``, the feed's ``.json`` and the admin page; its
    siblings and the other feeds are stored; ``watch`` carries on."""
    from click.testing import CliRunner

    from poddarkiv.cli import cli
    from poddarkiv.ingest import feeds as feeds_module

    real = feeds_module.episode_from_entry

    def crash_on_one(entry: Any, item: Any, ctx: Any) -> Episode | None:
        if entry.get("title") == "Trasig":
            raise KeyError("nobody expected this")
        return real(entry, item, ctx)

    monkeypatch.setattr(feeds_module, "episode_from_entry", crash_on_one)
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    monkeypatch.setenv("PODDARKIV_ALLOW_PRIVATE", "1")
    def mixed_feed(*titles: str) -> bytes:
        return _rss("Blandad", "".join(_item(t, guid=t) for t in titles))

    mixed = http_server.route("/mixed.xml", reply(mixed_feed("Före", "Trasig", "Efter")))
    other = http_server.route("/other.xml", reply(_rss("Annan", _item("Hel", guid="h"))))
    data = tmp_path / "data"

    def cli_run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--data-dir", str(data), *args], catch_exceptions=False)

    assert cli_run("feeds", "add", mixed, other).exit_code == 0
    run = cli_run("ingest", "-q")
    assert run.exit_code == 0, run.output  # the feeds were read: nothing failed as a whole
    reason = "could not be read: KeyError: 'nobody expected this'"
    assert f"1 of 3 items not stored (1: {reason})" in run.output
    assert f"skipped: Trasig: {reason}" in cli_run("feeds", "list", "--problems").output
    settings = Settings(data_dir=data, admin_token="hemligt")
    with Catalogue(DataDir(data)) as catalogue, ArchiveIndex.open(catalogue.data.index) as index:
        assert catalogue.count_episodes() == 3  # Före, Efter and the other feed's Hel
        feed_id = next(f.id for f in catalogue.feeds() if f.url == mixed)
        app = create_app(settings, catalogue=catalogue, index=index)
        with TestClient(app) as client:
            podcast = client.get(f"/poddar/{feed_id}.json").json()["podcast"]
            admin = client.get("/admin.json", headers={"authorization": "Bearer hemligt"}).json()
    assert [(s["title"], s["reason"]) for s in podcast["skipped"]] == [("Trasig", reason)]
    [row] = [f for f in admin["report_feeds"] if f["feed_id"] == feed_id]
    assert row["skipped_count"] == 1 and row["skipped"][0]["reason"] == reason
    http_server.route("/mixed.xml", reply(mixed_feed("Före", "Trasig", "Efter", "Ny")))
    watched = cli_run("watch", "--every", "1h", "--times", "1")  # meets the same item again
    assert watched.exit_code == 0, watched.output
    assert "Feeds: 1 unchanged, 1 updated" in watched.output and reason in watched.output


@pytest.mark.slow
def test_thousands_of_dead_enclosures_cost_one_request_on_the_next_run(
        http_server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        figures: dict[str, object]) -> None:
    """Issue 14: every run re-requested all 5,000 dead enclosures (23 s) and exited 1."""
    from click.testing import CliRunner

    from poddarkiv.cli import cli

    count = 5000
    items = "".join(_item(f"Avsnitt {n}", guid=str(n), audio=http_server.url(f"/dead/{n}.mp3"))
                    for n in range(count))
    url = http_server.route("/dead.xml", conditional(_rss("Död", items), etag='"v1"'))
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    data = str(tmp_path / "data")

    def timed_ingest() -> tuple[Any, float, int]:
        before = len(http_server.requests)
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["--data-dir", data, "ingest", "--allow-private", "-q"],
                                    catch_exceptions=False)
        return result, time.monotonic() - started, len(http_server.requests) - before

    assert CliRunner().invoke(cli, ["--data-dir", data, "feeds", "add", url]).exit_code == 0
    first, first_s, first_requests = timed_ingest()
    assert first.exit_code == 1 and first_requests == count + 1
    second, second_s, second_requests = timed_ingest()
    assert second.exit_code == 0, second.output
    assert second_requests == 1 and f"{count} failed episode(s) waiting" in second.output
    figures[f"{count} dead enclosures: first run, second run"] = (
        f"{first_s:.1f} s and {first_requests} requests (exit 1); "
        f"{second_s:.1f} s and {second_requests} request (exit 0)")


def test_moves_to_dead_addresses_and_move_loops_are_refused_and_shown(
        http_server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from poddarkiv.cli import cli

    def moving(title: str, to: str) -> bytes:
        return _rss(title, f"<itunes:new-feed-url>{to}</itunes:new-feed-url>"
                           + _item(title, guid=title, audio=http_server.url(f"/{title}.mp3")))

    dead, a, b = (http_server.url(p) for p in ("/gone.xml", "/a.xml", "/b.xml"))
    moved = http_server.route("/moved.xml", reply(moving("Flyttad", dead)))
    http_server.route("/a.xml", reply(moving("A", b)))
    http_server.route("/b.xml", reply(moving("B", a)))
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    data = str(tmp_path / "data")

    def cli_run(*args: str) -> Any:
        return CliRunner().invoke(cli, ["--data-dir", data, *args], catch_exceptions=False)

    assert cli_run("feeds", "add", moved, a).exit_code == 0
    for _ in range(2):  # a second run changes nothing: no flip-flopping between addresses
        cli_run("ingest", "--allow-private", "-q")
        listing = cli_run("feeds", "list", "--problems").output
        assert f"problem: not moved to {dead}: it does not answer with a feed (HTTP 404" in listing
        assert f"problem: not moved to {b}: it names {a} as its own new address" in listing
        with Catalogue(DataDir(Path(data))) as catalogue:
            assert sorted(f.url for f in catalogue.feeds()) == sorted([moved, a])
            assert catalogue.count_episodes() == 2
