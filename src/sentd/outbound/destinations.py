"""Which addresses a customer-chosen URL may reach (the SSRF policy), decided where the
connection is made.

A customer URL may reach only globally routable addresses (`ipaddress`'s `is_global`, IPv4 and
IPv6; an IPv4-mapped or NAT64-embedded IPv6 address is judged by its IPv4 address), unless
`SENTD_WEBHOOK_ALLOW_PRIVATE=true`. The check happens in the resolver the connection uses
(`CheckingResolver`): the host is resolved once, every address of the answer must pass, and
aiohttp connects to one of exactly those addresses (TLS still verifies the host name). So a name
that answers differently on a second lookup (DNS rebinding) gains nothing. A host written as an
IP literal is not resolved; `check_literal` refuses it before any connection. Saving a URL also
checks it (`check_when_saved`), to refuse early what can never be delivered.

Provider base URLs (Twilio, WhatsApp) are the operator's configuration, not a customer's: they
are trusted and not checked. An outbound proxy named by the operator (HTTP(S)_PROXY) is trusted
too; behind a proxy the connection is the proxy's, so sentd checks the destination's own
resolution just before the request (the proxy resolves again: run it with its own egress policy).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Collection
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult

from sentd.outbound.resolvers import SystemResolver

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not globally routable, though older Pythons' `is_global` says they are (IANA special-purpose
# registry; Python 3.13 knows them).
_NOT_GLOBAL = (
    ipaddress.ip_network("192.0.0.0/24"),
    ipaddress.ip_network("64:ff9b:1::/48"),
    ipaddress.ip_network("5f00::/16"),
)


class ForbiddenDestination(Exception):
    """A customer URL leads to an address sentd must not reach."""


def is_public(address: str | Address) -> bool:
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_public(ip.ipv4_mapped)
        if ip in _NAT64:
            return is_public(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.sixtofour is not None:
            return is_public(ip.sixtofour)
    if any(ip in network for network in _NOT_GLOBAL):
        return False
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def check_literal(url: str) -> None:
    """Refuse a URL whose host is a non-public IP literal or a `localhost` name."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        raise ForbiddenDestination(f"{host} is not a public destination")
    ip = _literal(host)
    if ip is not None and not is_public(ip):
        raise ForbiddenDestination(f"{ip} is not a public address")


def check_answer(host: str, addresses: Collection[str]) -> None:
    """Refuse a resolution when any of its addresses is not public."""
    if not addresses:
        raise ForbiddenDestination(f"{host} resolves to no address")
    for address in addresses:
        if not is_public(address.split("%", 1)[0]):
            raise ForbiddenDestination(f"{host} resolves to {address}, which is not public")


class CheckingResolver(AbstractResolver):
    """Resolves through `inner` and refuses answers that are not public (see the module doc).
    Names in `trusted` (the operator's proxies) are resolved without the check."""

    def __init__(self, inner: AbstractResolver, trusted: Collection[str] = ()) -> None:
        self._inner = inner
        self._trusted = {name.lower() for name in trusted}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = await self._inner.resolve(host, port, family)
        if host.rstrip(".").lower() not in self._trusted:
            check_answer(host, [result["host"] for result in answer])
        return answer

    async def close(self) -> None:
        await self._inner.close()


async def check_when_saved(url: str, allow_private: bool) -> None:
    """Refuse, when a customer saves it, a URL that leads inward: a literal host, or a name that
    resolves inward now. A name that does not resolve (yet) is accepted: its connections are
    checked when they are made."""
    if allow_private:
        return
    check_literal(url)
    host = (urlsplit(url).hostname or "").rstrip(".")
    if _literal(host) is not None:
        return
    resolver = SystemResolver()
    try:
        answer = await resolver.resolve(host, 0, socket.AF_UNSPEC)
    except OSError:
        return
    finally:
        await resolver.close()
    check_answer(host, [result["host"] for result in answer])
