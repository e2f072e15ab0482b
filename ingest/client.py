"""The HTTP client poddarkiv fetches with, and the policy that bounds each fetch.

:func:`make_client` builds an ``httpx.Client`` whose network backend resolves every host itself,
refuses non-public addresses (unless the policy allows them) and connects to the very address
it checked (see :mod:`poddarkiv.ingest.guard`). It ignores proxy variables from the
environment, follows no redirects on its own (:mod:`poddarkiv.ingest.fetch` does, hop by hop)
and sends our User-Agent.
"""

from __future__ import annotations

import dataclasses
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import certifi
import httpcore
import httpx

from poddarkiv import __version__
from poddarkiv.config import Settings
from poddarkiv.errors import FetchError
from poddarkiv.ingest.guard import Resolver, check_host

__all__ = [
    "AUDIO_DEADLINE_S",
    "CONNECT_TIMEOUT_S",
    "FEED_ACCEPT",
    "FEED_DEADLINE_S",
    "FEED_MAX_BYTES",
    "MAX_REDIRECTS",
    "MAX_RETRY_AFTER_S",
    "READ_TIMEOUT_S",
    "USER_AGENT",
    "FetchPolicy",
    "make_client",
    "policy_for",
]

PROJECT_URL = "https://pypi.org/project/poddarkiv/"
USER_AGENT = f"poddarkiv/{__version__} (+{PROJECT_URL})"
CONNECT_TIMEOUT_S = 10.0
#: Longest silence between two reads.
READ_TIMEOUT_S = 30.0
#: Whole exchange for a feed or a transcript, redirects included.
FEED_DEADLINE_S = 60.0
#: Whole exchange for one audio file (an hour of audio is ~60 MB; this allows ~30 kB/s).
AUDIO_DEADLINE_S = 30 * 60.0
FEED_MAX_BYTES = 15 * 1024 * 1024
MAX_REDIRECTS = 5
#: A server asking us to wait longer than this is treated as asking for a week.
MAX_RETRY_AFTER_S = 7 * 24 * 3600.0
FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/xml;q=0.9, "
               "text/xml;q=0.9, */*;q=0.5")
_MAX_CONNECTIONS = 10


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """The bounds of one kind of fetch. Sizes are bytes, times seconds.

    ``max_bytes`` counts the body after decompression. ``allow_private`` lets the client reach
    loopback and private addresses (the demo and tests need loopback). ``resolver`` replaces the
    system resolver (tests map names to ``127.0.0.1`` with it).
    """

    user_agent: str = USER_AGENT
    connect_timeout_s: float = CONNECT_TIMEOUT_S
    read_timeout_s: float = READ_TIMEOUT_S
    deadline_s: float = FEED_DEADLINE_S
    max_bytes: int = FEED_MAX_BYTES
    max_redirects: int = MAX_REDIRECTS
    allow_private: bool = False
    schemes: frozenset[str] = frozenset({"http", "https"})
    resolver: Resolver | None = field(default=None, compare=False)

    def replace(self, **changes: Any) -> FetchPolicy:
        """A copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes)


def policy_for(settings: Settings, *, kind: Literal["feed", "audio"] = "feed",
               resolver: Resolver | None = None) -> FetchPolicy:
    """The policy for feeds and publisher transcripts (``"feed"``) or audio under ``settings``."""
    if kind == "audio":
        return FetchPolicy(max_bytes=settings.audio_max_bytes, deadline_s=AUDIO_DEADLINE_S,
                           allow_private=settings.allow_private, resolver=resolver)
    return FetchPolicy(max_bytes=settings.feed_max_bytes, allow_private=settings.allow_private,
                       resolver=resolver)


class _GuardedBackend(httpcore.NetworkBackend):
    """Resolve and check the host, then connect to one of the checked addresses."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        addresses = check_host(host, port, allow_private=self._policy.allow_private,
                               resolver=self._policy.resolver)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                # TLS still verifies and sends SNI for ``host``: httpcore takes the server name
                # from the request's origin, not from the address we connect to.
                return self._inner.connect_tcp(address, port, timeout, local_address,
                                               socket_options)
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"cannot connect to {host}")

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None,
                            ) -> httpcore.NetworkStream:
        raise FetchError("refused: unix sockets are never fetched from")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class _GuardedTransport(httpx.HTTPTransport):
    def __init__(self, policy: FetchPolicy) -> None:
        super().__init__(trust_env=False, retries=0)
        # httpx.HTTPTransport has no parameter for httpcore's network backend, so the pool it
        # built is replaced by an identical one that connects through the guard. That touches
        # httpx's internals (pinned below 0.29 in pyproject.toml): an httpx that builds its
        # transport otherwise must fail here, loudly, rather than fetch unguarded.
        if not isinstance(getattr(self, "_pool", None), httpcore.ConnectionPool):
            raise RuntimeError(f"httpx {httpx.__version__} keeps no httpcore pool in "
                               "HTTPTransport._pool: the address guard cannot be installed")
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=_MAX_CONNECTIONS,
            max_keepalive_connections=_MAX_CONNECTIONS,
            keepalive_expiry=5.0,
            network_backend=_GuardedBackend(policy),
        )


def make_client(policy: FetchPolicy) -> httpx.Client:
    """An ``httpx.Client`` that connects only where ``policy`` allows.

    Close it when done (it is a context manager). One client can serve many fetches; the
    policy passed to each fetch bounds sizes and times, this one bounds addresses.
    """
    return httpx.Client(
        transport=_GuardedTransport(policy),
        headers={"User-Agent": policy.user_agent},
        timeout=httpx.Timeout(policy.read_timeout_s, connect=policy.connect_timeout_s),
        follow_redirects=False,
        trust_env=False,
    )
