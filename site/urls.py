"""The site's one URL builder: every internal link is made here, so routes change in one place.

Paths are Swedish (``/avsnitt``, ``/sok``, ``/poddar``); every page also answers at the same path
with ``.json`` appended. Time links name a moment in the audio to the millisecond, written as
briefly as it allows: ``/avsnitt/ID?t=13.797#t-13.797``. That is exactly where a segment starts,
so a link to a passage opens that passage (not the one before it), and it stays valid when an
episode is re-transcribed, because it names a moment, not a segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

__all__ = [
    "about", "admin", "artwork", "audio", "chapters", "correct", "correction_resolve",
    "corrections", "episode", "episode_artwork", "help", "home", "opml", "podcast", "podcasts",
    "rss", "search", "search_feed", "seconds", "static", "transcript", "with_query",
]


def _seg(value: str) -> str:
    return quote(value, safe="")


def home(*, json: bool = False) -> str:
    return "/index.json" if json else "/"


def search(params: Mapping[str, object] | None = None, *, json: bool = False) -> str:
    base = "/sok.json" if json else "/sok"
    return with_query(base, params or {})


def search_feed(params: Mapping[str, object], *, fmt: str = "rss") -> str:
    """The saved search as a feed: ``/sok.rss?q=…`` or ``/sok.atom?q=…``."""
    return with_query(f"/sok.{fmt}", params)


def seconds(t: float) -> str:
    """A time as a link writes it: milliseconds at most, no trailing zeros (``13.797``, ``12``)."""
    return f"{max(0.0, t):.3f}".rstrip("0").rstrip(".")


def episode(episode_id: str, *, t: float | None = None, json: bool = False,
            query: Mapping[str, object] | None = None) -> str:
    """An episode's page; ``t`` names the moment to start at (and the passage to mark)."""
    path = f"/avsnitt/{_seg(episode_id)}" + (".json" if json else "")
    if query:
        path = with_query(path, {**query, "t": None if t is None else seconds(t)})
    elif t is not None:  # the common case (every transcript line), without urlencode
        path = f"{path}?t={seconds(t)}"
    return path if t is None or json else f"{path}#t-{seconds(t)}"


def audio(episode_id: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/ljud"


def episode_artwork(episode_id: str) -> str:
    """The archive's own copy of an episode's image (served from the site, never the host)."""
    return f"/avsnitt/{_seg(episode_id)}/bild"


def transcript(episode_id: str, fmt: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/transkript.{fmt}"


def chapters(episode_id: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/kapitel.json"


def correct(episode_id: str, t: float | None = None) -> str:
    """The form that corrects the passage starting at ``t`` (the admin's; without ``t``, where
    the form posts)."""
    path = f"/avsnitt/{_seg(episode_id)}/ratta"
    return path if t is None else f"{path}?t={seconds(t)}"


def corrections(episode_id: str, *, json: bool = False) -> str:
    """An episode's corrections by people, oldest first: who, when, why, before and after."""
    return f"/avsnitt/{_seg(episode_id)}/rattelser" + (".json" if json else "")


def correction_resolve(correction_id: int) -> str:
    """Where the admin marks a correction's conflict as looked at."""
    return f"/admin/rattelser/{correction_id}/granskad"


def podcasts(*, json: bool = False) -> str:
    return "/poddar.json" if json else "/poddar"


def podcast(feed_id: str, *, json: bool = False) -> str:
    return f"/poddar/{_seg(feed_id)}" + (".json" if json else "")


def artwork(feed_id: str) -> str:
    """The archive's own copy of a podcast's image (served from the site, never the host)."""
    return f"/poddar/{_seg(feed_id)}/bild"


def rss(feed_id: str) -> str:
    return f"/poddar/{_seg(feed_id)}/rss.xml"


def opml() -> str:
    return "/poddar.opml"


def help(*, json: bool = False) -> str:
    return "/hjalp.json" if json else "/hjalp"


def about(*, json: bool = False) -> str:
    return "/om.json" if json else "/om"


def admin(*, json: bool = False) -> str:
    return "/admin.json" if json else "/admin"


def static(name: str) -> str:
    return f"/static/{name}"


def with_query(path: str, params: Mapping[str, object]) -> str:
    """``path`` with ``params`` (``None`` and empty values left out) as its query string."""
    clean = {k: str(v) for k, v in params.items() if v is not None and v != ""}
    return f"{path}?{urlencode(clean)}" if clean else path
