"""`AppWithLanes`: a FastAPI app whose lean routes skip the framework's outer layers.

A request to a Starlette app passes, before it reaches a route, through the layers the framework
adds around the app's own middleware (its server-error, telemetry and body-limit middleware
outside; its exception middleware, exit-stack middleware and the router inside) and then
through the route's request/response wrappers. Each is small; together, at the accept rate,
they were ~8 % of the API process's time per send, for nothing the send route uses: sentd's own
middleware already answers unhandled errors (`sentd.api.middleware`) and limits bodies
(`sentd.api.intake`), and a `LeanRoute` has no dependency that needs an exit stack.

So a request whose method and path are exactly those of a `LeanRoute` among the app's routes
goes through a lane: the app's own middleware (everything `add_middleware` added, built the way
Starlette builds it) around the route's handler, whose exceptions go to the app's exception
handlers as they would through the framework. Every other request, and a lean route's request
under a root path, takes the framework's way, which reaches the same route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sentd.api.lean_route import LeanRoute


class AppWithLanes(FastAPI):
    _lanes: dict[tuple[str, str], ASGIApp] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            if self._lanes is None:
                self._lanes = self._build_lanes()
            lane = self._lanes.get((scope["method"], scope["path"]))
            if lane is not None:
                scope["app"] = self
                await lane(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _build_lanes(self) -> dict[tuple[str, str], ASGIApp]:
        lanes: dict[tuple[str, str], ASGIApp] = {}
        for route in self.router.routes:
            if not isinstance(route, LeanRoute):
                continue
            app: ASGIApp = _Endpoint(route, self._route_exception_handlers())
            for cls, args, kwargs in reversed(self.user_middleware):
                app = cls(app, *args, **kwargs)
            for method in route.methods or ():
                lanes.setdefault((method, route.path), app)
        return lanes

    def _route_exception_handlers(self) -> dict[Any, Any]:
        """The handlers the framework's exception middleware applies, by exception class (a
        handler of `Exception` or of a status answers in its server-error middleware)."""
        return {
            key: handler
            for key, handler in self.exception_handlers.items()
            if isinstance(key, type) and key is not Exception
        }


class _Endpoint:
    """The route's handler as an ASGI app, with the app's exception handlers."""

    def __init__(self, route: LeanRoute, handlers: dict[Any, Any]) -> None:
        self.route = route
        self.handlers = handlers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = self.route  # what the router would leave for the access log
        request = Request(scope, receive, send)
        try:
            response: Response = await self.route.handler(request)
        except Exception as exc:
            handler = next(
                (self.handlers[c] for c in type(exc).__mro__ if c in self.handlers), None
            )
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)
