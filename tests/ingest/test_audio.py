"""Audio: probing rejects what cannot be transcribed; decoding gives 16 kHz mono float32."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import numpy as np
import pytest

from poddarkiv.errors import AudioError
from poddarkiv.ingest.audio import SAMPLE_RATE, AudioInfo, decode_audio, plan_windows, probe_audio

CLIP = Path(__file__).parents[1] / "data" / "audio" / "iop-sv.mp3"


def _write_tone(path: Path, *, seconds: float, rate: int, layout: str, codec: str) -> None:
    """A 440 Hz tone, encoded with PyAV."""
    t = np.arange(int(seconds * rate)) / rate
    mono = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    channels = 2 if layout == "stereo" else 1
    samples = np.repeat(mono[None, :], channels, axis=0)
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout=layout)
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)


def test_probe_describes_the_test_clip() -> None:
    info = probe_audio(CLIP)
    assert info == AudioInfo(duration_s=pytest.approx(6.0, abs=0.15), codec="mp3",
                             sample_rate=22050, channels=1)


def test_decode_gives_16khz_mono_float32_in_range() -> None:
    audio = decode_audio(CLIP)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / SAMPLE_RATE == pytest.approx(probe_audio(CLIP).duration_s, abs=0.1)
    assert 0.1 < np.abs(audio).max() <= 1.0


def test_decode_mixes_stereo_down_and_resamples(tmp_path: Path) -> None:
    path = tmp_path / "tone.ogg"
    _write_tone(path, seconds=2.0, rate=48000, layout="stereo", codec="libopus")
    assert probe_audio(path).channels == 2
    audio = decode_audio(path)
    assert len(audio) == pytest.approx(2 * SAMPLE_RATE, rel=0.02)
    spectrum = np.abs(np.fft.rfft(audio[:SAMPLE_RATE]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)  # 1 Hz bins over one second


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"<html><body>Not found</body></html>" * 20, "not readable as audio"),
    ],
    ids=["empty", "html"],
)
def test_unusable_files_are_audio_errors(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "episode.mp3"
    path.write_bytes(content)
    with pytest.raises(AudioError, match=message):
        probe_audio(path)
    with pytest.raises(AudioError):
        decode_audio(path)


def test_errors_and_log_lines_never_name_the_archives_file(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The user knows an episode by its title and URL: the caller names it, never a path."""
    html = tmp_path / "0123456789abcdef.mp3"
    html.write_bytes(b"<html><body>Not found</body></html>" * 20)
    for check in (probe_audio, decode_audio):
        with pytest.raises(AudioError) as caught:
            check(html)
        assert str(tmp_path) not in str(caught.value), caught.value
    noisy = tmp_path / "0123456789abcdef.mp3"
    noisy.write_bytes(_with_garbage_frames(CLIP.read_bytes()))
    decode_audio(noisy)
    [record] = [r for r in caplog.records if "undecodable" in r.getMessage()]
    assert record.getMessage().startswith("episode 0123456789abcdef: skipped ")
    assert str(tmp_path) not in record.getMessage()


def _with_garbage_frames(mp3: bytes) -> bytes:
    """``mp3`` with every frame's payload after the first few overwritten (headers kept)."""
    data = bytearray(mp3)
    sync = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] & 0xE0 == 0xE0]
    for start, end in itertools.pairwise(sync[3:]):
        data[start + 4:end] = bytes((start * 7 + n * 13) % 251 for n in range(end - start - 4))
    return bytes(data)


def test_missing_file_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="not readable"):
        probe_audio(tmp_path / "nothing.mp3")


def test_truncated_download_is_caught_by_probe(tmp_path: Path) -> None:
    data = CLIP.read_bytes()
    path = tmp_path / "cut.mp3"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated"):
        probe_audio(path)


def test_too_long_is_refused_by_probe_and_decode() -> None:
    with pytest.raises(AudioError, match="limit"):
        probe_audio(CLIP, max_duration_s=3.0)
    with pytest.raises(AudioError, match="limit"):
        decode_audio(CLIP, max_duration_s=3.0)
    assert probe_audio(CLIP, max_duration_s=60.0).duration_s < 60.0


def test_video_without_audio_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "silent.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=1)
        stream.width, stream.height = 16, 16
        frame = av.VideoFrame.from_ndarray(np.zeros((16, 16, 3), np.uint8), format="rgb24")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    with pytest.raises(AudioError, match="no audio stream"):
        probe_audio(path)


def _speech_with_pauses(seconds: int, pauses: list[float]) -> np.ndarray:
    rng = np.random.default_rng(0)
    audio = rng.uniform(-0.5, 0.5, seconds * SAMPLE_RATE).astype(np.float32)
    for pause in pauses:
        audio[int(pause * SAMPLE_RATE): int((pause + 0.3) * SAMPLE_RATE)] = 0.0
    return audio


def test_windows_cover_everything_and_cut_in_pauses() -> None:
    audio = _speech_with_pauses(25, pauses=[8.5, 17.2])
    windows = plan_windows(audio, window_s=10.0, search_s=3.0)
    assert windows[0][0] == 0 and windows[-1][1] == len(audio)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(windows))
    cuts = [end / SAMPLE_RATE for _, end in windows[:-1]]
    assert cuts == [pytest.approx(8.65, abs=0.16), pytest.approx(17.35, abs=0.16)]
    assert all((end - start) <= 10 * SAMPLE_RATE for start, end in windows)


def test_short_audio_is_one_window() -> None:
    audio = np.zeros(5 * SAMPLE_RATE, np.float32)
    assert plan_windows(audio, window_s=10.0, search_s=3.0) == [(0, len(audio))]
