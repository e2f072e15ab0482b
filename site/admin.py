"""The admin page: feed status, the last ingest report, and a button that starts an ingest.

It exists only when ``Settings.admin_token`` is set; otherwise every admin URL is a 404. A
browser signs in by posting the token once and gets an ``HttpOnly``, ``SameSite=Strict`` cookie
holding an HMAC of it (never the token). Every POST needs that cookie plus a CSRF token bound to
it (or an ``Authorization: Bearer`` header, which browsers never send by themselves), and a
cross-site ``Origin`` is refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from poddarkiv.archive.corrections import corrections_needing_review
from poddarkiv.archive.jobs import TranscriptionJob, job_summary, recent_jobs
from poddarkiv.site import urls
from poddarkiv.site.resources import SiteResources, resources
from poddarkiv.site.security import csrf_token, read_small_body, verify_csrf
from poddarkiv.site.serialize import correction_json
from poddarkiv.site.templating import is_json, respond

__all__ = ["ADMIN_COOKIE", "RECENT_JOBS", "admin", "admin_ingest", "admin_login", "admin_logout",
           "admin_session", "authorise_post", "is_admin"]

ADMIN_COOKIE = "poddarkiv_admin"
_COOKIE_PATH = "/"
_MAX_FORM_FIELDS = 20
#: The latest transcription jobs looked at for failures on the admin page.
RECENT_JOBS = 50


def _enabled(site: SiteResources) -> str:
    token = site.settings.admin_token
    if not token:
        raise HTTPException(404)
    return token


def _session_value(site: SiteResources, token: str) -> str:
    return hmac.new(site.secret, b"session:" + token.encode(), hashlib.sha256).hexdigest()


def _bearer_ok(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token)


def _session(request: Request, site: SiteResources, token: str) -> str | None:
    """The admin session cookie's value when it is valid."""
    cookie = request.cookies.get(ADMIN_COOKIE, "")
    return cookie if hmac.compare_digest(cookie, _session_value(site, token)) else None


def admin_session(request: Request) -> str | None:
    """The admin session cookie's value when admin is on and the cookie is valid."""
    site = resources(request)
    token = site.settings.admin_token
    return _session(request, site, token) if token else None


def is_admin(request: Request) -> bool:
    """Whether ``request`` comes from the admin (a valid session cookie, or the bearer token)."""
    token = resources(request).settings.admin_token
    if not token:
        return False
    return admin_session(request) is not None or _bearer_ok(request, token)


async def authorise_post(request: Request) -> dict[str, str]:
    """The form of an admin POST, once it is allowed: 404 when admin is off, 403 for a
    cross-site origin or a missing or wrong CSRF token (the bearer token needs none)."""
    site = resources(request)
    token = _enabled(site)
    form = await _form(request)
    session = _session(request, site, token)
    if not (_bearer_ok(request, token) or (
            session is not None and verify_csrf(site.secret, session, form.get("csrf")))):
        raise HTTPException(403, "Missing or wrong CSRF token")
    return form


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:  # not sent by every client; the CSRF token still guards the POST
        return True
    parts = urlsplit(origin)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


async def _form(request: Request) -> dict[str, str]:
    if not _same_origin(request):
        raise HTTPException(403, "Cross-site request refused")
    body = await read_small_body(request)
    try:
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True,
                          max_num_fields=_MAX_FORM_FIELDS)
    except ValueError as exc:  # too many fields
        raise HTTPException(400, "Malformed form") from exc
    return {k: v[0] for k, v in parsed.items() if v}


def _report_feeds(report: dict[str, Any] | None, titles: dict[str, str]) -> list[dict[str, Any]]:
    """Per feed of the last ingest report: items, text-only episodes, skipped items and the
    parser's problems (reports from before these were recorded have zeros)."""
    found = report.get("feeds") if report else None
    if not isinstance(found, list):
        return []
    return [{
        "feed_id": f.get("feed_id"), "title": titles.get(str(f.get("feed_id")), f.get("url")),
        "status": f.get("status"), "items": f.get("items", 0), "new": f.get("new", 0),
        "text_only": f.get("text_only", 0), "skipped_count": f.get("skipped_count", 0),
        "skipped": f.get("skipped", []), "problems": f.get("problems", []),
    } for f in found if isinstance(f, dict)]


def _jobs(site: SiteResources) -> dict[str, Any] | None:
    """Transcription jobs on the cluster, per state and worker, the latest failures, and how
    many jobs were sent again because the broker had lost them, with the latest of those
    (none when the cluster was never used)."""
    summary = job_summary(site.catalogue)
    if not any(summary.total.values()):
        return None
    recent = recent_jobs(site.catalogue, limit=RECENT_JOBS)
    return {**summary.to_dict(), "resent": summary.resent,
            "recent_failures": [_job_row(site, j) for j in recent if j.state == "failed"],
            "recent_resent": [_job_row(site, j) for j in recent if j.attempts > 1]}


