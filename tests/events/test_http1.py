"""The worker's lean HTTP client (`http1.Connections`, used through `sender.send`) against a
raw socket server that answers with canned bytes: lengths, chunks, bodies ended by closing, big
bodies, closed keep-alive connections, time-outs."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import pytest
import uvloop

from sentd.events import http1, sender

Answer = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

Runner = Callable[[Coroutine[Any, Any, None]], None]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Each test under both event loops: `sentd serve` and `sentd worker` run uvloop."""
    runner: Runner = asyncio.run if request.param == "asyncio" else uvloop.run
    return runner


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    return head + await reader.readexactly(length)


async def serve(answer: Answer) -> tuple[asyncio.Server, str, list[int]]:
    """A server; the list counts the connections it accepted."""
    accepted: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        try:
            await answer(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/hook?x=1", accepted


async def send(connections: http1.Connections, url: str, timeout_s: float = 5) -> sender.Outcome:
    return await sender.send(
        connections,
        url=url,
        body=b'{"a": 1}',
        headers={"content-type": "application/json", "x-webhook-id": "w"},
        timeout_s=timeout_s,
        allow_private=True,
    )


def test_keep_alive_lengths_chunks_and_headers(run: Runner) -> None:
    requests: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            requests.append(await read_request(reader))
            if len(requests) % 2:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            else:
                writer.write(
                    b"HTTP/1.1 429 Too Many\r\ntransfer-encoding: chunked\r\n"
                    b"retry-after: 7\r\ncontent-type: text/plain; charset=latin-1\r\n\r\n"
                    b"3\r\nnot\r\n4\r\n n\xe9w\r\n0\r\n\r\n"
                )
            await writer.drain()

    async def go() -> None:
        server, url, accepted = await serve(answer)
        connections = http1.Connections()
        try:
            first = await send(connections, url)
            second = await send(connections, url)
            third = await send(connections, url)
        finally:
            await connections.aclose()
            server.close()
        assert (first.status, first.body, first.succeeded) == (200, "ok", True)
        assert (second.status, second.body, second.retry_after_s) == (429, "not néw", 7.0)
        assert third.status == 200
        assert len(accepted) == 1  # one connection, kept alive
        head = requests[0].split(b"\r\n\r\n")[0].decode().split("\r\n")
        assert head[0] == "POST /hook?x=1 HTTP/1.1"
        assert f"host: {url.split('/')[2]}" in head and "content-length: 8" in head
        assert "x-webhook-id: w" in head
        assert requests[0].endswith(b'{"a": 1}')

    run(go())


def test_a_body_ended_by_closing_and_a_big_body(run: Runner) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 500 Oops\r\nconnection: close\r\n\r\n" + b"x" * 100_000)
        await writer.drain()

    async def go() -> None:
        server, url, accepted = await serve(answer)
        connections = http1.Connections()
        try:
            first = await send(connections, url)
            second = await send(connections, url)
        finally:
            await connections.aclose()
            server.close()
        assert first.status == 500 and first.body == "x" * sender.RESPONSE_BODY_LIMIT
        assert second.status == 500 and len(accepted) == 2  # not reused

    run(go())


def test_a_closed_idle_connection_is_not_reused(run: Runner) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()
        # ... then close the kept-alive connection, as servers do after their idle time-out

    async def go() -> None:
        server, url, accepted = await serve(answer)
        connections = http1.Connections()
        try:
            first = await send(connections, url)
            await asyncio.sleep(0.1)
            second = await send(connections, url)
        finally:
            await connections.aclose()
            server.close()
        assert first.status == 204 and second.status == 204 and len(accepted) == 2

    run(go())


def test_no_answer_in_time_and_connection_failures(run: Runner) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def go() -> None:
        server, url, _ = await serve(answer)
        connections = http1.Connections()
        try:
            slow = await send(connections, url, timeout_s=0.2)
            server.close()
            await server.wait_closed()
            refused = await send(connections, url)
            garbage_server, garbage_url, _ = await serve(garbage)
            garbled = await send(connections, garbage_url)
            garbage_server.close()
        finally:
            await connections.aclose()
        assert slow.status is None and slow.error == "no answer within 0.2 s"
        assert refused.status is None and (refused.error or "").startswith("connection failed")
        assert garbled.status is None and (garbled.error or "").startswith("connection failed")

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SMTP READY\r\n\r\n")
        await writer.drain()

    run(go())
