"""Corrections by people in the browser: the admin's form per passage, and each episode's history.

``/avsnitt/ID/ratta?t=13.797`` is the form for the passage starting then (admin only: 404 when
admin is off, 403 without a session); it works without JavaScript and posts back to
``/avsnitt/ID/ratta`` with the session's CSRF token. A correction is saved by
:func:`poddarkiv.archive.corrections.correct_passage` (a new transcript revision) and the
episode is analysed and indexed again by :func:`poddarkiv.ingest.retranscribe.reindex_episode`,
both holding the ingest lock, so a correction never races an ingest or a re-transcription.
When the lock is held the form comes back (409) with everything typed in it: nothing is lost.
The form also carries the revision it was made from; if the transcript changed since, it comes
back the same way, showing the passage as it is now.

``/avsnitt/ID/rattelser`` (and its ``.json`` twin) lists the episode's corrections: when, who,
why, before and after. The admin page lists the corrections a re-transcription could not apply
cleanly; ``POST /admin/rattelser/N/granskad`` marks one as looked at.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from poddarkiv.archive.corrections import (
    MAX_EDITOR_CHARS,
    MAX_NOTE_CHARS,
    MAX_TEXT_CHARS,
    Correction,
    correct_passage,
    corrections,
    find_passage,
    is_corrected,
    resolve_conflict,
)
from poddarkiv.archive.knowledge import analyse_episode
from poddarkiv.archive.models import Episode, Segment, Transcript
from poddarkiv.errors import BusyError
from poddarkiv.ingest.lock import ingest_lock
from poddarkiv.ingest.retranscribe import EpisodeIndex, reindex_episode
from poddarkiv.site import admin, i18n, urls
from poddarkiv.site.resources import SiteResources, resources
from poddarkiv.site.security import csrf_token
from poddarkiv.site.serialize import correction_json
from poddarkiv.site.templating import respond

__all__ = ["LOCK_WAIT_S", "corrected_passages", "correction_form", "correction_history",
           "correction_resolve", "correction_save", "corrections_note", "routes"]

log = logging.getLogger(__name__)

#: How long a correction waits for a running ingest to let go of the lock (seconds).
LOCK_WAIT_S = 2.0
_NO_STORE = {"cache-control": "no-store"}


def _episode(site: SiteResources, request: Request) -> Episode:
    ep = site.catalogue.episode(request.path_params["episode_id"])
    if ep is None:
        raise HTTPException(404)
    return ep


def _passage(site: SiteResources, ep: Episode, raw: str | None) -> tuple[Transcript, int, int]:
    """The current transcript, the position of the passage starting at ``raw`` seconds, and
    the transcript's revision; 404 when there is no such passage."""
    try:
        start = float(raw or "")
    except ValueError:
        raise HTTPException(404) from None
    info = site.catalogue.transcript_info(ep.id)
    transcript = site.catalogue.load_transcript(info) if info else None
    pos = find_passage(transcript.segments, start) if transcript else None
    if transcript is None or info is None or pos is None:
        raise HTTPException(404)
    return transcript, pos, info.id


def _form_page(request: Request, ep: Episode, given: dict[str, str], *, problem: str | None,
               status_code: int = 200) -> Response:
    site = resources(request)
    transcript, pos, revision = _passage(site, ep, given.get("t"))
    segment = transcript.segments[pos]
    data = {"episode": {"id": ep.id, "title": ep.title, "url": urls.episode(ep.id)},
            "passage": {"start": segment.start, "end": segment.end, "text": segment.text,
                        "url": urls.episode(ep.id, t=segment.start)},
            "revision": revision, "problem": problem,
            "limits": {"text": MAX_TEXT_CHARS, "note": MAX_NOTE_CHARS,
                       "editor": MAX_EDITOR_CHARS}}
    extra = {"csrf": csrf_token(site.secret, admin.admin_session(request) or ""),
             "given": {"text": given.get("text", segment.text), "note": given.get("note", ""),
                       "editor": given.get("editor", "")},
             "language": transcript.language}
    return respond(request, "correction.html", data, extra, status_code=status_code,
                   headers=_NO_STORE)


def correction_form(request: Request) -> Response:
    """``GET /avsnitt/ID/ratta?t=S``: the form correcting the passage that starts at ``S``."""
    site = resources(request)
    if not site.settings.admin_token:
        raise HTTPException(404)
    if not admin.is_admin(request):  # 403, with the sign-in form: sign in, then come back
        return respond(request, "admin_login.html", {"failed": False}, status_code=403,
                       headers=_NO_STORE)
    ep = _episode(site, request)
    return _form_page(request, ep, {"t": request.query_params.get("t", "")}, problem=None)


class _Refused(Exception):
    """The correction was not saved; the message is why (a code the form page translates)."""


