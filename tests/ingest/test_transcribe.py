"""Transcribers: engine output becomes our Transcript, window by window, guarded and timed.

The fast tests drive :class:`FasterWhisperTranscriber` with a scripted stand-in engine. The slow
tests run both real engines on the committed Swedish clip with the bundled weights.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jiwer
import numpy as np
import pytest

from poddarkiv.archive.models import Transcript, Word
from poddarkiv.config import ENGINES, Settings
from poddarkiv.errors import ConfigError, ModelError, TranscriptionError
from poddarkiv.ingest.audio import SAMPLE_RATE, decode_audio
from poddarkiv.ingest.hallucinations import normalise
from poddarkiv.ingest.model import BUNDLED_MODEL_SHA256, ResolvedModel, resolve_model
from poddarkiv.ingest.transcribe import (
    ENGINE_CLASSES,
    GLOSSARY_PROMPT,
    FasterWhisperTranscriber,
    OpenAIWhisperTranscriber,
    TranscribeOptions,
    _whisper_progress,
    make_transcriber,
)

CLIP = Path(__file__).parents[1] / "data" / "audio" / "iop-sv.mp3"
NOW = datetime(2024, 9, 1, 8, 30, tzinfo=UTC)
CT2 = ResolvedModel("ct2-dir", Path("/models/base"), "base", "f" * 64)


def piece(start: float, end: float, text: str, words: list[tuple[float, float, str]] | None = None,
          ) -> SimpleNamespace:
    """A faster-whisper ``Segment`` look-alike."""
    return SimpleNamespace(
        start=start, end=end, text=text, avg_logprob=-0.25, no_speech_prob=0.02,
        compression_ratio=1.4,
        words=None if words is None else [SimpleNamespace(start=a, end=b, word=w, probability=0.9)
                                          for a, b, w in words])


class ScriptedEngine:
    """Stands in for ``faster_whisper.WhisperModel``: call ``i`` returns ``script[i]``."""

    def __init__(self, script: list[list[SimpleNamespace]], language: str = "sv") -> None:
        self.script, self.language = script, language
        self.calls: list[dict[str, Any]] = []

    def transcribe(self, audio: np.ndarray, **options: Any) -> tuple[Iterator[Any], Any]:
        self.calls.append({"samples": len(audio), **options})
        return iter(self.script[len(self.calls) - 1]), SimpleNamespace(language=self.language)


def speech(seconds: float, *, pauses: tuple[float, ...] = ()) -> np.ndarray:
    """Noise standing in for speech, with 0.3 s silences at ``pauses``."""
    audio = np.random.default_rng(1).uniform(-0.3, 0.3, int(seconds * SAMPLE_RATE))
    for at in pauses:
        audio[int(at * SAMPLE_RATE): int((at + 0.3) * SAMPLE_RATE)] = 0.0
    return audio.astype(np.float32)


def run(engine: ScriptedEngine, audio: np.ndarray, **options: Any
        ) -> tuple[Transcript, list[tuple[float, float]]]:
    seen: list[tuple[float, float]] = []
    transcriber = FasterWhisperTranscriber(CT2, TranscribeOptions(**options),
                                           clock=lambda: NOW, engine=engine)
    transcript = transcriber.transcribe(audio, episode_id="ep-1",
                                        progress=lambda done, total: seen.append((done, total)))
    return transcript, seen


def test_engine_output_becomes_a_transcript() -> None:
    engine = ScriptedEngine([[piece(0.0, 2.0, " Idéburet partnerskap.",
                                    words=[(0.0, 1.0, " Idéburet"), (1.0, 2.0, " partnerskap.")]),
                              piece(2.0, 3.5, " Inte upphandling.")]])
    transcript, _ = run(engine, speech(4.0))
    assert transcript.episode_id == "ep-1" and transcript.source == "whisper"
    assert (transcript.engine, transcript.model, transcript.model_sha256) == (
        "faster-whisper", "base", "f" * 64)
    assert (transcript.language, transcript.duration_s, transcript.created) == ("sv", 4.0, NOW)
    assert transcript.text == "Idéburet partnerskap. Inte upphandling."
    assert transcript.segments[0].words[1] == Word(1.0, 2.0, " partnerskap.", 0.9)
    assert transcript.segments[0].avg_logprob == -0.25
    assert transcript.segments[0].compression_ratio == 1.4  # kept for archive.confidence
    assert transcript.notes == ()


def test_options_reach_the_engine() -> None:
    engine = ScriptedEngine([[]])
    run(engine, speech(1.0), beam_size=2, batch_size=1, vad=True, word_timestamps=True,
        glossary=True)
    (call,) = engine.calls
    assert call == {"samples": SAMPLE_RATE, "language": "sv", "beam_size": 2, "vad_filter": True,
                    "word_timestamps": True, "initial_prompt": GLOSSARY_PROMPT}


def test_by_default_faster_whisper_decodes_in_batches_with_beam_5_and_timestamps() -> None:
    # The defaults chosen in bench/README.md ("Transcription"): batches of 8 speech chunks cut by
    # the voice filter, openai-whisper's beam of 5, timestamp tokens kept.
    engine = ScriptedEngine([[]])
    run(engine, speech(1.0))
    (call,) = engine.calls
    assert call == {"samples": SAMPLE_RATE, "language": "sv", "beam_size": 5, "vad_filter": True,
                    "batch_size": 8, "without_timestamps": False, "word_timestamps": False,
                    "initial_prompt": None}
    assert Settings().batch_size == TranscribeOptions().batch_size == 8
    assert TranscribeOptions().batched and not TranscribeOptions(batch_size=1).batched


def test_batch_size_1_is_the_sequential_decoder_with_its_own_voice_filter_setting() -> None:
    engine = ScriptedEngine([[]])
    run(engine, speech(1.0), batch_size=1)
    (call,) = engine.calls
    assert "batch_size" not in call and "without_timestamps" not in call
    assert call["vad_filter"] is False and call["beam_size"] == 5


def test_long_audio_goes_in_windows_and_comes_back_in_episode_time() -> None:
    audio = speech(25.0, pauses=(8.5, 17.2))
    engine = ScriptedEngine([[piece(1.0, 2.0, " ett", words=[(1.0, 2.0, " ett")])],
                             [piece(1.0, 2.0, " två")], [piece(1.0, 2.0, " tre")]])
    transcript, seen = run(engine, audio, window_s=10.0)
    assert len(engine.calls) == 3
    assert sum(c["samples"] for c in engine.calls) == len(audio)
    starts = [s.start for s in transcript.segments]
    assert starts == [1.0, pytest.approx(9.65, abs=0.16), pytest.approx(18.35, abs=0.16)]
    assert transcript.segments[0].words[0].start == 1.0
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (25.0, 25.0)
    assert {t for _, t in seen} == {25.0}


def test_auto_language_is_detected_once_then_kept() -> None:
    engine = ScriptedEngine([[piece(0, 1, " hej")], [piece(0, 1, " hej")]], language="nn")
    transcript, _ = run(engine, speech(15.0, pauses=(8.0,)), window_s=10.0, language="auto")
    assert [c["language"] for c in engine.calls] == [None, "nn"]
    assert transcript.language == "nn"


def test_guards_run_and_their_notes_are_kept() -> None:
    engine = ScriptedEngine([[piece(0, 2, " Partnerskap."), piece(2, 4, " Textning.nu")]])
    transcript, _ = run(engine, speech(4.0))
    assert transcript.text == "Partnerskap."
    assert [n.code for n in transcript.notes] == ["guard_credit"]


def test_the_glossary_read_back_is_not_taken_for_speech() -> None:
    echo = piece(0, 2, " Idéburet offentligt partnerskap (IOP), LOU.")
    transcript, _ = run(ScriptedEngine([[echo, piece(2, 4, " Hej.")]]), speech(4.0),
                        glossary=True)
    assert transcript.text == "Hej."
    assert transcript.notes[0].code == "guard_prompt_echo"


def test_engine_failure_is_a_transcription_error() -> None:
    class Broken(ScriptedEngine):
        def transcribe(self, audio: np.ndarray, **options: Any) -> tuple[Iterator[Any], Any]:
            raise RuntimeError("out of memory")

    with pytest.raises(TranscriptionError, match=r"ep-1.*out of memory"):
        run(Broken([]), speech(1.0))


def test_silence_only_gives_an_empty_transcript() -> None:
    transcript, seen = run(ScriptedEngine([[]]), np.zeros(SAMPLE_RATE, np.float32))
    assert transcript.segments == () and seen[-1] == (1.0, 1.0)


def test_engines_refuse_weights_in_the_other_form() -> None:
    checkpoint = ResolvedModel("whisper-checkpoint", Path("/m/base.pt"), "base", None)
    with pytest.raises(ModelError):
        FasterWhisperTranscriber(checkpoint)
    with pytest.raises(ModelError):
        OpenAIWhisperTranscriber(CT2)
    with pytest.raises(ConfigError, match="voice-activity"):
        OpenAIWhisperTranscriber(checkpoint, TranscribeOptions(vad=True))


@pytest.mark.parametrize(("device", "compute_type", "expected"),
                         [("cpu", None, "int8"), ("cuda", None, "float16"),
                          ("cpu", "float32", "float32")])
def test_compute_type_defaults_to_the_device(device: str, compute_type: str | None,
                                             expected: str) -> None:
    options = TranscribeOptions(device=device, compute_type=compute_type)
    assert options.resolved_compute_type == expected


def test_options_come_from_settings() -> None:
    settings = Settings(language="auto", beam_size=1, batch_size=4, vad=True,
                        word_timestamps=True, glossary=True, threads=2, device="cuda")
    options = TranscribeOptions.from_settings(settings)
    assert (options.fixed_language, options.beam_size, options.batch_size, options.threads,
            options.device) == (None, 1, 4, 2, "cuda")
    assert options.prompt == GLOSSARY_PROMPT and options.vad and options.word_timestamps


def test_options_are_settings_transcription_fields_with_the_same_defaults() -> None:
    settings_defaults = {f.name: f.default for f in dataclasses.fields(Settings)}
    options = [f for f in dataclasses.fields(TranscribeOptions) if f.name != "window_s"]
    assert options
    for field in options:
        assert field.default == settings_defaults[field.name], field.name
    assert TranscribeOptions.from_settings(Settings()) == TranscribeOptions()


def test_every_engine_name_has_one_class() -> None:
    assert tuple(ENGINE_CLASSES) == ENGINES
    assert all(cls.name == name for name, cls in ENGINE_CLASSES.items())


def test_make_transcriber_resolves_but_does_not_load(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.bin").write_bytes(b"not really weights")
    transcriber = make_transcriber(Settings(model=str(folder), model_cache_dir=tmp_path / "c"))
    assert isinstance(transcriber, FasterWhisperTranscriber)
    assert transcriber.model.kind == "ct2-dir" and transcriber.model.path == folder


def test_make_transcriber_refuses_unknown_engines(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"whisper\.cpp"):
        settings = Settings(engine="whisper.cpp", model_cache_dir=tmp_path)  # type: ignore[arg-type]
        make_transcriber(settings)


# --- real engines, bundled weights -------------------------------------------------------------


@pytest.fixture(scope="module")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """$PODDARKIV_TEST_MODEL_CACHE (CI keeps it between runs), else a fresh temp folder."""
    env = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    return Path(env) if env else tmp_path_factory.mktemp("models")


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    """The committed clip: "Kommunen valde ett idéburet partnerskap i stället för en upphandling."
    """
    return decode_audio(CLIP)


def transcribe_clip(model_cache: Path, clip: np.ndarray, **settings: Any
                    ) -> tuple[Transcript, list[tuple[float, float]]]:
    seen: list[tuple[float, float]] = []
    transcriber = make_transcriber(Settings(model_cache_dir=model_cache, threads=2,
                                            word_timestamps=True, **settings))
    transcript = transcriber.transcribe(clip, episode_id="clip",
                                        progress=lambda done, total: seen.append((done, total)))
    return transcript, seen


@pytest.fixture(scope="module")
def faster(model_cache: Path, clip: np.ndarray) -> tuple[Transcript, list[tuple[float, float]]]:
    """The clip through faster-whisper (int8, batched: the defaults) with the bundled model."""
    return transcribe_clip(model_cache, clip, engine="faster-whisper")


@pytest.fixture(scope="module")
def openai(model_cache: Path, clip: np.ndarray) -> tuple[Transcript, list[tuple[float, float]]]:
    """The clip through openai-whisper on the bundled model converted to a checkpoint."""
    return transcribe_clip(model_cache, clip, engine="openai-whisper")


def words(transcript: Transcript) -> list[str]:
    return normalise(transcript.text).split()


def check_transcript(transcript: Transcript, seen: list[tuple[float, float]], engine: str
                     ) -> None:
    assert {"partnerskap", "upphandling"} <= set(words(transcript)), transcript.text
    assert (transcript.engine, transcript.model, transcript.language) == (engine, "base", "sv")
    assert transcript.model_sha256 == BUNDLED_MODEL_SHA256
    assert transcript.duration_s == pytest.approx(6.0, abs=0.1)
    # Progress during decoding (per segment; for openai-whisper, per 30 s of mel frames) and at
    # the end of the window.
    assert len(seen) >= 2 and seen[-1][0] == seen[-1][1] == transcript.duration_s
    timed = [w for s in transcript.segments for w in s.words]
    assert [w.start for w in timed] == sorted(w.start for w in timed)
    last = next(w for w in timed if "upphandling" in w.text)
    assert 3.5 < last.start < last.end <= transcript.duration_s + 0.5  # it ends the sentence
    # Both engines give what archive.confidence reads, per segment and per word.
    for segment in transcript.segments:
        assert segment.avg_logprob is not None and segment.avg_logprob <= 0
        assert segment.no_speech_prob is not None and segment.compression_ratio is not None
    assert all(w.probability is not None and 0 <= w.probability <= 1 for w in timed)


@pytest.mark.slow
def test_faster_whisper_hears_the_key_words(faster: tuple[Transcript, Any]) -> None:
    check_transcript(*faster, engine="faster-whisper")


@pytest.mark.slow
def test_openai_whisper_on_converted_weights_hears_the_key_words(
        openai: tuple[Transcript, Any]) -> None:
    check_transcript(*openai, engine="openai-whisper")


@pytest.mark.slow
def test_the_default_pipeline_hears_the_key_words_offline(model_cache: Path, clip: np.ndarray,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings() as a user gets them: faster-whisper int8, batched with Silero VAD, which ships
    # inside the faster_whisper package: nothing is downloaded (no socket may connect here).
    from faster_whisper import BatchedInferencePipeline

    def refuse(*args: object) -> None:
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    transcriber = make_transcriber(Settings(model_cache_dir=model_cache, threads=2))
    assert isinstance(transcriber, FasterWhisperTranscriber)
    transcript = transcriber.transcribe(clip, episode_id="clip")
    assert isinstance(transcriber._engine, BatchedInferencePipeline)
    assert {"valde", "partnerskap", "upphandling"} <= set(words(transcript)), transcript.text
    assert transcript.segments and all(0 <= s.start < s.end <= 6.5 for s in transcript.segments)


@pytest.mark.slow
def test_both_engines_give_the_same_words(model_cache: Path, clip: np.ndarray,
                                          openai: tuple[Transcript, Any],
                                          faster: tuple[Transcript, Any]) -> None:
    # At float32 and decoding sequentially, as openai-whisper does, both engines compute the same
    # function of the same weights: same words.
    model = resolve_model("base", cache_dir=model_cache, engine="faster-whisper")
    float32 = FasterWhisperTranscriber(model, TranscribeOptions(compute_type="float32", threads=2,
                                                                batch_size=1))
    same_precision = float32.transcribe(clip, episode_id="clip")
    assert words(same_precision) == words(openai[0])
    # int8 (the CPU default) quantises the weights and batched decoding drops the fallback,
    # which may change a hard word or two of espeak's robotic Swedish (it hears "Klamunen" for
    # "Kommunen"), not more.
    assert jiwer.wer(" ".join(words(openai[0])), " ".join(words(faster[0]))) <= 0.2


def test_openai_whisper_progress_is_counted_from_its_tqdm_and_the_name_restored() -> None:
    module = importlib.import_module("whisper.transcribe")
    original = module.tqdm
    heard: list[float] = []
    # The bar is made inside the block, as whisper.transcribe() makes it.
    with _whisper_progress(heard.append), module.tqdm.tqdm(total=3000, disable=False) as bar:
        bar.update(1500)
        bar.set_description("ignored")
        bar.update(1500)
    assert heard == [15.0, 30.0]
    assert module.tqdm is original


def test_an_openai_whisper_without_tqdm_transcribes_without_progress(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    module = importlib.import_module("whisper.transcribe")
    monkeypatch.delattr(module, "tqdm")
    with caplog.at_level("WARNING"), _whisper_progress(lambda s: None):
        pass
    assert "without progress" in caplog.text
    assert not hasattr(module, "tqdm")
