"""Console progress for long runs: feeds as they finish, a bar with audio time and ETA."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from poddarkiv.archive.models import Episode
from poddarkiv.archive.times import format_clock
from poddarkiv.ingest.pipeline import EpisodeOutcome, IngestReport
from poddarkiv.ingest.refresh import FeedOutcome
from poddarkiv.site.episode_notes import describe
from poddarkiv.site.i18n import gettext_for

__all__ = ["BAR_WIDTH", "ConsoleProgress", "print_report"]

BAR_WIDTH = 30
REDRAW_EVERY_S = 0.5


class ConsoleProgress:
    """Prints to a terminal (stderr by default).

    One line per step, and a redrawn bar while transcribing."""

    def __init__(self, out: TextIO | None = None, *, clock: object = time.monotonic) -> None:
        self.out = out or sys.stderr
        self._clock = clock
        self._started = 0.0
        self._last_draw = 0.0
        self._bar_open = False

    def _now(self) -> float:
        return float(self._clock())  # type: ignore[operator]

    def _line(self, text: str) -> None:
        if self._bar_open:
            self.out.write("\n")
            self._bar_open = False
        self.out.write(text + "\n")
        self.out.flush()

    def feed_done(self, outcome: FeedOutcome) -> None:
        # A failure's reason is said once, in the report (print_report), not here as well.
        new = f", {len(outcome.new_episode_ids)} new" if outcome.new_episode_ids else ""
        self._line(f"feed {outcome.status:<9} {outcome.url}{new}")

    def episode_started(self, episode: Episode, what: str) -> None:
        self._started = self._now()
        verb = {"publisher": "fetching publisher transcript", "download": "downloading audio",
                "transcribe": "transcribing", "queue": "queued for a worker"}.get(what, what)
        self._line(f"  {verb}: {episode.title}")

    def audio_progress(self, done_s: float, total_s: float) -> None:
        now = self._now()
        if now - self._last_draw < REDRAW_EVERY_S and done_s < total_s:
            return
        self._last_draw = now
        frac = min(1.0, done_s / total_s) if total_s > 0 else 0.0
        filled = int(frac * BAR_WIDTH)
        elapsed = now - self._started
        eta = elapsed * (1 - frac) / frac if frac > 0 else 0.0
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.out.write(f"\r  [{bar}] {format_clock(done_s)} / {format_clock(total_s)} "
                       f"audio, ETA {format_clock(eta)} ")
        self.out.flush()
        self._bar_open = True

    def episode_done(self, outcome: EpisodeOutcome) -> None:
        self._line(f"  episode {outcome.status}: {outcome.title}")


def print_report(report: IngestReport, out: TextIO | None = None) -> None:
    """A short summary: counts per status, then every failure with its reason."""
    out = out or sys.stdout
    english = gettext_for("en")
    feeds: dict[str, int] = {}
    for f in report.feeds:
        feeds[f.status] = feeds.get(f.status, 0) + 1
    episodes: dict[str, int] = {}
    for e in report.episodes:
        episodes[e.status] = episodes.get(e.status, 0) + 1
    took = (report.finished - report.started).total_seconds()
    out.write(f"Feeds: {_counts(feeds)}. Episodes: {_counts(episodes)}. ({took:.1f} s)\n")
    if report.waiting:
        out.write(f"{report.waiting} failed episode(s) waiting to be retried "
                  "(`poddarkiv ingest --retry-failed` tries them now).\n")
    if report.images_removed:
        out.write(f"{report.images_removed} kept episode image(s) no episode names any more "
                  "were removed.\n")
    for f in report.feeds:
        if f.status == "failed":
            out.write(f"FAILED feed {f.url}: {f.error}\n")
        if f.skipped_count and f.status in ("new", "updated"):
            out.write(f"feed {f.url}: {f.skipped_count} of {f.item_count} items not stored "
                      f"({_reasons(f)}); `poddarkiv feeds list --problems` lists them\n")
        if f.text_only and f.status in ("new", "updated"):
            out.write(f"feed {f.url}: {f.text_only} of {f.item_count} items have no audio; "
                      "kept as text-only episodes (their show notes are searchable)\n")
        if f.problems and f.status in ("new", "updated"):
            out.write(f"feed {f.url}: {len(f.problems)} problem(s), first: {f.problems[0]}; "
                      "`poddarkiv feeds list --problems` lists them\n")
    for e in report.episodes:
        if e.status == "failed":
            out.write(f"FAILED episode {e.title} ({e.episode_id}): {e.error}\n")
        for note in e.notes:  # the site's words for them, in English like the rest
            out.write(f"episode {e.title} ({e.episode_id}): {describe(note, english)}\n")


def _reasons(outcome: FeedOutcome) -> str:
    counts: dict[str, int] = {}
    for item in outcome.skipped:
        counts[item.reason] = counts.get(item.reason, 0) + item.count
    return "; ".join(f"{n}: {reason}" for reason, n in sorted(counts.items(),
                                                                key=lambda kv: -kv[1])[:3])


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"
