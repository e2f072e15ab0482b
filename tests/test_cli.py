"""The ``poddarkiv`` command: each sub-command over a real archive, through click's CliRunner.

Whisper is replaced at its seam (``runner.whisper_step``) by the sample scripts; the real engines
are tested in ``tests/ingest/test_transcribe.py`` and the demo end to end in ``test_demo.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.store import DataDir, open_catalogue
from poddarkiv.archive.writers import FORMATS
from poddarkiv.cli import cli
from poddarkiv.config import Settings
from poddarkiv.sample import SAMPLE_EPISODES
from poddarkiv.sample.server import SampleServer, serve_sample

COMMANDS = ["ingest", "search", "serve", "reindex", "demo", "export", "feeds", "watch", "themes",
            "models", "retranscribe"]


def _script_step(settings: Settings, data: DataDir) -> Callable[[], Callable[..., Transcript]]:
    scripts = {ep.guid: ep.script_text() for ep in SAMPLE_EPISODES}

    def step(episode: Episode, *, progress: Callable[[float, float], None]) -> Transcript:
        lines = scripts[episode.guid].splitlines()
        return Transcript(episode_id=episode.id, source="whisper", language="sv",
                          engine="script", model="test",
                          segments=tuple(Segment(i * 4.0, i * 4.0 + 4.0, t)
                                         for i, t in enumerate(lines)))

    return lambda: step


@pytest.fixture
def sample() -> Iterator[SampleServer]:
    """The bundled sample feed on a loopback port."""
    with serve_sample() as server:
        yield server


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Invoke ``poddarkiv --data-dir <tmp> ARGS`` with Whisper replaced by the scripts."""
    monkeypatch.setattr("poddarkiv.runner.whisper_step", _script_step)
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args],
                             catch_exceptions=False)

    return invoke


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_ingest_then_search_export_and_reindex(run: Callable[..., Result],
                                               sample: SampleServer) -> None:
    result = run("ingest", "--allow-private", "-q", sample.feed_url)
    assert result.exit_code == 0, result.output
    assert "1 new" in result.output and "3 transcribed" in result.output

    result = run("search", "--json", "upphandlingsregler")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert hits and hits[0]["passages"][0]["start"] >= 0
    # Each hit says how it matched and how well; each passage where exactly it starts.
    assert hits[0]["tier"] in ("passage", "near", "metadata", "episode", "fuzzy")
    assert hits[0]["score"] > 0
    passage = hits[0]["passages"][0]
    assert passage["kind"] == "transcript" and passage["index"] >= 0
    assert isinstance(passage["start"], float)

    episode_id = hits[0]["episode_id"]
    result = run("export", episode_id, "--format", "vtt")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("WEBVTT") and "-->" in result.output

    result = run("reindex")
    assert result.exit_code == 0, result.output
    assert "Indexed 4 episodes" in result.output


def test_ingest_exits_non_zero_and_says_why_when_a_feed_fails(
        run: Callable[..., Result], sample: SampleServer) -> None:
    result = run("ingest", "--allow-private", "-q", sample.url("/missing.xml"))
    assert result.exit_code == 1
    assert "FAILED feed" in result.output and "404" in result.output


def test_loopback_feeds_are_refused_unless_allowed(run: Callable[..., Result],
                                                   sample: SampleServer) -> None:
    result = run("ingest", "-q", sample.feed_url)
    assert result.exit_code == 1
    assert "FAILED feed" in result.output


def test_feeds_add_list_export_remove(run: Callable[..., Result], tmp_path: Path) -> None:
    url = "https://poddar.example.se/konkurrenten.xml"
    assert "added" in run("feeds", "add", url).output
    assert "already followed" in run("feeds", "add", url).output
    listing = run("feeds", "list")
    assert url in listing.output and "not fetched yet" in listing.output
    opml = run("feeds", "export").output
    assert "<opml" in opml and url in opml

    assert run("feeds", "remove", url).exit_code == 0
    assert "No feeds yet" in run("feeds", "list").output
    opml_file = tmp_path / "feeds.opml"
    opml_file.write_text(opml, "utf-8")
    result = run("feeds", "import", str(opml_file))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output


