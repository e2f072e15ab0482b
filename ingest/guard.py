"""Which hosts poddarkiv may connect to: public addresses only, unless the user allows more.

A feed is untrusted input, and so is every URL in it and every redirect it leads to. Without a
guard a feed could make poddarkiv request ``http://169.254.169.254/`` (a cloud metadata service),
``http://127.0.0.1:6379/`` or a printer on the local network. So every connection resolves the
host itself, refuses it when any address is loopback, private, link-local, shared (CGNAT),
multicast, reserved or otherwise not global, and then connects to exactly the address it
checked, so a DNS answer that changes between the check and the connect (DNS rebinding) cannot
slip through.

The check runs inside the HTTP client's network backend (see :func:`poddarkiv.ingest.fetch.
make_client`), so it covers every redirect hop. The resolver is a parameter: tests map names
to ``127.0.0.1`` without any DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from poddarkiv.errors import FetchError

__all__ = [
    "PRIVATE_HINT",
    "Resolver",
    "check_host",
    "check_url",
    "is_public_address",
    "system_resolver",
]

#: ``resolver(host, port)`` returns the host's IP addresses as strings.
Resolver = Callable[[str, int], Sequence[str]]

_LOCAL_NAMES = ("localhost", "localhost.localdomain")
#: How a refusal says what would allow the address (the flag and the variable behind
#: ``Settings.allow_private``).
PRIVATE_HINT = "(--allow-private or PODDARKIV_ALLOW_PRIVATE=1 allows it)"


def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses from the operating system's resolver (DNS, hosts file)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a global unicast address (not loopback, private, metadata, …)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv4-mapped (::ffff:10.0.0.1) and 6to4 addresses carry an IPv4 address inside.
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is not None:
            ip = embedded
    return ip.is_global and not ip.is_multicast


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def check_host(host: str, port: int, *, allow_private: bool,
               resolver: Resolver | None = None) -> list[str]:
    """The addresses to connect to for ``host``; raises :class:`FetchError` when refused.

    With ``allow_private`` every address is allowed (the demo and the tests use loopback).
    Otherwise the host is refused when *any* of its addresses is not public: a name that
    resolves to both a public and a private address is an attack, not a misconfiguration.
    """
    if _is_ip_literal(host):
        addresses: Sequence[str] = [host]
    else:
        try:
            addresses = (resolver or system_resolver)(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise FetchError(f"cannot resolve {host}: no addresses")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise FetchError(
                    f"refused {host}: {address} is not a public address {PRIVATE_HINT}")
    return list(addresses)


def check_url(url: str, *, schemes: frozenset[str], allow_private: bool) -> None:
    """Refuse ``url`` early when its scheme, host or literal address cannot be fetched.

    Names are resolved and checked later, at connect time, by the client's guard.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        raise FetchError(f"not a valid URL: {url!r}", url=url) from exc
    if parts.scheme.lower() not in schemes:
        raise FetchError(f"refused scheme {parts.scheme!r}: only {', '.join(sorted(schemes))}",
                         url=url)
    if not host:
        raise FetchError(f"no host in {url!r}", url=url)
    if allow_private:
        return
    local_name = host.lower().rstrip(".") in _LOCAL_NAMES or host.lower().endswith(".localhost")
    if local_name or (_is_ip_literal(host) and not is_public_address(host)):
        raise FetchError(f"refused {host}: not a public address {PRIVATE_HINT}", url=url)
