"""The HTTP client for everything sentd sends out (aiohttp underneath).

`OutboundClient.request` makes one request and returns its `Answer` (status, headers, at most
`body_limit` bytes of body), or raises `ForbiddenDestination` (a customer URL that leads inward)
or `OutboundError` (anything else: no connection, no answer in time, a broken answer, a URL the
client cannot even encode). What it owns:

* **time-outs**: the caller's budget for the whole exchange, at most `CONNECT_TIMEOUT_S` of it
  to connect;
* **User-Agent**: `sentd/<version>` on every request;
* **proxies**: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` from the environment;
* **connection reuse**: kept-alive connections per origin, never reused after `IDLE_S` idle
  (receivers commonly close idle connections after about five seconds). A request that fails on
  a reused connection before any byte of an answer (the receiver had closed it meanwhile) is
  sent again at once, once, on a new connection;
* **redirects** are never followed: a 3xx is an answer like any other;
* **the SSRF policy** for customer URLs (`for_customers`), in the resolver: see
  `destinations.py`. Provider clients (`for_providers`) reach the operator's configured bases.

Each event loop has its own clients (`for_customers`, `for_providers`), made on first use and
closed by `close_clients()` when the process (or app) stops.
"""

from __future__ import annotations

import asyncio
import socket
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from aiohttp.abc import AbstractResolver

from sentd import __version__
from sentd.outbound.destinations import CheckingResolver, ForbiddenDestination, check_answer
from sentd.outbound.destinations import check_literal as check_literal_host
from sentd.outbound.resolvers import SystemResolver

USER_AGENT = f"sentd/{__version__}"
IDLE_S = 2.0  # a kept-alive connection idle longer than this is closed, not reused
CONNECT_TIMEOUT_S = 10.0
BODY_LIMIT = 8 * 1024  # bytes of an answer's body kept (the rest is discarded)
CONNECTIONS = 256  # connections open at once, per client
DNS_CACHE_S = 10  # how long a (checked) resolution is reused
_STALE = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)


class OutboundError(Exception):
    """The request got no usable answer. `timed_out`: the time ran out (the request may have
    been taken); `connected`: a connection was made, so the request may have been taken."""

    def __init__(self, message: str, *, timed_out: bool = False, connected: bool = True) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.connected = connected


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    charset: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None


def _proxy_hosts(proxies: Mapping[str, str]) -> set[str]:
    hosts = set()
    for scheme, proxy in proxies.items():
        if scheme == "no":  # NO_PROXY lists destinations, not proxies
            continue
        host = urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname
        if host:
            hosts.add(host.lower())
    return hosts


async def _on_reuse(_: Any, context: SimpleNamespace, __: Any) -> None:
    context.trace_request_ctx["reused"] = True


