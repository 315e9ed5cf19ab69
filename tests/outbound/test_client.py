"""The outbound client against raw loopback servers: kept-alive connections, receivers that close
them, bodies, redirects, time-outs and failures, under both event loops."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
import uvloop

from sentd import __version__
from sentd.outbound import ForbiddenDestination, OutboundClient, OutboundError
from sentd.outbound.client import _proxy_hosts
from tests.outbound.servers import ScriptedResolver, read_request, serve

Runner = Any


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    """Each test under both event loops: `sentd serve` and `sentd worker` run uvloop."""

    def runner(coro: Coroutine[Any, Any, None]) -> None:
        (asyncio.run if request.param == "asyncio" else uvloop.run)(coro)

    return runner


async def post(client: OutboundClient, url: str, timeout_s: float = 5) -> Any:
    return await client.request(
        "POST", url, data=b'{"a": 1}', headers={"x-webhook-id": "w"}, timeout_s=timeout_s
    )


def test_keep_alive_headers_and_bodies(run: Runner) -> None:
    requests: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            requests.append(await read_request(reader))
            if len(requests) == 1:
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            elif len(requests) == 2:
                writer.write(
                    b"HTTP/1.1 429 Too Many\r\ntransfer-encoding: chunked\r\n"
                    b"retry-after: 7\r\ncontent-type: text/plain; charset=latin-1\r\n\r\n"
                    b"3\r\nnot\r\n4\r\n n\xe9w\r\n0\r\n\r\n"
                )
            else:
                writer.write(b"HTTP/1.1 302 Found\r\nlocation: http://10.0.0.1/\r\n")
                writer.write(b"content-length: 100000\r\n\r\n" + b"x" * 100_000)
            await writer.drain()

    async def go() -> None:
        served = await serve(answer)
        client = OutboundClient(checked=False)
        try:
            first = await post(client, served.url())
            second = await post(client, served.url())
            third = await post(client, served.url())
        finally:
            await client.aclose()
            await served.close()
        assert (first.status, first.body, first.ok) == (200, b"ok", True)
        assert (second.status, second.text(), second.headers["retry-after"]) == (
            429,
            "not néw",
            "7",
        )
        assert third.status == 302 and len(third.body) == 8 * 1024  # not followed; body cut
        assert len(served.accepted) == 1  # one connection, kept alive
        head = requests[0].split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
        assert head[0] == "post /hook?x=1 http/1.1"
        assert f"user-agent: sentd/{__version__}" in head and "x-webhook-id: w" in head
        assert requests[0].endswith(b'{"a": 1}')

    run(go())


def test_a_receiver_that_closes_every_connection_after_answering(run: Runner) -> None:
    """It answers as if the connection stayed open, then closes it: 50 requests in a row, every
    one answered (a closed connection is not reused, or its request is sent again at once)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()

    async def go() -> None:
        served = await serve(answer)
        client = OutboundClient(checked=False)
        try:
            answers = [await post(client, served.url()) for _ in range(50)]
        finally:
            await client.aclose()
            await served.close()
        assert [a.status for a in answers] == [200] * 50
        assert 50 <= len(served.accepted) <= 100  # at most one extra connection per request

    run(go())


def test_a_reused_connection_closed_unanswered_is_retried_once_on_a_new_one(run: Runner) -> None:
    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        await read_request(reader)  # the second request on this connection: closed, unanswered

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)

    async def go() -> None:
        served = await serve(answer_once)
        mute = await serve(never_answer)
        client = OutboundClient(checked=False)
        try:
            first = await post(client, served.url())
            second = await post(client, served.url())
            with pytest.raises(OutboundError):  # a new connection closed unanswered: no retry
                await post(client, mute.url())
        finally:
            await client.aclose()
            await served.close()
            await mute.close()
        assert first.status == 200 and second.status == 200
        assert len(served.accepted) == 2 and len(mute.accepted) == 1

    run(go())


def test_no_answer_in_time_and_broken_answers(run: Runner) -> None:
    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(5)

    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SMTP READY\r\n\r\n")
        await writer.drain()

    async def go() -> None:
        slow_server = await serve(slow)
        garbage_server = await serve(garbage)
        client = OutboundClient(checked=False)
        try:
            with pytest.raises(OutboundError) as late:
                await post(client, slow_server.url(), timeout_s=0.2)
            closed_port = slow_server.url()
            await slow_server.close()
            with pytest.raises(OutboundError) as refused:
                await post(client, closed_port)
            with pytest.raises(OutboundError) as garbled:
                await post(client, garbage_server.url())
        finally:
            await client.aclose()
            await garbage_server.close()
        assert late.value.timed_out and str(late.value) == "no answer within 0.2 s"
        assert not refused.value.connected and not refused.value.timed_out
        assert not garbled.value.timed_out

    run(go())


def test_whatever_breaks_inside_the_client_is_an_outbound_error(run: Runner) -> None:
    async def go() -> None:
        client = OutboundClient(checked=False, resolver=ScriptedResolver({"boom.test": ["raise"]}))
        try:
            with pytest.raises(OutboundError) as broken:
                await post(client, "http://boom.test:9/hook")
        finally:
            await client.aclose()
        assert "the resolver broke" in str(broken.value)

    run(go())


def test_requests_go_through_the_operators_proxy(run: Runner) -> None:
    lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            lines.append((await read_request(reader)).split(b"\r\n", 1)[0])
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    async def go() -> None:
        served = await serve(proxy)
        proxies = {"http": f"127.0.0.1:{served.port}", "no": "direct.example"}
        resolver = ScriptedResolver({})  # the proxy resolves names; sentd does not, unchecked
        client = OutboundClient(checked=False, proxies=proxies, resolver=resolver)
        checked = OutboundClient(
            checked=True,
            proxies=proxies,
            resolver=ScriptedResolver({"hooks.example": ["93.184.216.34"]}),
        )
        try:
            answer = await post(client, "http://hooks.example/hook?x=1")
            through = await post(checked, "http://hooks.example/hook?x=2")
            with pytest.raises(ForbiddenDestination):  # checked before the proxy is asked
                await post(checked, "http://169.254.169.254/latest")
            with pytest.raises(OutboundError):  # NO_PROXY: direct, and not resolvable here
                await post(client, "http://direct.example/hook")
        finally:
            await client.aclose()
            await checked.aclose()
            await served.close()
        assert answer.status == through.status == 200
        assert lines == [
            b"POST http://hooks.example/hook?x=1 HTTP/1.1",
            b"POST http://hooks.example/hook?x=2 HTTP/1.1",
        ]
        assert resolver.lookups == ["direct.example"]
        assert _proxy_hosts(proxies) == {"127.0.0.1"}  # NO_PROXY names are not trusted

    run(go())
