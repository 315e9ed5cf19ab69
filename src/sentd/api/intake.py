"""Request intake: what happens between a request's headers and its route.

uvicorn starts the application as soon as a request's headers are parsed; the body follows as
`http.request` messages from `receive()` while the client sends it (uvicorn pauses reading the
socket once 64 KiB wait unread). So a client that announces a body and never sends it would hold
a request for as long as the server lets it. The intake, in order:

1. refuses a `Content-Length` over `SENTD_MAX_BODY_BYTES` at once: 413 `REQUEST_001`, nothing read;
2. authenticates, when the route is an authenticated one, before a byte of the body is read
   (the same `authenticate` the route depends on; the route then reuses its result);
3. reads the body with a byte budget (a chunked body is cut off once it passes the limit: 413)
   and a time budget (`SENTD_BODY_TIMEOUT_S`: 408 `REQUEST_002`); both answers close the
   connection;
4. checks the decoded input once for every route (`sentd.api.input_limits`: NUL, ceilings);
5. only then takes a place under the in-flight ceiling (`/v3` only; 503 `INTERNAL_005` when it
   is full) and runs the route, replaying the body to it.

Errors are raised as `ApiError`; `RequestContextMiddleware`, outside this one, answers them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentd.api import input_limits
from sentd.api.deps import authenticate
from sentd.api.load import InFlight
from sentd.api.routing import RouteFacts
from sentd.config import Settings
from sentd.errors.exceptions import ApiError

API_PREFIX = "/v3/"
CLOSE = {"Connection": "close"}


class ClientGone(Exception):
    """The client disconnected before its body arrived: there is no one to answer."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def too_large(limit: int) -> ApiError:
    return ApiError(
        "REQUEST_001", {"body": [f"The body is larger than {limit} bytes"]}, headers=dict(CLOSE)
    )


def too_slow(seconds: float) -> ApiError:
    details = {"body": [f"The body did not arrive within {seconds:g} seconds"]}
    return ApiError("REQUEST_002", details, headers=dict(CLOSE))


async def read_body(receive: Receive, *, limit: int, within_s: float) -> bytes:
    """The whole body, at most `limit` bytes, within `within_s` seconds."""
    chunks: list[bytes] = []
    size = 0
    deadline = asyncio.timeout(within_s)
    try:
        async with deadline:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        if deadline.expired():
            raise too_slow(within_s) from None
        raise


def _announced_length(scope: Scope) -> int | None:
    raw = _header(scope, b"content-length")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


class RequestIntakeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings, in_flight: InFlight) -> None:
        self.app = app
        self.settings = settings
        self.in_flight = in_flight
        self.routes = RouteFacts(authenticate)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.settings.max_body_bytes
        announced = _announced_length(scope)
        if announced is not None and announced > limit:
            raise too_large(limit)
        app: Any = scope.get("app")
        if app is not None and self.routes.needs_authentication(app.router.routes, scope):
            await authenticate(Request(scope))
        problem = input_limits.check_path(scope["path"]) or input_limits.check_query(
            scope.get("query_string", b"")
        )
        if problem is not None:
            raise problem
        has_body = bool(announced) or _header(scope, b"transfer-encoding") is not None
        if has_body:
            try:
                body = await read_body(receive, limit=limit, within_s=self.settings.body_timeout_s)
            except ClientGone:
                return
            content_type = _header(scope, b"content-type")
            problem = input_limits.check_body(
                content_type.decode("latin-1") if content_type is not None else None, body
            )
            if problem is not None:
                raise problem
            receive = _replay(body, receive)
        if not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        if not self.in_flight.try_enter():
            raise ApiError(
                "INTERNAL_005",
                {"service": ["Too many requests in flight; retry shortly"]},
                headers={"Retry-After": "1"},
            )
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight.leave()


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then waits on the real one (which
    reports the client's disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