@dataclass
class OutboundClient:
    """Requests to customer URLs (`checked`, with the SSRF policy) or to providers."""

    checked: bool
    resolver: AbstractResolver = field(default_factory=SystemResolver)
    idle_s: float = IDLE_S
    connections: int = CONNECTIONS
    # HTTP(S)_PROXY and NO_PROXY, read once (aiohttp would read them, in a thread, per request).
    proxies: dict[str, str] = field(default_factory=urllib.request.getproxies)
    _session: aiohttp.ClientSession | None = field(default=None, init=False)
    _fresh: aiohttp.ClientSession | None = field(default=None, init=False)

    def _proxy_for(self, url: str) -> str | None:
        if not self.proxies:
            return None
        parts = urlsplit(url)
        proxy = self.proxies.get(parts.scheme) or self.proxies.get("all")
        if not proxy or urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
            parts.hostname or "", self.proxies
        ):
            return None
        return proxy if "://" in proxy else f"http://{proxy}"

    def _connector_resolver(self) -> AbstractResolver:
        if not self.checked:
            return self.resolver
        return CheckingResolver(self.resolver, trusted=_proxy_hosts(self.proxies))

    def _new_session(self, *, reuse: bool) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.connections,
            keepalive_timeout=self.idle_s if reuse else None,
            force_close=not reuse,
            resolver=self._connector_resolver(),
            ttl_dns_cache=DNS_CACHE_S,
        )
        tracing = aiohttp.TraceConfig()
        tracing.on_connection_reuseconn.append(_on_reuse)
        return aiohttp.ClientSession(
            connector=connector,
            headers={"user-agent": USER_AGENT},
            trace_configs=[tracing] if reuse else [],
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def request(
        self,
        method: str,
        url: str,
        *,
        timeout_s: float,
        data: bytes | list[tuple[str, str]] | None = None,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        body_limit: int = BODY_LIMIT,
    ) -> Answer:
        """One request (sent twice at most: see the module doc). Raises `ForbiddenDestination`
        or `OutboundError`; never anything else but cancellation."""
        if json is not None:
            data = orjson.dumps(json)
            headers = {"content-type": "application/json", **(headers or {})}
        if auth is not None:
            headers = {**(headers or {}), "authorization": aiohttp.encode_basic_auth(*auth)}
        try:
            proxy = self._proxy_for(url)
            if self.checked:
                check_literal_host(url)
                if proxy:  # the proxy connects: check the destination beforehand
                    await self._check_through_proxy(url)
            if self._session is None:
                self._session = self._new_session(reuse=True)
            options: dict[str, Any] = {
                "data": data,
                "params": params,
                "headers": headers,
                "allow_redirects": False,
                "proxy": proxy,
                "timeout": aiohttp.ClientTimeout(
                    total=timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S)
                ),
            }
            async with asyncio.timeout(timeout_s):
                trace = {"reused": False}
                try:
                    return await _exchange(
                        self._session, method, url, options, body_limit, trace_request_ctx=trace
                    )
                except _STALE:
                    if not trace["reused"]:
                        raise
                # The receiver closed the kept-alive connection before answering: once more,
                # on a new connection.
                if self._fresh is None:
                    self._fresh = self._new_session(reuse=False)
                return await _exchange(self._fresh, method, url, options, body_limit)
        except ForbiddenDestination:
            raise
        except TimeoutError as exc:
            raise OutboundError(f"no answer within {timeout_s:g} s", timed_out=True) from exc
        except aiohttp.ClientConnectorError as exc:
            raise OutboundError(f"could not connect: {exc}", connected=False) from exc
        except Exception as exc:
            raise OutboundError(f"{type(exc).__name__}: {exc}") from exc

    async def _check_through_proxy(self, url: str) -> None:
        host = urlsplit(url).hostname or ""
        try:
            answer = await self.resolver.resolve(host, 0, socket.AF_UNSPEC)
        except OSError as exc:
            raise OutboundError(f"cannot resolve {host}: {exc}", connected=False) from exc
        check_answer(host, [result["host"] for result in answer])

    async def aclose(self) -> None:
        for session in (self._session, self._fresh):
            if session is not None:
                await session.close()
        self._session = self._fresh = None


async def _exchange(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    options: dict[str, Any],
    body_limit: int,
    trace_request_ctx: Any = None,
) -> Answer:
    async with session.request(
        method, url, trace_request_ctx=trace_request_ctx, **options
    ) as response:
        body = bytearray()
        while len(body) < body_limit:
            chunk = await response.content.read(body_limit - len(body))
            if not chunk:
                break
            body += chunk
        headers = {name.lower(): value for name, value in response.headers.items()}
        return Answer(response.status, headers, bytes(body), response.charset)


# -- the clients of each event loop ---------------------------------------------------------

_clients: dict[asyncio.AbstractEventLoop, dict[str, OutboundClient]] = {}


def _client(name: str, checked: bool) -> OutboundClient:
    loop = asyncio.get_running_loop()
    clients = _clients.setdefault(loop, {})
    client = clients.get(name)
    if client is None:
        client = clients[name] = OutboundClient(checked=checked)
    return client


def for_customers(allow_private: bool) -> OutboundClient:
    """The client for URLs customers chose: checked, unless `allow_private`."""
    return _client("customers-unchecked" if allow_private else "customers", not allow_private)


def for_providers() -> OutboundClient:
    """The client for the operator's provider bases (Twilio, WhatsApp): not checked."""
    return _client("providers", False)


async def close_clients() -> None:
    """Close the clients of the running loop (when the app or the worker stops)."""
    for client in _clients.pop(asyncio.get_running_loop(), {}).values():
        await client.aclose()
