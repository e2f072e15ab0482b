"""The episode page: player, full transcript, citation, related episodes; and its files.

``/avsnitt/ID?t=754`` opens the player at 12:34 (a media fragment on the audio URL, so it works
without JavaScript) and marks the segment playing then; a time past the episode's end is
clamped to it. ``?i=word`` searches inside the episode (:mod:`.episode_search`). The page
carries an ETag built from the episode, its current transcript, the language and the day (the
citation says when it was read), so a revisit costs a 304.
"""

from __future__ import annotations

import hashlib
import mimetypes
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response

from poddarkiv import __version__
from poddarkiv.archive.artwork import Artwork, episode_artwork, stored_artwork
from poddarkiv.archive.browse import episode_knowledge
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.archive.times import parse_offset
from poddarkiv.archive.writers import MEDIA_TYPES
from poddarkiv.errors import CatalogueError, PoddarkivError
from poddarkiv.site import admin, i18n, urls
from poddarkiv.site.citation import cite, transcript_source
from poddarkiv.site.corrections_views import corrected_passages, corrections_note
from poddarkiv.site.downloads import content_disposition, with_source_note
from poddarkiv.site.episode_notes import said_json
from poddarkiv.site.episode_search import find_in_episode
from poddarkiv.site.resources import SiteResources, resources
from poddarkiv.site.sanitize import safe_url
from poddarkiv.site.serialize import (
    episode_json,
    segments_json,
    transcript_json,
)
from poddarkiv.site.templating import respond
from poddarkiv.site.themes_views import person_url, reference_url, theme_url

__all__ = ["MAX_TIME_S", "RELATED_LIMIT", "audio", "chapters", "episode", "parse_time",
           "transcript_file"]

#: The longest time a link may name (seconds); anything beyond is clamped.
MAX_TIME_S = 24 * 3600
RELATED_LIMIT = 5


def _today() -> date:
    return datetime.now(UTC).date()


#: The clock the citation's access date comes from (a seam for tests).
today: Callable[[], date] = _today


def parse_time(raw: str | None, *, limit: float = MAX_TIME_S) -> float | None:
    """A ``?t=`` value (:func:`~poddarkiv.archive.times.parse_offset`) as seconds in
    ``[0, limit]``; ``None`` when there is none or it is not a time."""
    value = parse_offset(raw) if raw else None
    return None if value is None else min(value, limit)


def _episode_or_404(site: SiteResources, episode_id: str) -> Episode:
    ep = site.catalogue.episode(episode_id)
    if ep is None:
        raise HTTPException(404)
    return ep


def _etag(site: SiteResources, ep: Episode, request: Request,
          images: tuple[Artwork | None, ...]) -> str:
    info = site.catalogue.transcript_info(ep.id)
    hashes = [image.sha256 if image else None for image in images]
    parts = [__version__, repr(ep), repr(info), repr(hashes),  # a copy kept since changes it
             i18n.language_of(request), today().isoformat(),
             str(admin.is_admin(request)),  # the admin's page links every passage's correction
             request.url.path, request.query_params.get("t", ""),
             request.query_params.get("i", "")]
    if site.index is not None:
        try:  # a new index generation may change related episodes
            parts.append(site.index.version())
        except PoddarkivError:
            parts.append("index unavailable")
    return 'W/"' + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24] + '"'


def _images(site: SiteResources, ep: Episode) -> tuple[Artwork | None, Artwork | None]:
    """The archive's copy of the episode's image and of its podcast's (their hashes are in
    the ETag, so a copy kept later changes the page), each ``None`` when not kept."""
    return (episode_artwork(site.catalogue.data, ep),
            stored_artwork(site.catalogue.data, ep.feed_id))


def _current_index(segments: tuple[Segment, ...], t: float | None) -> int | None:
    if t is None or not segments:
        return None
    pos = bisect_right([s.start for s in segments], t) - 1
    return max(pos, 0)


def _duration(ep: Episode, transcript: Transcript | None) -> float:
    """How long the episode is (the feed's word, else the transcript's), for clamping ``t``."""
    candidates = [ep.duration_s, transcript.duration_s if transcript else None,
                  transcript.segments[-1].end if transcript and transcript.segments else None]
    return next((float(c) for c in candidates if c and c > 0), float(MAX_TIME_S))


