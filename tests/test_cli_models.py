"""``poddarkiv models``, ``models pull`` and ``retranscribe``: a better model one command away.

The hub is a loopback server speaking its file API (``tests/hubserver.py``), reached through
``HF_ENDPOINT`` as a user would. Whisper is replaced at its seam (``runner.whisper_step``) by a
step that writes which model it was configured with, so the bookkeeping is what is tested; the
one slow test runs the pulled weights on the committed clip.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from poddarkiv.archive.models import Episode, Feed, Segment, Transcript
from poddarkiv.archive.store import DataDir, open_catalogue
from poddarkiv.cli import cli
from poddarkiv.config import Settings
from poddarkiv.ingest.model import BUNDLED_MODEL_SHA256
from poddarkiv.ingest.retranscribe import Selection
from poddarkiv.runner import run_retranscribe
from poddarkiv.sample import SAMPLE_EPISODES
from poddarkiv.sample.server import SampleServer, serve_sample
from tests.hubserver import TEST_REPO, FakeHub, base_ct2, ct2_repo, serve_hub

__all__ = ["base_ct2"]  # the session fixture, from tests/hubserver.py
REPO = TEST_REPO

#: A word only the "new model" writes: finding it by search proves the episode was re-indexed.
NEW_WORD = "nymodellsord"


def _model_step(settings: Settings, data: DataDir) -> Callable[[], Callable[..., Transcript]]:
    """Whisper at its seam: the sample's scripts under the base model; under any other model a
    transcript with :data:`NEW_WORD` and low confidence figures."""
    scripts = {ep.guid: ep.script_text() for ep in SAMPLE_EPISODES}

    def step(episode: Episode, *, progress: Callable[[float, float], None]) -> Transcript:
        if settings.model == "base":
            segments = tuple(Segment(i * 4.0, i * 4.0 + 4.0, text)
                             for i, text in enumerate(scripts[episode.guid].splitlines()))
        else:
            segments = (Segment(0.0, 4.0, f"Upphandling och {NEW_WORD}.", avg_logprob=-2.0),
                        Segment(4.0, 8.0, "Idéburet partnerskap.", avg_logprob=-2.0))
        return Transcript(episode_id=episode.id, source="whisper", language="sv",
                          engine=settings.engine, model=settings.model, segments=segments)

    return lambda: step


@pytest.fixture
def hub(base_ct2: Path) -> Iterator[FakeHub]:
    """A loopback hub serving the bundled weights as ``Test/whisper-base-ct2``."""
    with serve_hub({REPO: ct2_repo(base_ct2)}) as server:
        yield server


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        hub: FakeHub) -> Callable[..., Result]:
    """Invoke ``poddarkiv --data-dir <tmp> ARGS`` with ``HF_ENDPOINT`` at the loopback hub."""
    monkeypatch.setattr("poddarkiv.runner.whisper_step", _model_step)
    monkeypatch.delenv("PODDARKIV_DATA", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args],
                             env={"HF_ENDPOINT": hub.url}, catch_exceptions=False)

    return invoke


@pytest.fixture
def sample() -> Iterator[SampleServer]:
    """The bundled sample feed on a loopback port."""
    with serve_sample() as server:
        yield server


def _models(run: Callable[..., Result]) -> dict[str, object]:
    result = run("models", "--json")
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def _usage(run: Callable[..., Result]) -> dict[str, int]:
    rows = _models(run)["transcripts"]
    assert isinstance(rows, list)
    return {row["model"]: row["episodes"] for row in rows if row["source"] == "whisper"}


def test_models_lists_the_bundled_model_before_anything_is_installed(
        run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("models")
    assert result.exit_code == 0, result.output
    assert "base" in result.output and "No transcripts yet." in result.output
    assert not (tmp_path / "data").exists()  # listing never makes an archive


def test_pull_list_and_retranscribe_one_episode(run: Callable[..., Result],
                                                sample: SampleServer, tmp_path: Path) -> None:
    assert run("ingest", "--allow-private", "-q", sample.feed_url).exit_code == 0
    before = _usage(run)
    assert set(before) == {"base"}

    result = run("models", "pull", REPO, "--quiet")
    assert result.exit_code == 0, result.output
    assert f"Pulled {REPO}" in result.output
    installed = {m["name"]: m for m in _models(run)["installed"]}  # type: ignore[union-attr]
    assert installed[REPO]["engines"] == ["faster-whisper", "openai-whisper"]

    with open_catalogue(tmp_path / "data") as catalogue:
        episode_id = catalogue.episodes_transcribed_with("base")[0]
        revisions = len(catalogue.transcript_history(episode_id))
    result = run("retranscribe", "--model", REPO, "-q", episode_id)
    assert result.exit_code == 0, result.output
    assert "1 episode(s) transcribed again" in result.output

    with open_catalogue(tmp_path / "data") as catalogue:
        history = catalogue.transcript_history(episode_id)
        assert len(history) == revisions + 1  # a new revision; the old one is kept
        assert history[0].is_current and history[0].model == REPO
        assert catalogue.transcript(episode_id).model == REPO  # type: ignore[union-attr]
    assert _usage(run) == {"base": before["base"] - 1, REPO: 1}
    # Re-indexed under the same id: search finds the new words at the old permalink.
    hits = json.loads(run("search", "--json", NEW_WORD).output)["hits"]
    assert [h["episode_id"] for h in hits] == [episode_id]
    assert hits[0]["passages"][0]["start"] == 0.0
    assert NEW_WORD in run("export", episode_id).output


def test_retranscribe_by_model_podcast_and_confidence(run: Callable[..., Result],
                                                      sample: SampleServer,
                                                      tmp_path: Path) -> None:
    assert run("ingest", "--allow-private", "-q", sample.feed_url).exit_code == 0
    base = _usage(run)["base"]
    with open_catalogue(tmp_path / "data") as catalogue:
        feed_id = catalogue.feeds()[0].id

    result = run("retranscribe", "--model", REPO, "--podcast", feed_id, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.count("would transcribe") == base
    assert "would skip" in result.output and "publisher's own transcript" in result.output
    assert _usage(run) == {"base": base}  # a dry run changes nothing

    result = run("retranscribe", "--model", REPO, "--model-was", "base", "--podcast", feed_id)
    assert result.exit_code == 0, result.output
    assert _usage(run) == {REPO: base}
    # Run again: nothing to do, each episode says why.
    result = run("retranscribe", "--model", REPO, "--podcast", feed_id)
    assert result.exit_code == 0, result.output
    assert "0 episode(s) transcribed again" in result.output
    assert f"already transcribed with {REPO}" in result.output
    # The new model's transcripts are uncertain (score exp(-2) = 0.14): back to base with them.
    result = run("retranscribe", "--confidence-below", "0.5", "-q")
    assert result.exit_code == 0, result.output
    assert _usage(run) == {"base": base}


def test_retranscribe_says_what_to_choose_and_names_unknown_episodes(
        run: Callable[..., Result], sample: SampleServer) -> None:
    assert run("ingest", "--allow-private", "-q", sample.feed_url).exit_code == 0
    result = run("retranscribe")
    assert result.exit_code == 1 and "say which episodes" in result.output
    result = run("retranscribe", "no-such-episode")
    assert result.exit_code == 1 and "no episode 'no-such-episode'" in result.output
    result = run("retranscribe", "--podcast", "no-such-feed")
    assert result.exit_code == 1 and "no podcast 'no-such-feed'" in result.output


def test_pull_refuses_the_bundled_name(run: Callable[..., Result]) -> None:
    result = run("models", "pull", "base")
    assert result.exit_code == 1 and "is bundled" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["faster-whisper", "openai-whisper"])
def test_the_pulled_model_transcribes_the_clip_for_real(hub: FakeHub, tmp_path: Path,
                                                        engine: str) -> None:
    """Each engine on the pulled weights, on the committed clip, through retranscribe."""
    from poddarkiv.runner import pull_hub_model

    clip = Path(__file__).parent / "data" / "audio" / "iop-sv.mp3"
    settings = Settings(data_dir=tmp_path / "data", model=REPO, engine=engine)  # type: ignore[arg-type]
    pull_hub_model(settings, REPO, endpoint=hub.url, progress=False)
    with open_catalogue(settings.data_dir) as catalogue:
        catalogue.save_feed(Feed(id="f1", url="http://example.invalid/feed.xml", title="Pod"))
        (settings.data_dir / "audio").mkdir(exist_ok=True)
        shutil.copy(clip, settings.data_dir / "audio" / "e1.mp3")
        catalogue.save_episode(Episode(id="e1", feed_id="f1", guid="e1", title="IOP",
                                       audio_path="audio/e1.mp3"))
        catalogue.save_transcript(Transcript(episode_id="e1", source="whisper", language="sv",
                                             engine="faster-whisper", model="base",
                                             segments=(Segment(0.0, 1.0, "gammal"),)))
    report = run_retranscribe(settings, Selection(model_was="base"))
    assert [e.status for e in report.episodes] == ["transcribed"], report
    with open_catalogue(settings.data_dir) as catalogue:
        transcript = catalogue.transcript("e1")
    assert transcript is not None and transcript.model == REPO
    assert (transcript.engine, transcript.model_sha256) == (engine, BUNDLED_MODEL_SHA256)
    text = transcript.text.lower()
    assert "partnerskap" in text or "upphandling" in text, text
