"""Regenerate the committed test clip: espeak-ng (Swedish voice) → trimmed → MP3 via PyAV.

Run from the repository root: ``.venv/bin/python tests/data/audio/make_clip.py``. The output is
committed, so tests never need espeak-ng. The speed and word gap were chosen so that the bundled
*base* model hears "partnerskap" and "upphandling" in espeak's robotic voice (faster still, it
hears "partnersklop").
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import av
import numpy as np

HERE = Path(__file__).parent
NAME = "iop-sv"
ESPEAK = ["espeak-ng", "-v", "sv", "-s", "130", "-g", "4"]
MARGIN_S = 0.1
SILENCE = 0.01  # peak amplitude below which a sample counts as silence
BIT_RATE = 48_000


def _synthesise(text: str, wav: Path) -> tuple[np.ndarray, int]:
    subprocess.run([*ESPEAK, "-w", str(wav), text], check=True)
    with av.open(str(wav)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        to_float = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [
            out.to_ndarray().reshape(-1)
            for frame in container.decode(stream)
            for out in to_float.resample(frame)
        ]
    return np.concatenate(chunks), rate


def _trim(samples: np.ndarray, rate: int) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples) > SILENCE)
    margin = int(MARGIN_S * rate)
    return samples[max(0, loud[0] - margin): loud[-1] + margin]


def _encode_mp3(samples: np.ndarray, rate: int, out: Path) -> None:
    with av.open(str(out), "w") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        stream.bit_rate = BIT_RATE
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> None:
    text = (HERE / f"{NAME}.txt").read_text(encoding="utf-8").strip()
    with tempfile.TemporaryDirectory() as tmp:
        samples, rate = _synthesise(text, Path(tmp) / "clip.wav")
    trimmed = _trim(samples, rate)
    _encode_mp3(trimmed, rate, HERE / f"{NAME}.mp3")
    print(f"{NAME}.mp3: {len(trimmed) / rate:.2f} s")


if __name__ == "__main__":
    main()