def _knowledge(site: SiteResources, ep: Episode) -> Any:
    """Themes, key terms, references, people, chapters, related (``archive.browse``), kept
    until the catalogue changes: reading them was about a sixth of the page's time."""
    try:
        return site.episodes_cache.get(site.catalogue, ("knowledge", ep.id),
                                       lambda: episode_knowledge(site.catalogue, ep.id))
    except PoddarkivError:
        return None


def _knowledge_json(ep: Episode, knowledge: Any) -> dict[str, Any] | None:
    if knowledge is None:
        return None
    episode_id = ep.id
    return {
        "themes": [{"slug": t.slug, "name": t.name, "name_en": t.name_en,
                    "score": round(t.score, 4), "url": theme_url(t.slug)}
                   for t in knowledge.themes],
        "key_terms": [{"term": k.term, "label": k.label, "score": round(k.score, 4)}
                      for k in knowledge.key_terms],
        "references": [{"kind": r.kind, "key": r.key, "label": r.label,
                        "url": reference_url(r.kind, r.key)} for r in knowledge.references],
        "people": [{"name": p.name, "url": person_url(p.slug)} for p in knowledge.people],
        "chapters": [{"start": round(c.start, 3), "title": c.title,
                      "url": None if ep.text_only else urls.episode(episode_id, t=c.start)}
                     for c in knowledge.chapters],
    }


def _related(site: SiteResources, ep: Episode, knowledge: Any) -> list[dict[str, Any]]:
    """Related episodes by shared key terms, else by the search index's similarity."""
    ids = [r.episode_id for r in knowledge.related] if knowledge is not None else []
    if not ids and site.index is not None:
        try:
            ids = site.index.related(ep.id, limit=RELATED_LIMIT)
        except PoddarkivError:
            ids = []
    titles = {f.id: f.title for f in site.catalogue.feeds()}
    found = (site.catalogue.episode(i) for i in ids if i != ep.id)
    return [episode_json(e, feed_title=titles.get(e.feed_id),
                         artwork=episode_artwork(site.catalogue.data, e)) for e in found if e]


def _load_transcript(site: SiteResources, ep: Episode) -> tuple[Transcript | None, str | None]:
    try:
        return site.catalogue.transcript(ep.id), None
    except CatalogueError as exc:
        return None, str(exc)


def _citation(request: Request, site: SiteResources, ep: Episode,
              transcript: Transcript | None, t: float | None,
              current: int | None) -> dict[str, Any]:
    feed = site.catalogue.feed(ep.feed_id)
    # Without ``t`` the citation is of the start, so it quotes the first passage.
    at = current if current is not None else 0
    passage = transcript.segments[at] if transcript and transcript.segments else None
    return cite(base_url=str(request.base_url), feed=feed, episode=ep, transcript=transcript,
                seconds=None if ep.text_only else t or 0, lang=i18n.language_of(request),
                quote=passage.text if passage else None,
                speaker=passage.speaker if passage else None, accessed=today()).to_json()


def _transcript_parts(site: SiteResources, transcript: Transcript | None, problem: str | None,
                      lang: str) -> dict[str, Any]:
    """The transcript's half of the page: where it came from, what to know about it (its
    notes said in ``lang``, site.episode_notes), or why it cannot be read."""
    return {
        "transcript": transcript_json(transcript, site.catalogue.transcript_info(
            transcript.episode_id)) if transcript else None,
        "transcript_source": transcript_source(transcript, lang),
        "transcript_notes": said_json(transcript.notes if transcript else (), lang),
        "transcript_problem": problem,
    }


