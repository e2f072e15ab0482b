"""What a search asks for and what it answers: requests, hits and pages.

:class:`SearchRequest` is built from untrusted parameters with :meth:`SearchRequest.from_params`,
which clamps and tolerates anything (``page=abc``, ``-1``, ``1e3``, 5,000 digits) and never
raises. :class:`SearchPage` is what :meth:`ArchiveIndex.search
<poddarkiv.archive.index.ArchiveIndex.search>` returns: episodes, each with its best passages and
the tier it matched in, plus :class:`Note` codes when the query had a problem (never an
exception). Notes are codes with parameters, not text: the site and the CLI say them in the
reader's language (``poddarkiv.site.notes``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Literal, get_args

from poddarkiv.archive.records import quick_init

__all__ = [
    "DEFAULT_PER_PAGE",
    "MAX_PAGE",
    "MAX_PER_PAGE",
    "EpisodeHit",
    "MatchTier",
    "Note",
    "NoteCode",
    "PassageHit",
    "PassageKind",
    "SearchPage",
    "SearchRequest",
    "Snippet",
    "Sort",
]

Sort = Literal["relevance", "newest", "oldest"]
#: How an episode matched, best first: every word in one passage; within a short stretch of
#: speech; in the title, description or podcast title; somewhere in the episode.
MatchTier = Literal["passage", "near", "metadata", "episode", "fuzzy"]
#: Where a passage's text comes from.
PassageKind = Literal["transcript", "description", "title"]
NoteCode = Literal[
    "query_truncated",      # max_chars
    "too_many_words",       # max_words
    "prefix_too_short",     # prefix, min_chars
    "only_excluded",
    "no_words",
    "timed_out",
    "no_episode_has_all_words",
    "no_episode_has_it",
]

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 50
#: Pages beyond this are not served (nobody reads page 1,001; deep paging costs).
MAX_PAGE = 100
_INT = re.compile(r"[+-]?[0-9]{1,9}")
_FALSE = frozenset({"0", "false", "no", "nej", "off"})
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def _int(raw: str | None, default: int, lo: int, hi: int) -> int:
    if raw is None or not _INT.fullmatch(raw.strip()):
        return default
    return max(lo, min(hi, int(raw.strip())))


def _date(raw: str | None) -> date | None:
    if not raw or len(raw) > 10:
        return None
    try:
        value = date.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value if _MIN_YEAR <= value.year <= _MAX_YEAR else None


def _text(raw: str | None, limit: int) -> str | None:
    value = (raw or "").strip()[:limit]
    return value or None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """One search: the query text, filters, sort and page."""

    q: str
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    podcast: str | None = None
    theme: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: Sort = "relevance"
    highlight: bool = True

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchRequest:
        """A request from query-string parameters, clamped; never raises.

        Keys: ``q``, ``page``, ``per_page``, ``podcast``, ``theme``, ``from``/``date_from``,
        ``to``/``date_to``, ``sort``, ``highlight``.
        """
        get = params.get
        sort = get("sort") or "relevance"
        return cls(
            q=(get("q") or "")[:10_000],
            page=_int(get("page"), 1, 1, MAX_PAGE),
            per_page=_int(get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE),
            podcast=_text(get("podcast"), 200),
            theme=_text(get("theme"), 100),
            date_from=_date(get("date_from") or get("from")),
            date_to=_date(get("date_to") or get("to")),
            sort=sort if sort in get_args(Sort) else "relevance",  # type: ignore[arg-type]
            highlight=(get("highlight") or "1").strip().lower() not in _FALSE,
        )

    @property
    def filtered(self) -> bool:
        """Whether a podcast, theme or date range narrows the search."""
        return bool(self.podcast or self.theme or self.date_from or self.date_to)

    def clamped(self) -> SearchRequest:
        """This request with page and page size within bounds (for requests built in code)."""
        page = max(1, min(self.page, MAX_PAGE))
        per_page = max(1, min(self.per_page, MAX_PER_PAGE))
        if (page, per_page) == (self.page, self.per_page):
            return self
        return dataclasses.replace(self, page=page, per_page=per_page)

    def to_params(self) -> dict[str, str]:
        """The request as query-string parameters (defaults left out), for links."""
        out = {"q": self.q}
        if self.page != 1:
            out["page"] = str(self.page)
        if self.per_page != DEFAULT_PER_PAGE:
            out["per_page"] = str(self.per_page)
        for key, value in (("podcast", self.podcast), ("theme", self.theme)):
            if value:
                out[key] = value
        if self.date_from:
            out["from"] = self.date_from.isoformat()
        if self.date_to:
            out["to"] = self.date_to.isoformat()
        if self.sort != "relevance":
            out["sort"] = self.sort
        if not self.highlight:
            out["highlight"] = "0"
        return out


@dataclass(frozen=True, slots=True)
class Note:
    """Something to tell the reader about the query: a code and its parameters."""

    code: NoteCode
    params: tuple[tuple[str, str | int], ...] = ()

    def get(self, name: str) -> str | int | None:
        """The parameter ``name``, or ``None``."""
        return dict(self.params).get(name)


@quick_init
@dataclass(frozen=True, slots=True)
class Snippet:
    """A passage's text cut to a snippet, and where in it the matched words are.

    No markup: ``marks`` are ``(start, end)`` character spans of ``text``; the site escapes the
    text and marks the spans (one renderer), so the archive never produces HTML.
    """

    text: str
    marks: tuple[tuple[int, int], ...] = ()
    #: Text was left out before / after the snippet.
    cut_before: bool = False
    cut_after: bool = False

    @property
    def marked(self) -> tuple[str, ...]:
        """The marked words, as they are written."""
        return tuple(self.text[a:b] for a, b in self.marks)


@quick_init
@dataclass(frozen=True, slots=True)
class PassageHit:
    """One matching passage: its time, text and snippet.

    A ``transcript`` passage is one segment, or for a ``near`` match the stretch of segments
    from the first matched word to the last; ``start`` is the exact start of its first segment
    and ``index`` that segment's position in the transcript. A ``description`` or ``title``
    passage is an excerpt of the episode's metadata (``start`` 0, ``index`` -1).
    """

    start: float
    end: float
    text: str
    snippet: Snippet
    score: float
    #: The segment's position in its transcript.
    index: int = -1
    kind: PassageKind = "transcript"
    #: The words were found in neighbouring segments, not in one.
    near: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class EpisodeHit:
    """One episode that matched, with its best passages first."""

    episode_id: str
    feed_id: str
    title: str
    feed_title: str
    published: datetime | None
    score: float
    passages: tuple[PassageHit, ...]
    #: The title, description or podcast title matched (not only the transcript).
    matched_metadata: bool
    tier: MatchTier = "passage"
    #: How many passages of the episode matched (``passages`` holds the best few).
    passage_total: int = 0


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of grouped results."""

    request: SearchRequest
    hits: tuple[EpisodeHit, ...] = ()
    total_episodes: int = 0
    page: int = 1
    pages: int = 0
    #: "Menade du …?": the query with likely misrecognised words replaced.
    suggestion: str | None = None
    #: Matching episodes per theme slug.
    theme_counts: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    elapsed_ms: float = 0.0
    #: Words were also matched approximately, because exact matching found little.
    fuzzy: bool = False
    #: What to tell the reader about the query (codes; the site translates them).
    notes: tuple[Note, ...] = ()