def test_feeds_add_refuses_non_http_urls(run: Callable[..., Result]) -> None:
    result = run("feeds", "add", "file:///etc/passwd")
    assert result.exit_code == 1
    assert "not an http(s) feed URL" in result.output


def test_export_of_an_unknown_episode_is_a_clean_error(run: Callable[..., Result]) -> None:
    result = run("export", "finns-inte")
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "Traceback" not in result.output


def test_search_of_an_empty_archive_says_so(run: Callable[..., Result], tmp_path: Path) -> None:
    open_catalogue(tmp_path / "data").close()
    result = run("search", "partnerskap")
    assert result.exit_code == 0, result.output
    assert "0 episode(s)" in result.output


def test_search_where_there_is_no_archive_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "stavfel"
    result = CliRunner().invoke(cli, ["--data-dir", str(missing), "search", "iop"])
    assert result.exit_code == 1
    assert f"no archive in {missing}" in result.output and "Traceback" not in result.output
    assert not missing.exists()


def test_data_dir_is_accepted_after_the_command_too(run: Callable[..., Result],
                                                    tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    assert run("feeds", "add", "https://example.org/feed.xml", "--data-dir",
               str(elsewhere)).exit_code == 0
    listed = run("feeds", "list", "--data-dir", str(elsewhere))
    assert "example.org/feed.xml" in listed.output, listed.output
    assert "example.org" not in run("feeds", "list").output  # the one before the name
    result = run("search", "iop", "--data-dir", str(tmp_path / "nowhere"))
    assert result.exit_code == 1 and "no archive in" in result.output


def test_a_loopback_refusal_names_the_flag_once(run: Callable[..., Result],
                                                sample: SampleServer) -> None:
    result = run("ingest", sample.feed_url)
    assert result.exit_code == 1
    assert result.output.count("--allow-private") == 1, result.output
    assert result.output.count("not a public address") == 1, result.output


@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["models", "--help"],
                                  ["retranscribe", "--help"]])
