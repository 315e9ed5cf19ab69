"""The outermost layer of every HTTP request: request id, standard headers, and the last line of
defence that turns any unhandled exception into an `INTERNAL_00x` envelope without a traceback."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentd.api.envelope import API_VERSION, error_response
from sentd.db.pool import is_database_failure
from sentd.errors.exceptions import ApiError
from sentd.ids import new_request_id
from sentd.logs import request_id_var

log = logging.getLogger("sentd.http")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, public_url: str | None = None) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id()
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
                for name, value in extra_headers.items():
                    headers[name] = value
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            code = "INTERNAL_002" if is_database_failure(exc) else "INTERNAL_001"
            log.exception(
                "request failed: %s %s -> %s",
                scope["method"],
                scope["path"],
                code,
                extra={"request_id": request_id},
            )
            if response_started:
                raise
            base_url = self.public_url or str(Request(scope).base_url)
            response = error_response(ApiError(code), request_id, base_url)
            await response(scope, receive, send_with_headers)
        finally:
            request_id_var.reset(token)
