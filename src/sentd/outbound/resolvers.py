"""The name resolver of outbound connections: the system's (getaddrinfo in a thread), unless a
test installed another with `use_resolver` (a DNS that answers as the test says)."""

from __future__ import annotations

import socket

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

_override: AbstractResolver | None = None


def use_resolver(resolver: AbstractResolver | None) -> None:
    """Resolve names with `resolver` from now on; None restores the system's."""
    global _override
    _override = resolver


class SystemResolver(AbstractResolver):
    def __init__(self) -> None:
        self._threaded: aiohttp.ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if _override is not None:
            return await _override.resolve(host, port, family)
        if self._threaded is None:
            self._threaded = aiohttp.ThreadedResolver()
        return await self._threaded.resolve(host, port, family)

    async def close(self) -> None:
        if self._threaded is not None:
            await self._threaded.close()
