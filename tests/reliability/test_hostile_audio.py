"""Hostile audio: what is not usable audio is refused before Whisper, and silence stays silent.

Each file under ``tests/data/hostile/audio/`` has a sidecar ``<name>.expect``::

    Description: what the file is
    Expect: AudioError: <words the error message contains>     (refused by probe_audio)
    Expect: audio: <seconds> s                                  (accepted, with this duration)

A minute of silence goes through the real bundled model (faster-whisper): whatever Whisper
imagines there, the guards keep the stored transcript under :data:`SILENCE_TEXT_CAP` characters.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from poddarkiv.config import Settings
from poddarkiv.errors import AudioError
from poddarkiv.ingest.audio import SAMPLE_RATE, probe_audio

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile" / "audio"
#: Probing any file, however broken, takes less than this.
MAX_PROBE_S = 2.0
#: A minute of silence may leave at most this many characters of transcript.
SILENCE_TEXT_CAP = 40
SILENCE_S = 60.0

_HEADER = re.compile(r"^(Description|Expect):\s*(.*)$", re.MULTILINE)


def _expect(path: Path) -> dict[str, str]:
    text = path.with_name(path.name + ".expect").read_text("utf-8")
    return {m.group(1): m.group(2).strip() for m in _HEADER.finditer(text)}


def _cases() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.suffix != ".expect")


def test_every_case_says_what_it_expects() -> None:
    assert len(_cases()) >= 7
    for path in _cases():
        header = _expect(path)
        assert header.get("Description") and header.get("Expect"), path.name
        assert header["Expect"].startswith(("AudioError:", "audio:")), path.name


@pytest.mark.parametrize("path", _cases(), ids=lambda p: p.name)
def test_hostile_audio_file(path: Path) -> None:
    expect = _expect(path)["Expect"]
    started = time.monotonic()
    if expect.startswith("AudioError:"):
        with pytest.raises(AudioError, match=re.escape(expect.split(":", 1)[1].strip())):
            probe_audio(path)
    else:
        seconds = float(expect.split(":", 1)[1].strip().removesuffix("s").strip())
        assert probe_audio(path).duration_s == pytest.approx(seconds, abs=0.1)
    assert time.monotonic() - started < MAX_PROBE_S


def test_a_file_longer_than_the_cap_is_refused(tmp_path: Path) -> None:
    path = _write_wav(tmp_path / "long.wav", np.zeros(5 * SAMPLE_RATE, np.float32))
    with pytest.raises(AudioError, match="longer than"):
        probe_audio(path, max_duration_s=4.0)


def _write_wav(path: Path, samples: np.ndarray) -> Path:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["room-noise"])  # digital zeros are the easy case
def test_a_minute_of_silence_leaves_no_invented_transcript(
        tmp_path_factory: pytest.TempPathFactory, kind: str,
        figures: dict[str, object]) -> None:
    from poddarkiv.ingest.audio import decode_audio
    from poddarkiv.ingest.transcribe import make_transcriber

    samples = np.zeros(int(SILENCE_S * SAMPLE_RATE), np.float32)
    if kind == "room-noise":  # -50 dBFS of hiss: what a quiet studio sounds like
        samples = (np.random.default_rng(1).standard_normal(samples.size) * 0.003).astype(
            np.float32)
    path = _write_wav(tmp_path_factory.mktemp("silence") / f"{kind}.wav", samples)
    cache = os.environ.get("PODDARKIV_TEST_MODEL_CACHE")
    models = Path(cache) if cache else tmp_path_factory.mktemp("models")
    transcriber = make_transcriber(Settings(model_cache_dir=models, threads=2))
    transcript = transcriber.transcribe(decode_audio(path), episode_id=kind)
    figures[f"silence: {SILENCE_S:.0f} s of {kind}, transcript characters"] = len(
        transcript.text)
    assert len(transcript.text) <= SILENCE_TEXT_CAP, transcript.text
