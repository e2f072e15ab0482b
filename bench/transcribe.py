"""Both Whisper engines on the same audio and the same weights, side by side, in rounds.

    .venv/bin/python bench/transcribe.py poddarkiv/sample/audio/*.mp3 --threads 2 --rounds 3
    .venv/bin/python bench/transcribe.py --configs "faster-whisper (default)" "openai-whisper"
    .venv/bin/python bench/transcribe.py                      # the 6 s test clip, one round

Each run is one configuration in its own Python process, so its peak resident memory
(``ru_maxrss``, which counts native allocations that ``tracemalloc`` cannot see) is its own.
The configurations alternate in rounds (round 1 in the order given, round 2 reversed, round 3
shuffled, and so on), so that a burst of load from other programs falls on different
configurations in different rounds; the one-minute load average (``os.getloadavg``) is recorded
before and after each run. Several files are joined into one stretch of audio with half a second
of silence between them, which stands in for a long episode (several 30 s windows, the previous
text carried over).

Reported per configuration, as medians over the rounds: transcription wall time and real-time
factor (wall time / audio time; lower is faster), CPU time, the speed-up against openai-whisper
(the median of each round's ratio, so both sides of a ratio ran minutes apart under about the same
load), the word error rate against the scripts (:func:`wer.script_for`, normalised by
:func:`wer.normalise_sv`) and against openai-whisper's words, and the load average range.

faster-whisper configurations go through :class:`FasterWhisperTranscriber` (windows, guards,
segments), as the pipeline does; a configuration's ``decode`` options are laid over the ones the
transcriber passes to the engine, so each row differs from its base (the batched default, or the
sequential decoder) in what it names only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wer import normalise_sv, script_for

from poddarkiv.ingest.audio import SAMPLE_RATE, decode_audio
from poddarkiv.ingest.model import resolve_model
from poddarkiv.ingest.transcribe import (
    FasterWhisperTranscriber,
    OpenAIWhisperTranscriber,
    TranscribeOptions,
)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDIO = ROOT / "tests" / "data" / "audio" / "iop-sv.mp3"
GAP_S = 0.5
REFERENCE = "openai-whisper"
DEFAULT = "faster-whisper (default)"


def _fw(batch_size: int = 1, decode: dict[str, Any] | None = None, **options: Any
        ) -> dict[str, Any]:
    """A faster-whisper configuration: sequential unless ``batch_size`` says otherwise."""
    return {"engine": "faster-whisper", "options": {"batch_size": batch_size, **options},
            "decode": decode or {}}


#: name → engine, TranscribeOptions fields (``options``) and engine keyword arguments laid over
#: the ones the transcriber passes (``decode``). "fw" is faster-whisper int8.
CONFIGS: dict[str, dict[str, Any]] = {
    REFERENCE: {"engine": "openai-whisper"},
    "openai-whisper beam 1": {"engine": "openai-whisper", "options": {"beam_size": 1}},
    # One thread each: no thread waits on another that the scheduler has set aside, so CPU time
    # is close to the work itself, whatever else runs (the load-proof comparison).
    "openai-whisper 1 thread": {"engine": "openai-whisper", "options": {"threads": 1}},
    DEFAULT: {"engine": "faster-whisper"},
    "fw sequential (the default before)": _fw(),
    "fw sequential beam 1": _fw(beam_size=1),
    "fw sequential beam 2": _fw(beam_size=2),
    "fw sequential beam 3": _fw(beam_size=3),
    "fw sequential vad": _fw(vad=True),
    "fw sequential word timestamps": _fw(word_timestamps=True),
    "fw sequential beam 3 word timestamps": _fw(beam_size=3, word_timestamps=True),
    "fw sequential without timestamps": _fw(decode={"without_timestamps": True}),
    "fw sequential no previous text": _fw(decode={"condition_on_previous_text": False}),
    "fw sequential no fallback": _fw(decode={"temperature": 0.0}),
    "fw sequential 1 thread": _fw(threads=1),
    "fw sequential 4 threads": _fw(threads=4),
    "fw sequential threads 0 (library default)": _fw(threads=0),
    "fw sequential float32": _fw(compute_type="float32"),
    "fw batched 8 (the default)": _fw(8),
    "fw batched 8 without timestamps": _fw(8, decode={"without_timestamps": True}),
    "fw batched 8 word timestamps": _fw(8, word_timestamps=True),
    "fw batched 8 1 thread": _fw(8, threads=1),
    "fw batched 4": _fw(4),
    "fw batched 16": _fw(16),
}


class _Overlay:
    """Stands between the transcriber and faster-whisper (the model or the batched pipeline):
    the configuration's ``decode`` options over the transcriber's."""

    def __init__(self, engine: Any, decode: dict[str, Any]) -> None:
        self._engine, self._decode = engine, decode

    def transcribe(self, audio: np.ndarray, **options: Any) -> Any:
        return self._engine.transcribe(audio, **{**options, **self._decode})


def load_audio(paths: list[Path]) -> np.ndarray:
    gap = np.zeros(int(GAP_S * SAMPLE_RATE), np.float32)
    parts = [part for path in paths for part in (decode_audio(path), gap)][:-1]
    return np.concatenate(parts)


def make(name: str, cache: Path,
         threads: int) -> FasterWhisperTranscriber | OpenAIWhisperTranscriber:
    """The configuration's transcriber, loaded."""
    config = CONFIGS[name]
    model = resolve_model("base", cache_dir=cache, engine=config["engine"])
    options = replace(TranscribeOptions(threads=threads), **config.get("options", {}))
    if config["engine"] == "openai-whisper":
        transcriber: Any = OpenAIWhisperTranscriber(model, options)
        transcriber.load()
        return transcriber  # type: ignore[no-any-return]
    plain = FasterWhisperTranscriber(model, options)
    plain.load()
    overlay = _Overlay(plain._engine, config.get("decode", {}))
    return FasterWhisperTranscriber(model, options, engine=overlay)


