"""The SSRF policy, decided where the connection is made: one resolution, every address of it
public, the connection made to one of exactly those; literals refused before connecting."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from sentd.outbound import ForbiddenDestination, OutboundClient
from sentd.outbound.destinations import check_when_saved, is_public
from sentd.outbound.resolvers import use_resolver
from tests.outbound.servers import ScriptedResolver, read_request, serve

PUBLIC = "93.184.216.34"  # never connected to: the tests assert it


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("100.100.100.200", False),  # cloud metadata, in 100.64.0.0/10
        ("192.0.0.8", False),  # 192.0.0.0/24
        ("169.254.169.254", False),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("fd00::1", False),
        ("fe80::1", False),
        (PUBLIC, True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
        ("::ffff:93.184.216.34", True),
    ],
)
def test_only_global_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(address) is public


class ConnectSpy:
    """Records every connection the event loop is asked to make."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.targets: list[Any] = []
        real_sock_connect, real_create = loop.sock_connect, loop.create_connection

        async def sock_connect(sock: Any, address: Any) -> None:
            self.targets.append(address)
            await real_sock_connect(sock, address)

        async def create_connection(*args: Any, **kwargs: Any) -> Any:
            if args[1:] or kwargs.get("host"):
                self.targets.append(args[1:] or kwargs.get("host"))
            return await real_create(*args, **kwargs)

        loop.sock_connect = sock_connect  # type: ignore[method-assign]
        loop.create_connection = create_connection  # type: ignore[method-assign]


@pytest.fixture
def dns() -> Iterator[ScriptedResolver]:
    resolver = ScriptedResolver({})
    use_resolver(resolver)
    yield resolver
    use_resolver(None)


def test_a_name_that_turns_inward_on_the_second_lookup_is_refused(dns: ScriptedResolver) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
        await writer.drain()

    async def go() -> None:
        served = await serve(answer)
        spy = ConnectSpy(asyncio.get_running_loop())
        dns.scripts["rebind.example"] = [PUBLIC, "127.0.0.1"]
        url = served.url(host="rebind.example")
        client = OutboundClient(checked=True)
        try:
            await check_when_saved(url, allow_private=False)  # first lookup: public, accepted
            with pytest.raises(ForbiddenDestination, match=r"127\.0\.0\.1"):
                await client.request("POST", url, data=b"{}", timeout_s=5)
        finally:
            await client.aclose()
            await served.close()
        assert dns.lookups == ["rebind.example", "rebind.example"]
        assert spy.targets == [] and served.accepted == []

    asyncio.run(go())


@pytest.mark.parametrize(
    "url",
    [
        "http://100.100.100.200/latest/meta-data",
        "http://192.0.0.8/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/",
        "http://metadata.example/",  # a name whose only answer is inward
        "http://mixed.example/",  # one public and one inward answer: refused too
    ],
)
def test_inward_destinations_are_refused_before_connecting(dns: ScriptedResolver, url: str) -> None:
    dns.scripts["metadata.example"] = ["169.254.169.254"]
    dns.scripts["localhost"] = ["127.0.0.1"]

    async def go() -> None:
        spy = ConnectSpy(asyncio.get_running_loop())
        client = OutboundClient(checked=True)
        try:
            with pytest.raises(ForbiddenDestination):
                await client.request("POST", url, data=b"{}", timeout_s=5)
            with pytest.raises(ForbiddenDestination):
                await check_when_saved(url, allow_private=False)
        finally:
            await client.aclose()
        assert spy.targets == []

    if "mixed" in url:

        class Mixed(ScriptedResolver):
            async def resolve(self, host: str, port: int = 0, family: Any = 0) -> Any:
                answer = await ScriptedResolver({host: [PUBLIC]}).resolve(host, port, family)
                inward = await ScriptedResolver({host: ["10.0.0.7"]}).resolve(host, port, family)
                return answer + inward

        use_resolver(Mixed({}))
    asyncio.run(go())


def test_private_destinations_are_reached_when_allowed(dns: ScriptedResolver) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await writer.drain()

    async def go() -> None:
        served = await serve(answer)
        dns.scripts["inside.example"] = ["127.0.0.1"]
        client = OutboundClient(checked=False)
        try:
            await check_when_saved(served.url(host="inside.example"), allow_private=True)
            by_name = await client.request("POST", served.url("inside.example"), timeout_s=5)
            by_address = await client.request("POST", served.url(), timeout_s=5)
        finally:
            await client.aclose()
            await served.close()
        assert by_name.status == by_address.status == 204

    asyncio.run(go())
