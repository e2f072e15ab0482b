"""Audio in: probe a file, decode it once to 16 kHz mono float32, and plan windows over it.

Decoding uses PyAV (FFmpeg's libraries, which faster-whisper already depends on), so no
``ffmpeg`` program is needed. Both engines take the decoded array, so a file is decoded once
whichever engine runs.

An :class:`AudioError` says what is wrong with the audio, never where this machine keeps it:
the caller names the episode (by its title, or the enclosure URL the user knows). A file is
named by its episode's id (:mod:`poddarkiv.ingest.download`), which is all a log line says.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from poddarkiv.errors import AudioError

__all__ = [
    "SAMPLE_RATE",
    "AudioInfo",
    "decode_audio",
    "plan_windows",
    "probe_audio",
]

log = logging.getLogger(__name__)

#: Whisper's input rate, in samples per second.
SAMPLE_RATE = 16000
#: A file whose packets add up to less than this share of its declared duration is truncated.
TRUNCATED_BELOW = 0.9
#: Frame used to find a quiet place to cut between windows, in seconds.
QUIET_FRAME_S = 0.1


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a probe learns about an audio file without decoding it."""

    duration_s: float
    codec: str
    sample_rate: int
    channels: int


def _reason(exc: BaseException, path: Path) -> str:
    """FFmpeg's message about ``path``, which quotes the path, without it."""
    return str(exc).replace(str(path), "the file")


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    """Open ``path`` with PyAV, turning its errors into :class:`AudioError`."""
    try:
        if Path(path).stat().st_size == 0:
            raise AudioError("empty file")
        container = av.open(str(path), mode="r")
    except AudioError:
        raise
    except (OSError, av.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"not readable as audio ({_reason(exc, path)})") from exc
    try:
        if not container.streams.audio:
            raise AudioError("no audio stream")
        yield container
    finally:
        container.close()


def _packet_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    """Sum the audio packets' durations: reads the file's packets but decodes nothing."""
    total = 0
    for packet in container.demux(stream):
        if packet.duration:
            total += packet.duration
    return float(total * stream.time_base) if stream.time_base else 0.0


def probe_audio(path: Path, *, max_duration_s: float | None = None) -> AudioInfo:
    """Describe an audio file, raising :class:`AudioError` if it cannot be used.

    Rejects files that are not audio, empty, truncated (packets cover much less than the
    declared duration) or longer than ``max_duration_s``.
    """
    with _open(path) as container:
        stream = container.streams.audio[0]
        declared = float(container.duration / av.time_base) if container.duration else 0.0
        try:
            present = _packet_seconds(container, stream)
        except av.FFmpegError as exc:
            raise AudioError(f"unreadable audio data ({_reason(exc, path)})") from exc
        info = AudioInfo(
            duration_s=present or declared,
            codec=stream.codec_context.codec.canonical_name,
            sample_rate=int(stream.sample_rate or 0),
            channels=int(stream.channels or 0),
        )
    if info.duration_s <= 0:
        raise AudioError("no audio in the file")
    if declared and present and present < TRUNCATED_BELOW * declared:
        raise AudioError(f"truncated: {present:.1f} s of a declared {declared:.1f} s")
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise AudioError(
            f"{info.duration_s:.0f} s is longer than the {max_duration_s:.0f} s limit"
        )
    return info


def decode_audio(path: Path, *, max_duration_s: float | None = None) -> np.ndarray:
    """The whole file as 16 kHz mono float32 in [-1, 1], the form both engines take.

    Memory is 64 kB per second of audio (230 MB an hour). Undecodable frames inside an
    otherwise good file are skipped and logged, as FFmpeg does; a file with none that decode
    raises :class:`AudioError`, and so does one longer than ``max_duration_s``.
    """
    limit = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total, skipped = 0, 0
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    with _open(path) as container:
        for packet in container.demux(container.streams.audio[0]):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                skipped += 1
                continue
            for frame in frames:
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                    total += chunks[-1].size
            if limit is not None and total > limit:
                raise AudioError(f"longer than the {max_duration_s:.0f} s limit")
        chunks.extend(out.to_ndarray().reshape(-1) for out in resampler.resample(None))
    if skipped:
        log.warning("episode %s: skipped %d undecodable packets of its audio",
                    Path(path).stem, skipped)
    if not chunks or sum(c.size for c in chunks) == 0:
        raise AudioError("no decodable audio")
    return np.concatenate(chunks).astype(np.float32, copy=False)


def plan_windows(audio: np.ndarray, *, window_s: float, search_s: float) -> list[tuple[int, int]]:
    """Cut ``audio`` into windows of at most ``window_s``, each cut at a quiet moment.

    Engines keep per-window state (the mel spectrogram and its FFT: about 200 kB per second of
    audio), so long episodes are fed in windows to bound memory. Each cut goes in the quietest
    ``QUIET_FRAME_S`` of the window's last ``search_s`` seconds, so it rarely splits a word.
    Returns ``(start, end)`` sample indices covering the whole array.
    """
    size, search = int(window_s * SAMPLE_RATE), int(search_s * SAMPLE_RATE)
    frame = max(1, int(QUIET_FRAME_S * SAMPLE_RATE))
    windows, start = [], 0
    while len(audio) - start > size:
        lo = start + max(frame, size - search)
        region = audio[lo: start + size]
        usable = len(region) // frame * frame
        energy = np.square(region[:usable].reshape(-1, frame)).mean(axis=1)
        cut = lo + int(np.argmin(energy)) * frame + frame // 2
        windows.append((start, cut))
        start = cut
    windows.append((start, len(audio)))
    return windows
