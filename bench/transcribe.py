"""Both Whisper engines on the same audio and the same weights, side by side.

    .venv/bin/python bench/transcribe.py                      # the 6 s test clip
    .venv/bin/python bench/transcribe.py poddarkiv/sample/audio/*.mp3 --threads 2

Each configuration runs in its own Python process, one after the other, so its peak resident
memory (``ru_maxrss``, which counts native allocations that ``tracemalloc`` cannot see) is its
own and the runs do not compete for the CPU. Several files are joined into one stretch of audio
with half a second of silence between them. Reports load time, transcription wall time,
real-time factor (wall time / audio time; lower is faster), peak memory, speed-up against
openai-whisper and word error rate against openai-whisper's words (0 means the same words).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from poddarkiv.ingest.audio import SAMPLE_RATE, decode_audio
from poddarkiv.ingest.hallucinations import normalise
from poddarkiv.ingest.model import resolve_model
from poddarkiv.ingest.transcribe import (
    FasterWhisperTranscriber,
    OpenAIWhisperTranscriber,
    TranscribeOptions,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDIO = ROOT / "tests" / "data" / "audio" / "iop-sv.mp3"
GAP_S = 0.5
BATCH_SIZE = 8
REFERENCE = "openai-whisper float32"
CONFIGS: dict[str, dict[str, Any]] = {
    "faster-whisper int8": {"engine": "faster-whisper", "compute_type": "int8"},
    "faster-whisper float32": {"engine": "faster-whisper", "compute_type": "float32"},
    "faster-whisper int8 batched": {"engine": "faster-whisper", "compute_type": "int8",
                                    "batched": True},
    REFERENCE: {"engine": "openai-whisper"},
}


def load_audio(paths: list[Path]) -> np.ndarray:
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    parts = [part for path in paths for part in (decode_audio(path), gap)][:-1]
    return np.concatenate(parts)


def _batched_text(transcriber: FasterWhisperTranscriber, audio: np.ndarray) -> str:
    """faster-whisper's batched pipeline: VAD cuts speech into chunks decoded in batches."""
    from faster_whisper import BatchedInferencePipeline

    transcriber.load()
    pipeline = BatchedInferencePipeline(model=transcriber._engine)
    segments, _ = pipeline.transcribe(audio, language="sv", beam_size=5, batch_size=BATCH_SIZE)
    return " ".join(s.text.strip() for s in segments)


def worker(name: str, paths: list[Path], cache: Path, threads: int) -> dict[str, Any]:
    """Run one configuration in this process and measure it."""
    config = CONFIGS[name]
    audio = load_audio(paths)
    model = resolve_model("base", cache_dir=cache, engine=config["engine"])
    options = TranscribeOptions(threads=threads, compute_type=config.get("compute_type"))
    engine_class = (FasterWhisperTranscriber if config["engine"] == "faster-whisper"
                    else OpenAIWhisperTranscriber)
    transcriber = engine_class(model, options)
    started = time.perf_counter()
    transcriber.load()
    loaded = time.perf_counter()
    if config.get("batched"):
        assert isinstance(transcriber, FasterWhisperTranscriber)
        text = _batched_text(transcriber, audio)
    else:
        text = transcriber.transcribe(audio, episode_id="bench").text
    done = time.perf_counter()
    audio_s = len(audio) / SAMPLE_RATE
    return {"name": name, "audio_s": audio_s, "load_s": loaded - started,
            "wall_s": done - loaded, "rtf": (done - loaded) / audio_s,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "text": text}


def run_in_subprocess(name: str, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", name, "--cache", str(args.cache),
               "--threads", str(args.threads), *map(str, args.audio)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, Any]]) -> str:
    import jiwer

    reference = next((r for r in results if r["name"] == REFERENCE), None)
    lines = ["| configuration | load s | wall s | RTF | peak RSS MB | speed-up | WER vs openai |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        speed = f"{reference['wall_s'] / r['wall_s']:.1f}x" if reference else "-"
        wer = (f"{jiwer.wer(normalise(reference['text']), normalise(r['text'])):.2f}"
               if reference else "-")
        lines.append(f"| {r['name']} | {r['load_s']:.1f} | {r['wall_s']:.1f} | {r['rtf']:.2f} "
                     f"| {r['peak_rss_mb']:.0f} | {speed} | {wer} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("audio", nargs="*", type=Path, default=[DEFAULT_AUDIO])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench-models")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.audio, args.cache, args.threads)))
        return
    for engine in ("faster-whisper", "openai-whisper"):  # assemble and convert outside timing
        resolve_model("base", cache_dir=args.cache, engine=engine)
    results = []
    for name in args.configs:
        results.append(run_in_subprocess(name, args))
        print(f"{name}: {results[-1]['wall_s']:.1f} s: {results[-1]['text']}", file=sys.stderr)
    audio_s = results[0]["audio_s"]
    print(f"{len(args.audio)} file(s), {audio_s:.1f} s of audio, {args.threads} threads, "
          f"bundled base model\n")
    print(table(results))


if __name__ == "__main__":
    main()