def worker(name: str, paths: list[Path], cache: Path, threads: int) -> dict[str, Any]:
    """Run one configuration in this process and measure it."""
    audio = load_audio(paths)
    started = time.perf_counter()
    transcriber = make(name, cache, threads)
    loaded = time.perf_counter()
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    text = transcriber.transcribe(audio, episode_id="bench").text
    done = time.perf_counter()
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    audio_s = len(audio) / SAMPLE_RATE
    return {"name": name, "audio_s": audio_s, "load_s": loaded - started,
            "wall_s": done - loaded, "rtf": (done - loaded) / audio_s,
            "cpu_s": (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu.ru_utime + cpu.ru_stime),
            "peak_rss_mb": cpu_end.ru_maxrss / 1024, "text": text}


def busy_cores(seconds: float = 1.0) -> float:
    """How many cores other programs keep busy now: /proc/stat's non-idle time over a second
    (Linux; NaN elsewhere). Unlike the load average, it does not remember our previous run."""
    def ticks() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields) - fields[3] - fields[4], sum(fields)  # idle and iowait are idle

    try:
        busy, total = ticks()
        time.sleep(seconds)
        busy_end, total_end = ticks()
    except OSError:
        return float("nan")
    return (os.cpu_count() or 1) * (busy_end - busy) / max(total_end - total, 1)


def run_in_subprocess(name: str, args: argparse.Namespace, round_: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", name, "--cache", str(args.cache),
               "--threads", str(args.threads), *map(str, args.audio)]
    others = busy_cores()
    load_before = os.getloadavg()[0]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result.update(round=round_, load_before=load_before, load_after=os.getloadavg()[0],
                  busy_cores_before=others)
    return result


def round_order(names: list[str], round_: int, seed: int) -> list[str]:
    """Round 1 as given, round 2 reversed, later rounds shuffled (seeded)."""
    if round_ == 1:
        return list(names)
    if round_ == 2:
        return list(reversed(names))
    shuffled = list(names)
    random.Random(seed + round_).shuffle(shuffled)
    return shuffled


def wer(reference: str, text: str) -> float:
    import jiwer

    return float(jiwer.wer(normalise_sv(reference), normalise_sv(text) or "-"))