def episode(request: Request) -> Response:
    """``/avsnitt/ID``: the episode with its player and transcript."""
    site = resources(request)
    ep = _episode_or_404(site, request.path_params["episode_id"])
    images = _images(site, ep)
    etag = _etag(site, ep, request, images)
    headers = {"etag": etag, "cache-control": "no-cache"}
    # RFC 9110 §13.1.2: a weak comparison is allowed for If-None-Match.
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    feed = site.catalogue.feed(ep.feed_id)
    transcript, problem = _load_transcript(site, ep)
    segments = transcript.segments if transcript else ()
    # A text-only episode has no audio to seek in: a ``?t=`` names no moment of it.
    t = None if ep.text_only else parse_time(request.query_params.get("t"),
                                             limit=_duration(ep, transcript))
    current = _current_index(segments, t)
    knowledge = _knowledge(site, ep)
    corrected, corrections = corrected_passages(site, ep.id, segments)
    data = {
        "episode": episode_json(ep, feed_title=feed.title if feed else None,
                                has_transcript=transcript is not None,
                                feed_artwork=images[1] is not None, artwork=images[0]),
        "language": (feed.language if feed and feed.language else "sv")[:2].lower(),
        **_transcript_parts(site, transcript, problem, i18n.language_of(request)),
        "segments": segments_json(ep.id, segments, corrected),
        "corrections": corrections,
        "corrections_url": urls.corrections(ep.id),
        "t": t,
        "current": current,
        "find": find_in_episode(ep.id, segments, request.query_params.get("i")),
        "citation": _citation(request, site, ep, transcript, t, current),
        "knowledge": _knowledge_json(ep, knowledge),
        "related": _related(site, ep, knowledge),
        "chapters_url": urls.chapters(ep.id) if transcript else None,
    }
    can_correct = transcript is not None and admin.is_admin(request)
    if can_correct:
        headers["cache-control"] = "private, no-cache"
    return respond(request, "episode.html", data, {"can_correct": can_correct},
                   headers=headers)


def _audio_file(site: SiteResources, ep: Episode) -> Path:
    if not ep.audio_path:
        raise HTTPException(404)
    root = site.catalogue.data.root.resolve()
    path = (root / ep.audio_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise HTTPException(404)
    return path


def audio(request: Request) -> Response:
    """The episode's archived audio, with HTTP Range support (206) so that seeking works."""
    site = resources(request)
    ep = _episode_or_404(site, request.path_params["episode_id"])
    path = _audio_file(site, ep)
    media_type = (ep.enclosure.type if ep.enclosure and ep.enclosure.type.startswith("audio/")
                  else mimetypes.guess_type(path.name)[0] or "application/octet-stream")
    feed = site.catalogue.feed(ep.feed_id)
    podcast = (feed.title or feed.url) if feed else ep.feed_id
    # Inline, so it plays in the browser; saved, it is named by podcast and title.
    name = content_disposition(podcast, ep.title, path.suffix.lstrip(".") or "mp3",
                               disposition="inline")
    return FileResponse(path, media_type=media_type,
                        headers={"cache-control": "public, max-age=86400",
                                 "content-disposition": name})


def transcript_file(request: Request) -> Response:
    """``/avsnitt/ID/transkript.FMT``: the current transcript as txt, vtt, srt or json."""
    from poddarkiv.archive.writers import render_transcript

    fmt = request.path_params["fmt"]
    if fmt not in MEDIA_TYPES:
        raise HTTPException(404)
    site = resources(request)
    ep = _episode_or_404(site, request.path_params["episode_id"])
    transcript, _problem = _load_transcript(site, ep)
    if transcript is None:
        raise HTTPException(404)
    feed = site.catalogue.feed(ep.feed_id)
    podcast = (feed.title or feed.url) if feed else ep.feed_id
    page = str(request.base_url).rstrip("/") + urls.episode(ep.id)
    note = [f"{podcast}: {ep.title}", page,
            transcript_source(transcript, i18n.language_of(request))]
    corrected = corrections_note(site, ep.id, lang=i18n.language_of(request),
                                 base_url=str(request.base_url))
    note += [corrected] if corrected else []
    body = with_source_note(render_transcript(transcript, fmt), fmt, note)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={
        "content-disposition": content_disposition(podcast, ep.title, fmt),
        "access-control-allow-origin": "*",  # podcast apps fetch transcripts cross-origin
    })


def chapters(request: Request) -> Response:
    """``/avsnitt/ID/kapitel.json``: Podcasting 2.0 JSON chapters for podcast apps."""
    site = resources(request)
    ep = _episode_or_404(site, request.path_params["episode_id"])
    transcript, _problem = _load_transcript(site, ep)
    knowledge = _knowledge(site, ep)
    found = list(knowledge.chapters) if knowledge is not None else []
    if not found and transcript is not None:
        found = [_whole_episode_chapter(ep)]
    body = {"version": "1.2.0",
            "chapters": [{"startTime": round(c.start, 3), "title": c.title,
                          **({"url": safe_url(c.url)} if safe_url(c.url) else {})}
                         for c in found]}
    return JSONResponse(body, media_type="application/json+chapters",
                        headers={"access-control-allow-origin": "*"})


def _whole_episode_chapter(ep: Episode) -> Any:
    from poddarkiv.archive.models import Chapter

    return Chapter(start=0.0, title=ep.title)
