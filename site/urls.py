"""The site's one URL builder: every internal link is made here, so routes change in one place.

Paths are Swedish (``/avsnitt``, ``/sok``, ``/poddar``); every page also answers at the same path
with ``.json`` appended. Time links use whole seconds: ``/avsnitt/ID?t=754#t-754`` stays valid
when an episode is re-transcribed, because it names a moment in the audio, not a segment.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlencode

__all__ = [
    "about", "admin", "audio", "chapters", "episode", "help", "home", "opml", "podcast",
    "podcasts", "rss", "search", "static", "transcript", "with_query",
]


def _seg(value: str) -> str:
    return quote(value, safe="")


def home(*, json: bool = False) -> str:
    return "/index.json" if json else "/"


def search(params: Mapping[str, object] | None = None, *, json: bool = False) -> str:
    base = "/sok.json" if json else "/sok"
    return with_query(base, params or {})


def episode(episode_id: str, *, t: float | None = None, json: bool = False) -> str:
    path = f"/avsnitt/{_seg(episode_id)}" + (".json" if json else "")
    if t is None:
        return path
    seconds = max(0, int(t))
    return f"{path}?t={seconds}" + ("" if json else f"#t-{seconds}")


def audio(episode_id: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/ljud"


def transcript(episode_id: str, fmt: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/transkript.{fmt}"


def chapters(episode_id: str) -> str:
    return f"/avsnitt/{_seg(episode_id)}/kapitel.json"


def podcasts(*, json: bool = False) -> str:
    return "/poddar.json" if json else "/poddar"


def podcast(feed_id: str, *, json: bool = False) -> str:
    return f"/poddar/{_seg(feed_id)}" + (".json" if json else "")


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
