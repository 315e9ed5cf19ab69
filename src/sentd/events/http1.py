"""A lean HTTP/1.1 client with kept-alive connections, for the webhook delivery worker.

httpx costs about a millisecond of CPU per request, which caps one worker process well below a
thousand deliveries a second. The worker sends through `Connections` instead: HTTP/1.1 over
asyncio with httptools' parser (uvicorn's), connections kept alive per origin. It never follows
redirects, keeps at most `BODY_KEEP` bytes of a body (and discards the rest), and applies the
timeout to the whole exchange (connect, send, answer). Outbound proxies (HTTP(S)_PROXY) are not
supported: `proxies_configured()` tells the worker to use httpx then.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import urllib.request
from typing import cast
from urllib.parse import unquote, urlsplit

import certifi
import httptools

BODY_KEEP = 8 * 1024  # bytes of a body kept: enough for the characters the log keeps
_IDLE_PER_ORIGIN = 64


def proxies_configured() -> bool:
    return any(urllib.request.getproxies().get(s) for s in ("http", "https", "all"))


class ConnectionClosed(Exception):
    pass


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._complete = False
        self.status = 0
        self.body = bytearray()
        self.headers: dict[str, str] = {}
        self.keep_alive = False

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._parser is None:  # nothing asked: the server must not speak
            self.close()
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)
            self.close()

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is not None and not self._waiter.done():
            if self.status and not self.keep_alive and "content-length" not in self.headers:
                self._waiter.set_result(None)  # a body delimited by the end of the connection
            else:
                self._fail(exc or ConnectionClosed("the server closed the connection"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        if key in ("content-type", "retry-after", "content-length", "location"):
            self.headers[key] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        self.status = self._parser.get_status_code()
        self.keep_alive = self._parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        room = BODY_KEEP - len(self.body)
        if room > 0:
            self.body += body[:room]

    def on_message_complete(self) -> None:
        assert self._parser is not None
        self.keep_alive = self._parser.should_keep_alive()
        self._complete = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # use
    def _fail(self, exc: BaseException) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)

    async def exchange(self, request: bytes) -> None:
        assert self.transport is not None
        self._parser = httptools.HttpResponseParser(self)
        self._complete = False
        self.status, self.body, self.headers, self.keep_alive = 0, bytearray(), {}, False
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        await self._waiter

    @property
    def reusable(self) -> bool:
        return not self.closed and self._complete and self.keep_alive

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Connections:
    """Kept-alive connections, per origin, for `send`."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(
        self, url: str, body: bytes, headers: dict[str, str], timeout_s: float
    ) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        port = parts.port or (443 if scheme == "https" else 80)
        origin = (scheme, host, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = host if ":" not in host else f"[{host}]"
        if parts.port is not None:
            authority += f":{parts.port}"
        lines = [f"POST {target} HTTP/1.1", f"host: {authority}"]
        if parts.username is not None:
            userinfo = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            lines.append("authorization: Basic " + base64.b64encode(userinfo.encode()).decode())
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += ["accept: */*", f"content-length: {len(body)}", "", ""]
        request = "\r\n".join(lines).encode("latin-1") + body
        conn: _Connection | None = None
        try:
            async with asyncio.timeout(timeout_s):
                conn = await self._connection(origin)
                await conn.exchange(request)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        if conn.reusable:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < _IDLE_PER_ORIGIN:
                idle.append(conn)
            else:
                conn.close()
        else:
            conn.close()
        return conn.status, conn.headers, bytes(conn.body)

    async def _connection(self, origin: tuple[str, str, int]) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            if not conn.closed:
                return conn
        scheme, host, port = origin
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context(cafile=certifi.where())
            tls = self._tls
        _, protocol = await asyncio.get_running_loop().create_connection(
            _Connection, host, port, ssl=tls, server_hostname=host if tls else None
        )
        return protocol

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


def decode(body: bytes, content_type: str | None) -> str:
    charset = "utf-8"
    if content_type:
        for param in content_type.split(";")[1:]:
            key, _, value = param.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip("\"'")
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