def test_help_starts_without_the_pipeline_or_the_transcription_stack(args: list[str]) -> None:
    code = ("import sys\nfrom poddarkiv.cli import main\nsys.argv = ['poddarkiv', *sys.argv[1:]]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "heavy = {'torch', 'ctranslate2', 'whisper', 'faster_whisper', 'numpy', 'whoosh',\n"
            "         'httpx', 'poddarkiv.ingest.pipeline'} & set(sys.modules)\n"
            "print('HEAVY', sorted(heavy))")
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=True, timeout=60)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_watch_runs_the_given_number_of_times_and_survives_errors(
        run: Callable[..., Result], monkeypatch: pytest.MonkeyPatch) -> None:
    from poddarkiv import runner
    from poddarkiv.errors import BusyError

    slept: list[float] = []
    calls: list[int] = []
    real_ingest = runner.run_ingest

    def flaky_ingest(*args: object, **kwargs: object) -> object:
        calls.append(1)
        if len(calls) == 1:
            raise BusyError("another ingest is running on this archive")
        return real_ingest(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("poddarkiv.cli_feeds.time.sleep", slept.append)
    monkeypatch.setattr("poddarkiv.runner.run_ingest", flaky_ingest)
    result = run("watch", "--every", "2m", "--times", "2")
    assert result.exit_code == 0, result.output
    assert "ingest failed: another ingest is running" in result.output
    assert result.output.count("Feeds:") == 1
    assert slept == [120.0]


@pytest.mark.parametrize("bad", ["5s", "soon", "-1h"])
def test_watch_refuses_bad_intervals(run: Callable[..., Result], bad: str) -> None:
    result = run("watch", "--every", bad, "--times", "1")
    assert result.exit_code == 2


def test_themes_apply_after_ingest(run: Callable[..., Result], sample: SampleServer) -> None:
    assert run("ingest", "--allow-private", "-q", sample.feed_url).exit_code == 0
    result = run("themes", "apply")
    assert result.exit_code == 0, result.output
    assert "Themes applied to 4 episodes" in result.output


def test_an_index_from_another_version_is_rebuilt_before_searching_or_ingesting(
        run: Callable[..., Result], sample: SampleServer, tmp_path: Path) -> None:
    assert run("ingest", "--allow-private", "-q", sample.feed_url).exit_code == 0
    index_dir = tmp_path / "data" / "index"

    def pretend_another_version_built_it() -> None:
        (index_dir / (index_dir / "CURRENT").read_text() / "SCHEMA_VERSION").write_text("0")

    pretend_another_version_built_it()
    result = run("search", "--json", "upphandlingsregler")
    assert result.exit_code == 0, result.output
    assert "rebuilding it from the catalogue" in result.stderr
    assert "Indexed 4 episodes" in result.stderr
    assert json.loads(result.stdout)["hits"]

    pretend_another_version_built_it()
    result = run("ingest", "--allow-private", "-q", sample.feed_url)
    assert result.exit_code == 0, result.output
    assert "Indexed 4 episodes" in result.stderr
    assert json.loads(run("search", "--json", "upphandlingsregler").stdout)["hits"]


@pytest.mark.parametrize("args", [("ingest", "http://[::1"), ("feeds", "add", "http://[::1"),
                                  ("ingest", "http://[domain]/feed.xml"),
                                  ("feeds", "add", "https://ok.example/feed", "http://a:xx/")])
def test_a_malformed_url_on_the_command_line_is_a_one_line_error(
        run: Callable[..., Result], args: tuple[str, ...]) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert result.output.startswith("Error: not a valid feed URL"), result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1


def test_watch_survives_an_unexpected_exception(run: Callable[..., Result],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_ingest(*args: object, **kwargs: object) -> object:
        raise RuntimeError("something nobody expected")

    monkeypatch.setattr("poddarkiv.cli_feeds.time.sleep", lambda s: None)
    monkeypatch.setattr("poddarkiv.runner.run_ingest", broken_ingest)
    result = run("watch", "--every", "2m", "--times", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("RuntimeError: something nobody expected") == 2


def test_watch_takes_ingests_options_such_as_allow_private(run: Callable[..., Result],
                                                          sample: SampleServer) -> None:
    """A refused loopback feed names --allow-private, so watch must accept it as ingest does."""
    assert run("feeds", "add", sample.feed_url).exit_code == 0
    result = run("watch", "--times", "1", "--allow-private")
    assert result.exit_code == 0, result.output
    assert "Feeds: 1 updated" in result.output and "FAILED" not in result.output, result.output


def test_retry_failed_says_how_many_episodes_it_releases(run: Callable[..., Result],
                                                         sample: SampleServer) -> None:
    result = run("ingest", "--allow-private", "-q", "--retry-failed", sample.feed_url)
    assert result.exit_code == 0, result.output
    assert "0 failed episode(s) will be tried again now" in result.output


def test_feeds_import_names_the_outlines_it_refuses(run: Callable[..., Result],
                                                   tmp_path: Path) -> None:
    opml = tmp_path / "feeds.opml"
    opml.write_text('<opml version="2.0"><body><outline text="Bra" xmlUrl="https://ok.example/f"/>'
                    '<outline text="Trasig" xmlUrl="http://[::1"/></body></opml>', "utf-8")
    result = run("feeds", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "1 not added" in result.output
    assert "http://[::1" in result.output


def test_export_offers_the_formats_the_writers_register() -> None:
    export = cli.commands["export"]
    choice = next(p for p in export.params if p.name == "fmt").type
    assert isinstance(choice, click.Choice)
    assert tuple(choice.choices) == FORMATS
