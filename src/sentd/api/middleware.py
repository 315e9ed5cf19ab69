"""The outermost layer of every HTTP request.

It gives the request its id and the standard headers, and it keeps the promises no route should
have to remember: maintenance mode (503 `INTERNAL_005`) for `/v3`, the server-side deadline
(504 `INTERNAL_004`), the headers of `sentd.api.security_headers`, the answer to any `ApiError`
raised before the router (by `sentd.api.intake`, which runs inside this middleware: body limits,
early authentication, the in-flight ceiling), and the last line of defence that turns any
unhandled exception into `INTERNAL_001`/`INTERNAL_002` without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentd.api.envelope import API_VERSION, error_response
from sentd.api.public_url import base_url
from sentd.api.security_headers import NOSNIFF, html_headers
from sentd.config import Settings
from sentd.db.database import PoolExhausted
from sentd.db.pool import is_connection_failure, is_database_failure
from sentd.errors.exceptions import ApiError
from sentd.failures import describe
from sentd.ids import incoming_request_id, new_request_id
from sentd.logs import request_id_var

log = logging.getLogger("sentd.http")
API_PREFIX = "/v3/"
# Retry-After of an INTERNAL_002 (a database failure, usually a short outage or a restart).
DATABASE_RETRY_AFTER_S = "2"


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = (
            incoming_request_id(Headers(scope=scope).get("x-request-id")) or new_request_id()
        )
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        extra_headers: dict[str, str] = {}
        state["response_headers"] = extra_headers
        started = time.perf_counter()
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                headers = MutableHeaders(scope=message)
                headers["X-Request-Id"] = request_id
                headers["X-API-Version"] = API_VERSION
                headers["X-Response-Time"] = f"{(time.perf_counter() - started) * 1000:.2f}ms"
                headers[NOSNIFF[0]] = NOSNIFF[1]
                if headers.get("content-type", "").startswith("text/html"):
                    headers.update(html_headers(scope["path"]))
                for name, value in extra_headers.items():
                    headers[name] = value
            await send(message)

        async def answer(error: ApiError) -> None:
            response = error_response(error, request_id, base_url(scope, self.settings))
            await response(scope, receive, send_with_headers)

        token = request_id_var.set(request_id)
        is_api = scope["path"].startswith(API_PREFIX)
        deadline = asyncio.timeout(self.settings.request_timeout)
        try:
            refusal = self._refusal(scope) if is_api else None
            if refusal is not None:
                await answer(refusal)
                return
            async with deadline:
                await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            if response_started:
                log.exception("failed after the response started", extra={"request_id": request_id})
                raise
            await answer(self._error_for(exc, scope, request_id, deadline.expired()))
        finally:
            request_id_var.reset(token)

    def _refusal(self, scope: Scope) -> ApiError | None:
        """Maintenance mode: answer 503 before doing any work."""
        app = scope.get("app")
        maintenance = getattr(getattr(app, "state", None), "maintenance", None)
        if maintenance is not None and maintenance.on:
            return ApiError(
                "INTERNAL_005",
                {"service": ["sentd is in maintenance mode"]},
                headers={"Retry-After": str(self.settings.maintenance_retry_after_s)},
            )
        return None

    def _error_for(
        self, exc: Exception, scope: Scope, request_id: str, timed_out: bool
    ) -> ApiError:
        if isinstance(exc, ApiError):  # refused before the router: see sentd.api.intake
            return exc
        if timed_out:
            log.warning(
                "deadline of %.1fs passed: %s %s",
                self.settings.request_timeout,
                scope["method"],
                scope["path"],
                extra={"request_id": request_id},
            )
            return ApiError(
                "INTERNAL_004",
                {"request": [f"Not finished within {self.settings.request_timeout:g} seconds"]},
            )
        if isinstance(exc, PoolExhausted):
            log.warning(
                "no database connection free: shedding load", extra={"request_id": request_id}
            )
            return ApiError(
                "INTERNAL_005",
                {"service": ["The server is overloaded; retry shortly"]},
                headers={"Retry-After": "1"},
            )
        if is_connection_failure(exc):
            # The database is unreachable: one line per request, not a traceback each (the
            # worker loops and the LISTEN connection log the outage itself).
            log.warning(
                "request failed: %s %s -> INTERNAL_002 (database unreachable: %s)",
                scope["method"],
                scope["path"],
                describe(exc),
                extra={"request_id": request_id},
            )
            return ApiError("INTERNAL_002", headers={"Retry-After": DATABASE_RETRY_AFTER_S})
        code = "INTERNAL_002" if is_database_failure(exc) else "INTERNAL_001"
        log.exception(
            "request failed: %s %s -> %s",
            scope["method"],
            scope["path"],
            code,
            extra={"request_id": request_id},
        )
        if code == "INTERNAL_002":
            return ApiError(code, headers={"Retry-After": DATABASE_RETRY_AFTER_S})
        return ApiError(code)
