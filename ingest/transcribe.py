"""Speech to text: one :class:`Transcriber` protocol, two Whisper engines on the same weights.

``faster-whisper`` (CTranslate2; int8 on CPU, float16 on CUDA) is the default and
``openai-whisper`` (PyTorch) the reference. Both take the decoded 16 kHz array from
:func:`poddarkiv.ingest.audio.decode_audio`, and :func:`make_transcriber` gives them the same
weights (see :mod:`poddarkiv.ingest.model`). Engine results become our
:class:`~poddarkiv.archive.models.Transcript` here and only here, after the guards in
:mod:`poddarkiv.ingest.hallucinations` have had their say.

Long audio is fed to the engine in windows of about half an hour cut at quiet moments, which
bounds the engines' working memory whatever the episode's length.

By default faster-whisper decodes in batches (``batch_size`` 8, its ``BatchedInferencePipeline``):
its voice filter (Silero VAD, an ONNX file inside the faster_whisper package, so nothing is
downloaded) cuts each window into speech chunks of up to 30 s, and eight chunks go through the
decoder at once, with the same beam of 5 that openai-whisper's path uses. Measured on the four
sample episodes (``bench/transcribe.py``, 2 cores, ``bench/README.md`` "Transcription"): about
half the CPU time of faster-whisper's sequential decoder (8.2 s against 15.5 s for 122 s of
audio at two threads, 7.3 s against 11.4 s on one), the same word error rate against the
scripts (0.627 against 0.631), and 8.9x openai-whisper's speed in the quietest round (4.3x for
the sequential decoder), 13x in CPU time on one thread each. The price: each chunk is decoded
without the previous chunk's text and without the temperature fallback, and the process needs
about 340 MB more. ``batch_size=1`` gives the sequential decoder.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from poddarkiv.archive.models import Segment, Transcript, Word
from poddarkiv.archive.times import Clock, utcnow
from poddarkiv.config import Settings
from poddarkiv.errors import ConfigError, ModelError, TranscriptionError
from poddarkiv.ingest.audio import SAMPLE_RATE, plan_windows
from poddarkiv.ingest.convert import load_whisper_checkpoint
from poddarkiv.ingest.hallucinations import apply_guards
from poddarkiv.ingest.model import ResolvedModel, resolve_model

__all__ = [
    "ENGINE_CLASSES",
    "GLOSSARY_PROMPT",
    "WINDOW_S",
    "FasterWhisperTranscriber",
    "OpenAIWhisperTranscriber",
    "Progress",
    "TranscribeOptions",
    "Transcriber",
    "make_transcriber",
]

#: Domain words offered to the decoder as context when ``glossary`` is on.
GLOSSARY_PROMPT = (
    "Idéburet offentligt partnerskap (IOP), LOU, upphandling, Konkurrensverket, statsstöd, "
    "civilsamhället."
)
#: Longest stretch of audio handed to an engine at once, and where to look for a quiet cut.
WINDOW_S = 30 * 60.0
WINDOW_SEARCH_S = 30.0
#: openai-whisper's mel frames are 10 ms (HOP_LENGTH 160 samples at 16 kHz).
_SECONDS_PER_FRAME = 160 / SAMPLE_RATE
_ENGINE_ERRORS = (RuntimeError, ValueError, IndexError, OSError)

log = logging.getLogger(__name__)

Progress = Callable[[float, float], None]
"""Called with (seconds of audio done, total seconds)."""


#: Settings' defaults are the transcription defaults: options are derived from them, not copied.
_DEFAULTS = Settings()
_SETTINGS_FIELDS = frozenset(f.name for f in dataclasses.fields(Settings))


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """How to transcribe: the transcription fields of :class:`~poddarkiv.config.Settings` (same
    names, same defaults) plus the window length. ``language="auto"`` detects the language."""

    language: str = _DEFAULTS.language
    beam_size: int = _DEFAULTS.beam_size
    batch_size: int = _DEFAULTS.batch_size
    vad: bool = _DEFAULTS.vad
    word_timestamps: bool = _DEFAULTS.word_timestamps
    glossary: bool = _DEFAULTS.glossary
    threads: int = _DEFAULTS.threads
    device: str = _DEFAULTS.device
    compute_type: str | None = _DEFAULTS.compute_type
    window_s: float = WINDOW_S

    @classmethod
    def from_settings(cls, settings: Settings) -> TranscribeOptions:
        """The options ``settings`` asks for: every field the two share, by name."""
        shared = {f.name for f in dataclasses.fields(cls)} & _SETTINGS_FIELDS
        return cls(**{name: getattr(settings, name) for name in shared})

    @property
    def fixed_language(self) -> str | None:
        """The language to force, or ``None`` to detect."""
        return None if self.language == "auto" else self.language

    @property
    def prompt(self) -> str | None:
        """The initial prompt: the glossary when it is on."""
        return GLOSSARY_PROMPT if self.glossary else None

    @property
    def batched(self) -> bool:
        """Whether faster-whisper decodes speech chunks in batches (openai-whisper never does)."""
        return self.batch_size > 1

    @property
    def resolved_compute_type(self) -> str:
        """``compute_type``, else int8 on CPU and float16 on CUDA."""
        return self.compute_type or ("float16" if self.device == "cuda" else "int8")


class Transcriber(Protocol):
    """Turns decoded audio (16 kHz mono float32) into a transcript."""

    name: str

    def transcribe(self, audio: np.ndarray, *, episode_id: str,
                   progress: Progress | None = None) -> Transcript:
        """Transcribe ``audio``; ``progress`` hears (seconds done, total seconds)."""
        ...


WindowRunner = Callable[[np.ndarray, float, str | None, Callable[[float], None]],
                        tuple[list[Segment], str]]


def _run_windows(audio: np.ndarray, options: TranscribeOptions, run: WindowRunner,
                 progress: Progress | None) -> tuple[list[Segment], str]:
    """Feed ``audio`` to ``run`` window by window; segments come back in episode time."""
    total = len(audio) / SAMPLE_RATE
    language, segments = options.fixed_language, []

    def reporter(offset: float) -> Callable[[float], None]:
        def report(done: float) -> None:
            if progress is not None:
                progress(min(offset + done, total), total)
        return report

    search_s = min(WINDOW_SEARCH_S, options.window_s / 4)
    for start, end in plan_windows(audio, window_s=options.window_s, search_s=search_s):
        offset = start / SAMPLE_RATE
        found, detected = run(audio[start:end], offset, language, reporter(offset))
        segments.extend(found)
        language = language or detected
        reporter(0.0)(end / SAMPLE_RATE)
    return segments, language or "und"


def _finish(engine: str, model: ResolvedModel, episode_id: str, audio: np.ndarray,
            found: tuple[list[Segment], str], *, prompt: str | None, clock: Clock) -> Transcript:
    segments, language = found
    guarded = apply_guards(segments, prompt=prompt)
    return Transcript(
        episode_id=episode_id, source="whisper", language=language, segments=guarded.segments,
        engine=engine, model=model.name, model_sha256=model.sha256,
        duration_s=len(audio) / SAMPLE_RATE, created=clock(), notes=guarded.notes,
    )


def _word(start: float, end: float, text: str, probability: float | None, offset: float) -> Word:
    return Word(start=offset + float(start), end=offset + float(end), text=text,
                probability=None if probability is None else float(probability))


class _WindowedTranscriber:
    """What both engines share: lazy loading, windows, errors, and the Transcript."""

    name = ""

    def __init__(self, model: ResolvedModel, options: TranscribeOptions | None = None, *,
                 clock: Clock = utcnow, engine: Any = None) -> None:
        self.model, self.options, self._clock = model, options or TranscribeOptions(), clock
        self._engine: Any = engine

    def load(self) -> None:
        """Load the model now rather than on the first transcription."""
        self._load()

    def _load(self) -> Any:
        if self._engine is None:
            try:
                self._engine = self._load_engine()
            except (*_ENGINE_ERRORS, KeyError, TypeError) as exc:
                raise ModelError(f"{self.name} cannot load {self.model.path}: {exc}") from exc
        return self._engine

    def _load_engine(self) -> Any:
        raise NotImplementedError

    def _window(self, chunk: np.ndarray, offset: float, language: str | None,
                report: Callable[[float], None]) -> tuple[list[Segment], str]:
        raise NotImplementedError

    def transcribe(self, audio: np.ndarray, *, episode_id: str,
                   progress: Progress | None = None) -> Transcript:
        """Transcribe ``audio``; see :class:`Transcriber`."""
        try:
            found = _run_windows(audio, self.options, self._window, progress)
        except _ENGINE_ERRORS as exc:
            raise TranscriptionError(f"{self.name} failed on {episode_id}: {exc}") from exc
        return _finish(self.name, self.model, episode_id, audio, found,
                       prompt=self.options.prompt, clock=self._clock)


class FasterWhisperTranscriber(_WindowedTranscriber):
    """faster-whisper on a CTranslate2 model folder; the model loads on first use, once.

    ``engine`` is an already-loaded ``faster_whisper.WhisperModel``, or a
    ``BatchedInferencePipeline`` around one when ``options.batched`` (or a fake, in tests).
    """

    name = "faster-whisper"

    def __init__(self, model: ResolvedModel, options: TranscribeOptions | None = None, *,
                 clock: Clock = utcnow, engine: Any = None) -> None:
        if model.kind == "whisper-checkpoint":
            raise ModelError(f"{model.path}: faster-whisper needs a CTranslate2 model folder")
        super().__init__(model, options, clock=clock, engine=engine)

    def _load_engine(self) -> Any:
        from faster_whisper import BatchedInferencePipeline, WhisperModel

        o = self.options
        model = WhisperModel(str(self.model.path), device=o.device, local_files_only=True,
                             compute_type=o.resolved_compute_type, cpu_threads=o.threads)
        return BatchedInferencePipeline(model=model) if o.batched else model

    def _window(self, chunk: np.ndarray, offset: float, language: str | None,
                report: Callable[[float], None]) -> tuple[list[Segment], str]:
        pieces, info = self._load().transcribe(chunk, **_faster_whisper_options(
            self.options, language))
        segments = []
        for piece in pieces:  # a generator: decoding happens as we iterate
            words = tuple(_word(w.start, w.end, w.word, w.probability, offset)
                          for w in piece.words or ())
            segments.append(Segment(
                start=offset + float(piece.start), end=offset + float(piece.end), text=piece.text,
                avg_logprob=float(piece.avg_logprob), no_speech_prob=float(piece.no_speech_prob),
                compression_ratio=float(piece.compression_ratio),
                words=words))
            report(piece.end)
        return segments, str(info.language)


def _faster_whisper_options(o: TranscribeOptions, language: str | None) -> dict[str, Any]:
    """The keyword arguments of faster-whisper's ``transcribe`` (the model's or the batched
    pipeline's) that ``o`` asks for; the rest are faster-whisper's defaults."""
    options: dict[str, Any] = {"language": language, "beam_size": o.beam_size,
                               "vad_filter": o.vad, "word_timestamps": o.word_timestamps,
                               "initial_prompt": o.prompt}
    if o.batched:
        # The pipeline needs its voice filter to cut audio over 30 s into chunks, and leaves out
        # the timestamp tokens unless told otherwise: we keep them, so that a passage is a
        # sentence or two (as the sequential decoder gives) rather than a whole chunk.
        options.update(vad_filter=True, batch_size=o.batch_size, without_timestamps=False)
    return options


class _FrameCounter:
    """Stands in for tqdm inside openai-whisper's ``transcribe()``, which has no progress hook
    but reports the mel frames it has done to its tqdm bar."""

    def __init__(self, report: Callable[[float], None]) -> None:
        self._report, self._frames = report, 0

    def __call__(self, *args: Any, **kwargs: Any) -> _FrameCounter:
        return self

    def __enter__(self) -> _FrameCounter:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, frames: int = 1, *args: Any, **kwargs: Any) -> None:
        self._frames += frames
        self._report(self._frames * _SECONDS_PER_FRAME)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None  # the rest of tqdm's interface does nothing


@contextmanager
def _whisper_progress(report: Callable[[float], None]) -> Iterator[None]:
    """openai-whisper's ``transcribe()`` reports progress only to a tqdm bar, which its module
    imports as ``tqdm``: point that name at a :class:`_FrameCounter` for the call (the one place
    we touch openai-whisper's internals). An openai-whisper without it still transcribes, without
    progress, and the log says why."""
    module = importlib.import_module("whisper.transcribe")
    original = getattr(module, "tqdm", None)
    if original is None:
        log.warning("this openai-whisper has no whisper.transcribe.tqdm: transcribing without "
                    "progress reports")
        yield
        return
    setattr(module, "tqdm", types.SimpleNamespace(tqdm=_FrameCounter(report)))  # noqa: B010
    try:
        yield
    finally:
        setattr(module, "tqdm", original)  # noqa: B010


def _segment_from_dict(d: dict[str, Any], offset: float) -> Segment:
    words = tuple(_word(w["start"], w["end"], w["word"], w.get("probability"), offset)
                  for w in d.get("words") or ())
    return Segment(start=offset + float(d["start"]), end=offset + float(d["end"]),
                   text=str(d["text"]), avg_logprob=float(d["avg_logprob"]),
                   no_speech_prob=float(d["no_speech_prob"]),
                   compression_ratio=float(d["compression_ratio"]), words=words)


class OpenAIWhisperTranscriber(_WindowedTranscriber):
    """openai-whisper on a ``.pt`` checkpoint; the model loads on first use, once.

    It has no voice-activity filter, so ``vad=True`` is refused rather than ignored; it has no
    batched decoding either, and decodes sequentially whatever ``batch_size`` says (its path is
    the reference the benchmarks measure faster-whisper against, and stays as it is).
    ``engine`` is an already-loaded ``whisper.model.Whisper``.
    """

    name = "openai-whisper"

    def __init__(self, model: ResolvedModel, options: TranscribeOptions | None = None, *,
                 clock: Clock = utcnow, engine: Any = None) -> None:
        if model.kind != "whisper-checkpoint":
            raise ModelError(f"{model.path}: openai-whisper needs a .pt checkpoint "
                             "(resolve_model converts CTranslate2 weights into one)")
        if options is not None and options.vad:
            raise ConfigError("openai-whisper has no voice-activity filter: use faster-whisper")
        super().__init__(model, options, clock=clock, engine=engine)

    def _load_engine(self) -> Any:
        o = self.options
        return load_whisper_checkpoint(self.model.path, sha256=self.model.sha256,
                                       device=o.device, threads=o.threads)

    def _window(self, chunk: np.ndarray, offset: float, language: str | None,
                report: Callable[[float], None]) -> tuple[list[Segment], str]:
        import whisper

        o = self.options
        with _whisper_progress(report):
            result = whisper.transcribe(
                self._load(), chunk, language=language, beam_size=o.beam_size, best_of=5,
                fp16=o.device == "cuda", word_timestamps=o.word_timestamps,
                initial_prompt=o.prompt, verbose=None)
        segments = [_segment_from_dict(d, offset) for d in result["segments"]]
        return segments, str(result["language"])


#: Each engine named in :data:`poddarkiv.config.ENGINES`, by its class.
ENGINE_CLASSES: dict[str, type[FasterWhisperTranscriber] | type[OpenAIWhisperTranscriber]] = {
    cls.name: cls for cls in (FasterWhisperTranscriber, OpenAIWhisperTranscriber)
}


def make_transcriber(settings: Settings) -> Transcriber:
    """The engine ``settings.engine`` on the weights ``settings.model``, resolved offline.

    Resolving may assemble the bundled model or convert it for openai-whisper (once per cache
    folder); the engine itself loads on its first transcription.
    """
    engine = ENGINE_CLASSES.get(settings.engine)
    if engine is None:
        raise ConfigError(f"unknown engine {settings.engine!r}: expected one of "
                          + ", ".join(ENGINE_CLASSES))
    model = resolve_model(settings.model, cache_dir=settings.models_dir, engine=settings.engine)
    return engine(model, TranscribeOptions.from_settings(settings))
