"""What confidence is worth: word error rate of passages marked uncertain against certain ones.

    .venv/bin/python bench/confidence.py                     # transcribe the sample, then score
    .venv/bin/python bench/confidence.py --segments out.json # reuse a run (tune without Whisper)

The set is :func:`bench.wer.items` (the sample episodes and the test clip, with their scripts).
Each recording is transcribed once with faster-whisper on the bundled model (or ``--model``)
with default options; its words are aligned with the script by jiwer, and each error is charged
to the passage (segment) whose words it falls in: substitutions and insertions to the passage of
the written word, deletions to the passage of the written word just before (or after, at the
start). A group's WER is its errors over the script words aligned to its passages. The labels
come from :func:`poddarkiv.archive.confidence.passage_confidence`; ``--threshold`` tries other
cut-offs for the score.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer

sys.path.insert(0, str(Path(__file__).resolve().parent))

from wer import ROOT, items, normalise_sv

from poddarkiv.archive.codec import segment_from_dict, segment_to_dict
from poddarkiv.archive.confidence import CONFIDENT_SCORE, passage_confidence


@dataclass
class Tally:
    """Errors and script words charged to one passage."""

    errors: int = 0
    words: int = 0


def charge(reference: str, passages: Sequence[str]) -> list[Tally]:
    """Align ``passages`` (normalised, in order) with ``reference``; errors per passage."""
    owner = [i for i, text in enumerate(passages) for _ in text.split()]
    tallies = [Tally() for _ in passages]
    hypothesis = " ".join(p for p in passages if p)
    if not owner:
        return tallies
    out = jiwer.process_words(reference, hypothesis)
    for chunk in out.alignments[0]:
        n_ref = chunk.ref_end_idx - chunk.ref_start_idx
        if chunk.type == "delete":
            at = chunk.hyp_start_idx - 1 if chunk.hyp_start_idx > 0 else 0
            tallies[owner[min(at, len(owner) - 1)]].errors += n_ref
            tallies[owner[min(at, len(owner) - 1)]].words += n_ref
            continue
        for k in range(chunk.hyp_start_idx, chunk.hyp_end_idx):
            tally = tallies[owner[k]]
            tally.errors += chunk.type != "equal"
            tally.words += chunk.type != "insert"
    return tallies


def label(seg: dict[str, Any], threshold: float) -> str:
    """The label :mod:`poddarkiv.archive.confidence` gives, with the score cut-off varied."""
    found = passage_confidence(segment_from_dict(seg), threshold=threshold)
    return "none" if found is None else found.label


def transcribe_all(model_name: str, cache: Path, threads: int, *,
                   words: bool) -> list[dict[str, Any]]:
    """Each item's reference and segments (as the archive stores them)."""
    from poddarkiv.ingest.audio import decode_audio
    from poddarkiv.ingest.model import resolve_model
    from poddarkiv.ingest.transcribe import FasterWhisperTranscriber, TranscribeOptions

    model = resolve_model(model_name, cache_dir=cache, engine="faster-whisper")
    transcriber = FasterWhisperTranscriber(model, TranscribeOptions(threads=threads,
                                                                     word_timestamps=words))
    rows = []
    for item in items():
        transcript = transcriber.transcribe(decode_audio(item.audio), episode_id=item.name)
        rows.append({"item": item.name, "reference": item.reference,
                     "segments": [segment_to_dict(s) for s in transcript.segments]})
        print(f"{item.name}: {len(transcript.segments)} segments", file=sys.stderr)
    return rows


def table(rows: list[dict[str, Any]], thresholds: Sequence[float]) -> str:
    lines = ["| score cut-off | label | passages | script words | errors | WER |",
             "|---:|---|---:|---:|---:|---:|"]
    for threshold in thresholds:
        groups = {name: [0, 0, 0] for name in ("certain", "uncertain", "none")}
        for row in rows:
            texts = [normalise_sv(s["text"]) for s in row["segments"]]
            for seg, tally in zip(row["segments"], charge(normalise_sv(row["reference"]), texts),
                                  strict=True):
                group = groups[label(seg, threshold)]
                group[0] += 1
                group[1] += tally.words
                group[2] += tally.errors
        for name, (n, words, errors) in groups.items():
            if name == "none" and not n:
                continue
            wer = f"{errors / words:.3f}" if words else "-"
            lines.append(f"| {threshold:.2f} | {name} | {n} | {words} | {errors} | {wer} |")
    return "\n".join(lines)


def passages(rows: list[dict[str, Any]]) -> str:
    """Every passage with its figures and WER, worst score first."""
    found = []
    for row in rows:
        texts = [normalise_sv(s["text"]) for s in row["segments"]]
        for seg, tally in zip(row["segments"], charge(normalise_sv(row["reference"]), texts),
                              strict=True):
            found.append((seg, tally))
    lines = ["| avg_logprob | no_speech | compression | words | errors | text |",
             "|---:|---:|---:|---:|---:|---|"]
    for seg, tally in sorted(found, key=lambda f: f[0]["avg_logprob"]):
        lines.append(f"| {seg['avg_logprob']:.3f} | {seg.get('no_speech_prob', 0):.3f} | "
                     f"{seg.get('compression_ratio', 0):.2f} | {tally.words} | {tally.errors} "
                     f"| {seg['text'].strip()[:60]} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--segments", type=Path, help="read (if present) or write the run here")
    parser.add_argument("--threshold", type=float, action="append",
                        help=f"score cut-offs to try (default: {CONFIDENT_SCORE})")
    parser.add_argument("--model", default="base", help="model name or path (default: base)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench-models")
    parser.add_argument("--passages", action="store_true", help="also list every passage")
    parser.add_argument("--word-timestamps", action="store_true",
                        help="transcribe with word timestamps (scores from word probabilities)")
    args = parser.parse_args()
    if args.segments and args.segments.exists():
        rows = json.loads(args.segments.read_text(encoding="utf-8"))
    else:
        rows = transcribe_all(args.model, args.cache, args.threads,
                              words=args.word_timestamps)
        if args.segments:
            args.segments.write_text(json.dumps(rows, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
    print(table(rows, args.threshold or [CONFIDENT_SCORE]))
    if args.passages:
        print()
        print(passages(rows))


if __name__ == "__main__":
    main()
