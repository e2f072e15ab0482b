"""Citations: everything a researcher needs to point at a moment in an episode.

A citation names the podcast, the episode, its date, the time, a permanent URL (the episode's
stable id and a time in whole seconds, which survive re-ingestion and re-transcription) and
where the transcript came from: the publisher, or which Whisper engine and model.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
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
    time: str
    seconds: int
    url: str
    source: str
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def transcript_source(transcript: Transcript | None, lang: str) -> str:
    """Where a transcript came from, in words."""
    _ = gettext_for(lang)
    if transcript is None:
        return _("Ingen transkription ännu")
    if transcript.source == "publisher":
        return _("Utgivarens transkription") + (f" ({transcript.model})" if transcript.model
                                                  else "")
    engine = transcript.engine or "whisper"
    model = f" {transcript.model}" if transcript.model else ""
    return _("Automatisk transkription") + f" ({engine}{model})"


def cite(*, base_url: str, feed: Feed | None, episode: Episode, transcript: Transcript | None,
         seconds: float, lang: str) -> Citation:
    """The citation for ``episode`` at ``seconds``; ``base_url`` is the site's own origin."""
    from poddarkiv.site.templating import format_date, timecode

    whole = max(0, int(seconds))
    link = base_url.rstrip("/") + urls.episode(episode.id, t=whole).split("#")[0]
    podcast = (feed.title or feed.url) if feed else episode.feed_id
    published = format_date(episode.published, lang) if episode.published else None
    source = transcript_source(transcript, lang)
    _ = gettext_for(lang)
    opening, closing = _QUOTES.get(lang, _QUOTES["sv"])
    parts = [podcast, f"{opening}{episode.title}{closing}"]
    if published:
        parts.append(published)
    parts.append(_("vid %(time)s") % {"time": timecode(whole)})
    text = ", ".join(parts) + f". {link}. " + _("Transkription: %(source)s.") % {"source": source}
    return Citation(podcast=podcast, episode=episode.title,
                    published=episode.published.date().isoformat() if episode.published else None,
                    time=timecode(whole), seconds=whole, url=link, source=source, text=text)
