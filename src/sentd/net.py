"""Outbound destinations chosen by customers (webhook endpoints, callback URLs).

Only http(s). Unless `SENTD_WEBHOOK_ALLOW_PRIVATE` is set, a destination in a private, loopback,
link-local, multicast or reserved range is refused — checked when the URL is saved and again,
after DNS resolution, right before each delivery (so a name that later resolves inward is caught).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class ForbiddenDestination(ValueError):
    pass


def check_url_shape(url: str) -> str:
    """The URL when it is an absolute http(s) URL with a host; ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("Use an absolute http:// or https:// URL")
    return url


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_literal_host(url: str, allow_private: bool) -> None:
    """Refuse a URL whose host is an internal IP literal or `localhost` (no DNS involved)."""
    host = urlsplit(url).hostname or ""
    if allow_private:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise ForbiddenDestination(f"{host} is not a public destination")
    try:
        internal = _is_internal(host)
    except ValueError:
        return  # a name: checked after resolution, at delivery time
    if internal:
        raise ForbiddenDestination(f"{host} is not a public destination")


async def check_resolved(url: str, allow_private: bool) -> None:
    """Resolve the URL's host and refuse it when any address is internal."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if _is_internal(str(info[4][0])):
            raise ForbiddenDestination(f"{host} resolves to an internal address")
