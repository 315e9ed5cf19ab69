"""One line per request, and the request metrics.

The outermost middleware: it sees the request id and the principal the inner layers leave in
the scope's state, the route template the router matched, the status and the bytes of the
answer. The line never carries the API key, only its id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sentd import metrics

log = logging.getLogger("sentd.access")
UNMATCHED = "unmatched"  # one label for every path no route matched (scanners, typos)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent_bytes = 0

        async def observe(message: Message) -> None:
            nonlocal status, sent_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent_bytes += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, observe)
        finally:
            self._record(scope, status, sent_bytes, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, sent_bytes: int, seconds: float) -> None:
        method, route = scope["method"], route_template(scope)
        metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
        metrics.HTTP_SECONDS.labels(method, route).observe(seconds)
        if method == "POST" and route == "/v3/messages" and 200 <= status < 300:
            metrics.ACCEPT_SECONDS.observe(seconds)
        app = scope.get("app")
        pool = getattr(getattr(getattr(app, "state", None), "db", None), "pool", None)
        if pool is not None:
            metrics.observe_pool(pool.get_size(), pool.get_idle_size())
        if not (self.enabled and log.isEnabledFor(logging.INFO)):
            return
        state: dict[str, Any] = scope.get("state", {})
        principal = state.get("principal")
        client = scope.get("client")
        log.info(
            "%s %s %d %.1fms",
            method,
            scope["path"],
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "request_id": state.get("request_id"),
                "organization_id": str(principal.organization_id) if principal else None,
                "customer_id": str(principal.customer_id) if principal else None,
                "key_id": str(principal.key_id) if principal else None,
                "bytes": sent_bytes,
                "client": client[0] if client else None,
            },
        )