def summarise(runs: list[dict[str, Any]], names: list[str], script: str | None,
              reference: str = REFERENCE) -> str:
    """The table: medians over rounds, per configuration; ratios are taken within a round."""
    by_round = {(r["round"], r["name"]): r for r in runs}
    rounds = sorted({r["round"] for r in runs})

    def ratios(name: str, key: str) -> list[float]:
        return [by_round[(k, reference)][key] / by_round[(k, name)][key] for k in rounds
                if (k, reference) in by_round and (k, name) in by_round]

    lines = [f"| configuration | RTF | wall s | CPU s | speed-up vs {reference} | CPU-time ratio "
             f"| WER vs scripts | WER vs {reference} | peak RSS MB | load avg | others' cores "
             "| rounds |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---:|"]
    for name in names:
        mine = [r for r in runs if r["name"] == name]
        against = [wer(by_round[(r["round"], reference)]["text"], r["text"]) for r in mine
                   if (r["round"], reference) in by_round]
        wers = [wer(script, r["text"]) for r in mine] if script else []
        loads = [x for r in mine for x in (r["load_before"], r["load_after"])]
        busy = [r.get("busy_cores_before", float("nan")) for r in mine]
        lines.append(
            f"| {name} | {_median(mine, 'rtf'):.3f} | {_median(mine, 'wall_s'):.1f} "
            f"| {_median(mine, 'cpu_s'):.1f} | {_spread(ratios(name, 'wall_s'), 'x')} "
            f"| {_spread(ratios(name, 'cpu_s'), 'x')} | {_spread(wers)} | {_spread(against)} "
            f"| {_median(mine, 'peak_rss_mb'):.0f} | {min(loads):.1f}-{max(loads):.1f} "
            f"| {min(busy):.1f}-{max(busy):.1f} | {len(mine)} |")
    return "\n".join(lines)


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def _spread(values: list[float], unit: str = "") -> str:
    """The median, with the range when the values differ."""
    if not values:
        return "-"
    median = f"{statistics.median(values):.2f}{unit}"
    if max(values) - min(values) < 0.005:
        return median
    return f"{median} ({min(values):.2f}-{max(values):.2f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("audio", nargs="*", type=Path, default=[DEFAULT_AUDIO])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench-models")
    parser.add_argument("--configs", nargs="*", default=[DEFAULT, REFERENCE],
                        choices=list(CONFIGS))
    parser.add_argument("--json", type=Path, help="append every run here, one JSON line each")
    parser.add_argument("--summary", type=Path, help="only summarise the runs in this file")
    parser.add_argument("--reference", default=REFERENCE, choices=list(CONFIGS),
                        help="the configuration the ratios are taken against")
    parser.add_argument("--worker", choices=list(CONFIGS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.audio, args.cache, args.threads)))
        return
    scripts = [script_for(path) for path in args.audio]
    script = None if None in scripts else " ".join(s for s in scripts if s)
    if args.summary:
        runs = [json.loads(line) for line in args.summary.read_text().splitlines() if line]
        names = list(dict.fromkeys(r["name"] for r in runs))
        print(summarise(runs, names, script, args.reference))
        return
    for engine in ("faster-whisper", "openai-whisper"):  # assemble and convert outside timing
        resolve_model("base", cache_dir=args.cache, engine=engine)
    runs = []
    for round_ in range(1, args.rounds + 1):
        for name in round_order(args.configs, round_, args.seed):
            run = run_in_subprocess(name, args, round_)
            runs.append(run)
            if args.json:
                with args.json.open("a", encoding="utf-8") as out:
                    out.write(json.dumps(run, ensure_ascii=False) + "\n")
            print(f"round {round_} {name}: {run['wall_s']:.1f} s, load {run['load_before']:.1f}"
                  f"→{run['load_after']:.1f}, others busy {run['busy_cores_before']:.1f}: "
                  f"{run['text']}", file=sys.stderr, flush=True)
    print(f"{len(args.audio)} file(s), {runs[0]['audio_s']:.1f} s of audio, {args.threads} "
          f"threads, bundled base model, {args.rounds} round(s)\n")
    print(summarise(runs, args.configs, script, args.reference))


if __name__ == "__main__":
    main()
