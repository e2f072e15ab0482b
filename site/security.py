"""The site's protective layer: security headers, a request body cap, and CSRF tokens.

The CSP allows scripts, styles, media and images from the site itself only: no inline script,
no inline style, nothing from a feed's host (a feed's images would tell its publisher who reads
the archive). Forms post only to the site; the site may not be framed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSP",
    "MAX_BODY_BYTES",
    "BodySizeLimitMiddleware",
    "LoginThrottle",
    "SecurityHeadersMiddleware",
    "csrf_token",
    "new_secret",
    "read_small_body",
    "verify_csrf",
]

#: The largest request body accepted (bytes); the site only takes small forms.
MAX_BODY_BYTES = 16 * 1024

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "media-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])

_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


class SecurityHeadersMiddleware:
    """Add the CSP and the usual security headers to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in _HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuse requests that declare a body over ``max_bytes`` with 413 before reading it.

    A body sent without ``Content-Length`` (chunked) is capped where it is read, by
    :func:`read_small_body`.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            declared = dict(scope["headers"]).get(b"content-length", b"0")
            if not declared.isdigit() or int(declared) > self.max_bytes:
                await _too_large(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def read_small_body(request: Request, *, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The request body, or 413 as soon as it grows past ``max_bytes``."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise HTTPException(413, "Request body too large")
        chunks.append(chunk)
    return b"".join(chunks)


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    response = PlainTextResponse("Request body too large", status_code=413)
    await response(scope, receive, send)


def new_secret() -> bytes:
    """A fresh random key for CSRF tokens (one per process; forms expire on restart)."""
    return secrets.token_bytes(32)


def csrf_token(secret: bytes, session: str) -> str:
    """The CSRF token for ``session`` (the admin cookie's value): an HMAC, never stored."""
    return hmac.new(secret, b"csrf:" + session.encode(), hashlib.sha256).hexdigest()


def verify_csrf(secret: bytes, session: str, token: str | None) -> bool:
    """Whether ``token`` is the CSRF token for ``session``, compared in constant time."""
    return bool(token) and hmac.compare_digest(csrf_token(secret, session), token or "")


class LoginThrottle:
    """Wrong admin keys, counted per client: after ``max_failures`` within ``window_s`` seconds,
    sign-in is refused (429) until the oldest failure leaves the window.

    Guessing the key online is then hopeless, and a right key after a lockout still waits, so
    the lockout cannot be used to test guesses. ``clock`` is a seam for tests.
    """

    def __init__(self, *, max_failures: int = 5, window_s: float = 15 * 60,
                 clock: Callable[[], float] = time.monotonic, max_clients: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        found = self._failures.get(client, deque())
        while found and now - found[0] >= self.window_s:
            found.popleft()
        return found

    def retry_after(self, client: str) -> int:
        """Seconds until ``client`` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            found = self._recent(client, now)
            if len(found) < self.max_failures:
                return 0
            return max(1, int(found[0] + self.window_s - now) + 1)

    def failed(self, client: str) -> None:
        """Record a wrong key from ``client``."""
        with self._lock:
            if len(self._failures) >= self.max_clients and client not in self._failures:
                self._failures.pop(next(iter(self._failures)))  # forget the oldest client
            found = self._recent(client, self.clock())
            found.append(self.clock())
            self._failures[client] = found

    def succeeded(self, client: str) -> None:
        """Forget ``client``'s failures after a right key."""
        with self._lock:
            self._failures.pop(client, None)