def _job_row(site: SiteResources, job: TranscriptionJob) -> dict[str, Any]:
    episode = site.catalogue.episode(job.episode_id)
    return {"episode_id": job.episode_id, "title": episode.title if episode else job.episode_id,
            "url": urls.episode(job.episode_id), "job_id": job.job_id, "worker": job.worker,
            "state": job.state, "attempts": job.attempts, "error": job.error,
            "updated": job.updated.isoformat()}


def _corrections_to_check(site: SiteResources) -> list[dict[str, Any]]:
    """Corrections a re-transcription could not apply cleanly (``archive.corrections``)."""
    out = []
    for found in corrections_needing_review(site.catalogue):
        episode = site.catalogue.episode(found.episode_id)
        out.append({**correction_json(found), "conflict": found.conflict,
                    "conflict_text": found.conflict_text,
                    "episode_title": episode.title if episode else found.episode_id,
                    "history_url": urls.corrections(found.episode_id),
                    "resolve_url": urls.correction_resolve(found.id or 0)})
    return out


def _status(site: SiteResources) -> dict[str, Any]:
    feeds = [{
        "id": f.id, "title": f.title or f.url, "url": f.url, "error_count": f.error_count,
        "last_error": f.last_error,
        "last_fetched": f.last_fetched.isoformat() if f.last_fetched else None,
        "next_fetch_after": f.next_fetch_after.isoformat() if f.next_fetch_after else None,
        "episode_count": site.catalogue.count_episodes(feed_id=f.id),
    } for f in site.catalogue.feeds()]
    report = site.catalogue.last_report()
    return {"feeds": feeds, "last_report": report,
            "report_feeds": _report_feeds(report, {str(f["id"]): str(f["title"])
                                                   for f in feeds}),
            "waiting": report.get("waiting", 0) if report else 0,
            "jobs": _jobs(site),
            "corrections_to_check": _corrections_to_check(site),
            "ingest": site.ingest.status() if site.ingest else None,
            "ingest_available": site.ingest is not None}


def admin(request: Request) -> Response:
    """``/admin``: the sign-in form, or the status page once signed in."""
    site = resources(request)
    token = _enabled(site)
    session = _session(request, site, token)
    if session is None and not _bearer_ok(request, token):
        if is_json(request):
            raise HTTPException(401)
        return respond(request, "admin_login.html", {"failed": "fel" in request.query_params})
    data = _status(site)
    extra = {"csrf": csrf_token(site.secret, session or ""), "started": "startad"
             in request.query_params, "busy": "upptagen" in request.query_params}
    return respond(request, "admin.html", data, extra, headers={"cache-control": "no-store"})


async def admin_login(request: Request) -> Response:
    """``POST /admin/logga-in``: check the token, set the session cookie."""
    site = resources(request)
    token = _enabled(site)
    client = request.client.host if request.client else "unknown"
    wait_s = site.login_throttle.retry_after(client)
    if wait_s:
        # RFC 6585 §4: 429 with Retry-After; the key is not even compared.
        raise HTTPException(429, "Too many wrong keys; try again later",
                            headers={"retry-after": str(wait_s)})
    form = await _form(request)
    if "token" not in form:
        raise HTTPException(400, "The form has no token field")
    if not hmac.compare_digest(form["token"], token):
        site.login_throttle.failed(client)
        return RedirectResponse(urls.admin() + "?fel=1", status_code=303)
    site.login_throttle.succeeded(client)
    response = RedirectResponse(urls.admin(), status_code=303)
    response.set_cookie(ADMIN_COOKIE, _session_value(site, token), path=_COOKIE_PATH,
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


async def admin_logout(request: Request) -> Response:
    """``POST /admin/logga-ut``: forget the session cookie."""
    _enabled(resources(request))
    await _form(request)
    response = RedirectResponse(urls.home(), status_code=303)
    response.delete_cookie(ADMIN_COOKIE, path=_COOKIE_PATH)
    return response


async def admin_ingest(request: Request) -> Response:
    """``POST /admin/ingest``: start an ingest of every known feed (or the one named)."""
    site = resources(request)
    form = await authorise_post(request)
    if site.ingest is None:
        raise HTTPException(503, "No ingest runner is configured")
    feed = site.catalogue.feed(form["feed"]) if form.get("feed") else None
    started = site.ingest.start([feed.url] if feed else [])
    return RedirectResponse(urls.admin() + ("?startad=1" if started else "?upptagen=1"),
                            status_code=303)