def _reindex(site: SiteResources, ep: Episode) -> bool:
    """Analyse and index the episode's new revision; whether the index took it."""
    transcript = site.catalogue.transcript(ep.id)
    if not isinstance(site.index, EpisodeIndex) or transcript is None:
        return False
    try:
        reindex_episode(site.catalogue, site.index, ep, transcript,
                        themes=lambda e, t: analyse_episode(site.catalogue, e, t))
    except Exception:  # the correction is saved; the page says to run `poddarkiv reindex`
        log.exception("could not index episode %s after a correction", ep.id)
        return False
    return True


def _save(site: SiteResources, ep: Episode, form: dict[str, str]) -> tuple[Correction, bool]:
    """Correct and re-index, holding the ingest lock; whether the index took it."""
    try:
        with ingest_lock(site.catalogue.data.ingest_lock, wait_s=LOCK_WAIT_S):
            current = site.catalogue.transcript_info(ep.id)
            if form.get("revision") and str(current.id if current else "") != form["revision"]:
                raise _Refused("stale")
            try:
                made = correct_passage(site.catalogue, ep.id, float(form.get("t") or "nan"),
                                       text=form.get("text", ""), note=form.get("note", ""),
                                       editor=form.get("editor", ""))
            except ValueError as exc:  # a ProblemCode
                raise _Refused(str(exc)) from exc
            return made, _reindex(site, ep)
    except BusyError as exc:
        raise _Refused("busy") from exc


async def correction_save(request: Request) -> Response:
    """``POST /avsnitt/ID/ratta``: save a correction, then show the episode's history."""
    form = await admin.authorise_post(request)
    site = resources(request)
    ep = _episode(site, request)
    _passage(site, ep, form.get("t"))  # 404 before anything else for an unknown passage
    try:
        made, indexed = await run_in_threadpool(_save, site, ep, form)
    except _Refused as exc:
        # RFC 9110 §15.5.10: 409 when the archive's state is in the way (busy, or changed).
        status = 409 if str(exc) in ("busy", "stale") else 400
        return _form_page(request, ep, form, problem=str(exc), status_code=status)
    query = {"sparad": made.id, "index": None if indexed else "0"}
    return RedirectResponse(urls.with_query(urls.corrections(ep.id), query), status_code=303)


def corrected_passages(site: SiteResources, episode_id: str, segments: Sequence[Segment]
                       ) -> tuple[set[int], list[dict[str, Any]]]:
    """For the episode page: the positions of the passages a person wrote, and the episode's
    corrections as JSON."""
    found = corrections(site.catalogue, episode_id)
    if not found:
        return set(), []
    marked = {pos for pos, s in enumerate(segments) if is_corrected(s, found)}
    return marked, [correction_json(c) for c in found]


def corrections_note(site: SiteResources, episode_id: str, *, lang: str,
                     base_url: str) -> str | None:
    """For a downloaded transcript's source note: how many passages people corrected, and
    where the history is (``None`` without corrections)."""
    count = len(corrections(site.catalogue, episode_id))
    if not count:
        return None
    said = i18n.translations(lang).ngettext("%(num)d rättelse av en person: %(url)s",
                                            "%(num)d rättelser av personer: %(url)s", count)
    return said % {"num": count, "url": base_url.rstrip("/") + urls.corrections(episode_id)}


def correction_history(request: Request) -> Response:
    """``/avsnitt/ID/rattelser``: every correction of the episode, oldest first."""
    site = resources(request)
    ep = _episode(site, request)
    found = [correction_json(c) for c in corrections(site.catalogue, ep.id)]
    data: dict[str, Any] = {
        "episode": {"id": ep.id, "title": ep.title, "url": urls.episode(ep.id)},
        "corrections": found,
    }
    saved = request.query_params.get("sparad")
    extra = {"saved": saved if saved and saved.isdigit() else None,
             "index_failed": request.query_params.get("index") == "0"}
    return respond(request, "corrections.html", data, extra,
                   headers={"cache-control": "no-cache"})


async def correction_resolve(request: Request) -> Response:
    """``POST /admin/rattelser/N/granskad``: the admin has looked at a correction's conflict."""
    await admin.authorise_post(request)
    site = resources(request)
    correction_id = request.path_params["correction_id"]
    await run_in_threadpool(resolve_conflict, site.catalogue, correction_id)
    return RedirectResponse(urls.admin() + "#rattelser", status_code=303)


routes: list[BaseRoute] = [
    Route("/avsnitt/{episode_id}/ratta", correction_form, methods=["GET"], name="correct"),
    Route("/avsnitt/{episode_id}/ratta", correction_save, methods=["POST"],
          name="correct_save"),
    Route("/avsnitt/{episode_id}/rattelser.json", correction_history, name="corrections_json"),
    Route("/avsnitt/{episode_id}/rattelser", correction_history, name="corrections"),
    Route("/admin/rattelser/{correction_id:int}/granskad", correction_resolve, methods=["POST"],
          name="correction_resolve"),
]
