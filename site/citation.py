"""Citations: everything a researcher needs to point at a moment in an episode.

A citation names the podcast, the episode, its date, the time, the words said then (with the
speaker when the archive knows who), a permanent URL (the episode's stable id and the moment,
which survive re-ingestion and re-transcription), where the transcript came from (the publisher,
or which Whisper engine and model: never the publisher's raw file URL) and the day it was read
("hämtad"), as Swedish and international styles ask of web sources.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from poddarkiv.archive.models import Episode, Feed, Transcript
from poddarkiv.site import urls
from poddarkiv.site.i18n import gettext_for

__all__ = ["Citation", "cite", "transcript_source"]

#: Quotation marks around a title: Swedish uses the same mark on both sides.
_QUOTES = {"sv": ("\u201d", "\u201d"), "en": ("\u201c", "\u201d")}


@dataclass(frozen=True, slots=True)
class Citation:
    """One citable moment. ``text`` is the formatted reference in the page's language."""

    podcast: str
    episode: str
    published: str | None
    #: The moment cited (``None`` for an episode without audio: its text has no times).
    time: str | None
    seconds: int | None
    url: str
    source: str
    text: str
    #: The words said at that moment (the marked passage), and who said them when known.
    quote: str | None = None
    speaker: str | None = None
    #: The day the page was read (ISO), written into ``text`` as "hämtad"/"accessed".
    accessed: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def transcript_source(transcript: Transcript | None, lang: str) -> str:
    """Where a transcript came from, in words."""
    _ = gettext_for(lang)
    if transcript is None:
        return _("Ingen transkription ännu")
    if transcript.source == "publisher":
        # ``model`` holds the publisher's file URL: an address to fetch, not a source to cite.
        return _("Utgivarens transkription")
    engine = transcript.engine or "whisper"
    model = f" {transcript.model}" if transcript.model else ""
    return _("Automatisk transkription") + f" ({engine}{model})"


def cite(*, base_url: str, feed: Feed | None, episode: Episode, transcript: Transcript | None,
         seconds: float | None, lang: str, quote: str | None = None,
         speaker: str | None = None, accessed: date | None = None) -> Citation:
    """The citation for ``episode`` at ``seconds``; ``base_url`` is the site's own origin.

    ``seconds`` is ``None`` for an episode without audio: the citation names no moment.

    ``quote`` is the passage said at ``seconds``; ``accessed`` is today (the caller's clock).
    """
    from poddarkiv.site.templating import format_date, timecode

    link = base_url.rstrip("/") + urls.episode(episode.id, t=seconds).split("#")[0]
    podcast = (feed.title or feed.url) if feed else episode.feed_id
    source = transcript_source(transcript, lang)
    _ = gettext_for(lang)
    opening, closing = _QUOTES.get(lang, _QUOTES["sv"])
    parts = [podcast, f"{opening}{episode.title}{closing}"]
    if episode.published:
        parts.append(format_date(episode.published, lang))
    if seconds is not None:
        parts.append(_("vid %(time)s") % {"time": timecode(seconds)})
    said = " ".join((quote or "").split())
    lead = (f"{speaker}: " if speaker else "") + (f"{opening}{said}{closing} " if said else "")
    text = lead + ", ".join(parts) + f". {link}. " + _("Transkription: %(source)s.") % {
        "source": source}
    if accessed is not None:
        text += " " + _("Hämtad %(date)s.") % {"date": format_date(accessed, lang)}
    return Citation(podcast=podcast, episode=episode.title,
                    published=episode.published.date().isoformat() if episode.published else None,
                    time=None if seconds is None else timecode(seconds),
                    seconds=None if seconds is None else max(0, int(seconds)), url=link,
                    source=source, text=text, quote=said or None, speaker=speaker,
                    accessed=accessed.isoformat() if accessed else None)
