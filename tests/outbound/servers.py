"""Raw loopback HTTP servers that answer with canned bytes, and a DNS the test controls."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


@dataclass
class Served:
    server: asyncio.Server
    port: int
    accepted: list[int] = field(default_factory=list)  # one entry per connection

    def url(self, host: str = "127.0.0.1", path: str = "/hook?x=1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def close(self) -> None:
        self.server.close()
        await self.server.wait_closed()


async def serve(answer: Answer) -> Served:
    served: Served

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served.accepted.append(1)
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    served = Served(server, server.sockets[0].getsockname()[1])
    return served


class ScriptedResolver(AbstractResolver):
    """Answers each lookup of a name with the next address of its script (the last one once
    the script runs out); other names are not known."""

    def __init__(self, scripts: dict[str, Sequence[str]]) -> None:
        self.scripts = scripts
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        script = self.scripts.get(host.rstrip("."))
        if script is None:
            raise OSError(f"{host} is not known")
        address = script[min(self.lookups.count(host) - 1, len(script) - 1)]
        if address == "raise":
            raise RuntimeError("the resolver broke")
        v6 = ":" in address
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if v6 else socket.AF_INET,
                "proto": 0,
                "flags": 0,
            }
        ]

    async def close(self) -> None:
        pass
