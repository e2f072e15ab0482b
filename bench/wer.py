"""Word error rate on Swedish speech with reference scripts, per engine, model and prompt.

    .venv/bin/python bench/wer.py                       # both engines, glossary off and on
    .venv/bin/python bench/wer.py --engines faster-whisper --model base --model /path/kb-ct2

The set is the sample feed's episodes (``poddarkiv/sample/audio/*.mp3`` with
``poddarkiv/sample/scripts/*.txt``) and the test clip, all synthesised with espeak-ng. Both sides
go through :func:`normalise_sv` before scoring. Whisper's ``BasicTextNormalizer`` keeps å, ä and
ö but deletes anything in parentheses ("(IOP)"), and its ``EnglishTextNormalizer`` strips
diacritics ("överenskommelse" → "overenskommelse"), so neither fits Swedish as it is.
WER is corpus-level: all errors over all reference words.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer

from poddarkiv.ingest.audio import SAMPLE_RATE, decode_audio
from poddarkiv.ingest.model import resolve_model
from poddarkiv.ingest.transcribe import (
    FasterWhisperTranscriber,
    OpenAIWhisperTranscriber,
    TranscribeOptions,
)

ROOT = Path(__file__).resolve().parents[1]
ENGINES = ("faster-whisper", "openai-whisper")


@dataclass(frozen=True, slots=True)
class Item:
    """One recording and what was said in it."""

    name: str
    audio: Path
    reference: str


def normalise_sv(text: str) -> str:
    """Lowercase words, punctuation and symbols removed, å ä ö é kept, hyphens split."""
    text = unicodedata.normalize("NFKC", text).lower()
    kept = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return " ".join(kept.split())


def script_for(audio: Path) -> str | None:
    """What was said in ``audio``: the sample's script of that name, or a ``.txt`` beside it."""
    for script in (audio.parent.parent / "scripts" / f"{audio.stem}.txt",
                   audio.with_suffix(".txt")):
        if script.exists():
            return script.read_text(encoding="utf-8")
    return None


def items() -> list[Item]:
    found = []
    for script in sorted((ROOT / "poddarkiv" / "sample" / "scripts").glob("*.txt")):
        audio = ROOT / "poddarkiv" / "sample" / "audio" / f"{script.stem}.mp3"
        if audio.exists():
            found.append(Item(script.stem, audio, script.read_text(encoding="utf-8")))
    clip = ROOT / "tests" / "data" / "audio" / "iop-sv.txt"
    found.append(Item("test clip", clip.with_suffix(".mp3"), clip.read_text(encoding="utf-8")))
    return found


def run_config(engine: str, model_name: str, cache: Path, threads: int,
               set_: list[Item]) -> list[dict[str, Any]]:
    """Both prompt settings for one engine and model; the model loads once and is shared."""
    model = resolve_model(model_name, cache_dir=cache, engine=engine)
    cls = FasterWhisperTranscriber if engine == "faster-whisper" else OpenAIWhisperTranscriber
    loaded = cls(model, TranscribeOptions(threads=threads))
    loaded.load()
    rows = []
    for glossary in (False, True):
        transcriber = cls(model, TranscribeOptions(threads=threads, glossary=glossary),
                          engine=loaded._engine)
        for item in set_:
            audio = decode_audio(item.audio)
            started = time.perf_counter()
            text = transcriber.transcribe(audio, episode_id=item.name).text
            rows.append({"engine": engine, "model": model_name, "glossary": glossary,
                         "item": item.name, "audio_s": len(audio) / SAMPLE_RATE,
                         "wall_s": time.perf_counter() - started,
                         "reference": normalise_sv(item.reference),
                         "hypothesis": normalise_sv(text)})
            print(f"{engine} {model_name} glossary={glossary} {item.name}: {text}",
                  file=sys.stderr)
    return rows


def summary(rows: list[dict[str, Any]]) -> str:
    lines = ["| engine | model | glossary | WER | words | audio s | RTF |",
             "|---|---|---|---:|---:|---:|---:|"]
    keys = sorted({(r["engine"], r["model"], r["glossary"]) for r in rows})
    for engine, model, glossary in keys:
        group = [r for r in rows if (r["engine"], r["model"], r["glossary"]) ==
                 (engine, model, glossary)]
        wer = jiwer.wer([r["reference"] for r in group], [r["hypothesis"] for r in group])
        words = sum(len(r["reference"].split()) for r in group)
        audio_s = sum(r["audio_s"] for r in group)
        rtf = sum(r["wall_s"] for r in group) / audio_s
        lines.append(f"| {engine} | {model} | {'on' if glossary else 'off'} | {wer:.3f} | "
                     f"{words} | {audio_s:.0f} | {rtf:.2f} |")
    return "\n".join(lines)


def per_item(rows: list[dict[str, Any]]) -> str:
    lines = ["| item | engine | glossary | WER |", "|---|---|---|---:|"]
    for r in rows:
        lines.append(f"| {r['item']} | {r['engine']} {r['model']} | "
                     f"{'on' if r['glossary'] else 'off'} | "
                     f"{jiwer.wer(r['reference'], r['hypothesis']):.3f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engines", nargs="*", default=list(ENGINES), choices=ENGINES)
    parser.add_argument("--model", action="append", help="model name or path (default: base)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "bench-models")
    parser.add_argument("--json", type=Path, help="also write every row here")
    args = parser.parse_args()
    set_ = items()
    rows = []
    for model_name in args.model or ["base"]:
        for engine in args.engines:
            rows.extend(run_config(engine, model_name, args.cache, args.threads, set_))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    print(summary(rows))
    print()
    print(per_item(rows))


if __name__ == "__main__":
    main()
