"""`LeanRoute` answers every request exactly as FastAPI's own route does for the same endpoint:
the same body parsing, validation errors, dependency order and values — checked side by side on
one app, over many bodies, through real HTTP handling (Starlette's test transport) — whether it
is reached through its lane (`sentd.api.lanes`) or through the framework's layers."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, ClassVar

import httpx
import pytest
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sentd.api.lanes import AppWithLanes
from sentd.api.lean_route import LeanRoute


class Item(BaseModel):
    name: Annotated[str, Field(min_length=1)]
    count: int = 1
    tags: list[str] = []


calls: list[str] = []


async def who(request: Request) -> str:
    calls.append("who")
    if request.headers.get("x-key") != "good":
        raise HTTPException(401, "who are you")
    return "ada"


async def allowed(request: Request, user: str = Depends(who)) -> str:
    calls.append("allowed")
    if request.headers.get("x-deny"):
        raise HTTPException(403, "not you")
    return user


async def endpoint(
    request: Request, item: Item, user: str = Depends(allowed), again: str = Depends(who)
) -> Response:
    return JSONResponse({"user": user, "again": again, "item": item.model_dump()}, 201)


async def validation_failed(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: e[k] for k in ("type", "loc", "msg")} for e in exc.errors()]
    return JSONResponse({"errors": errors}, 422)


class RouteSeen:
    """App middleware: notes the route each request reached."""

    seen: ClassVar[list[str]] = []

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.seen.append(getattr(scope.get("route"), "path", "no route"))


def app() -> FastAPI:
    application = AppWithLanes()
    application.add_middleware(RouteSeen)
    application.add_exception_handler(RequestValidationError, validation_failed)
    application.router.routes.append(APIRoute("/plain", endpoint, methods=["POST"]))
    application.router.routes.append(LeanRoute("/lean", endpoint, methods=["POST"]))
    return application


JSON = {"content-type": "application/json"}
CASES: list[tuple[bytes, dict[str, str]]] = [
    (b'{"name": "x", "count": 3, "tags": ["a"]}', JSON),
    (b'{"name": "x"}', {"content-type": "application/vnd.sent+json; charset=utf-8"}),
    (b'{"name": ""}', JSON),
    (b'{"count": "many"}', JSON),
    (b'{"name": "x", "count": 1e400}', JSON),
    (b'{"name": "x", "count": NaN}', JSON),
    (b'{"name": "x", "count": 123456789012345678901234567890}', JSON),
    ('{"name": "utf16"}'.encode("utf-16"), JSON),
    (b'{"name": "x",', JSON),
    (b"[1, 2]", JSON),
    (b"null", JSON),
    (b"", JSON),
    (b'{"name": "x"}', {}),
    (b'{"name": "x"}', {"content-type": "text/plain"}),
    (b"name=x", {"content-type": "application/x-www-form-urlencoded"}),
]


async def _answers(
    path: str, headers: dict[str, str], root_path: str = ""
) -> list[tuple[int, Any]]:
    transport = httpx.ASGITransport(app=app(), root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        out = []
        for body, content_type in CASES:
            response = await client.post(path, content=body, headers={**headers, **content_type})
            out.append((response.status_code, response.json()))
        return out


@pytest.mark.parametrize(
    ("headers", "statuses"),
    [
        ({"x-key": "good"}, {201, 422}),
        ({"x-key": "bad"}, {401, 422}),  # malformed JSON is refused before the dependencies
        ({"x-key": "good", "x-deny": "1"}, {403, 422}),
    ],
)
def test_the_same_answers_as_fastapis_route(headers: dict[str, str], statuses: set[int]) -> None:
    plain = asyncio.run(_answers("/plain", headers))
    lean = asyncio.run(_answers("/lean", headers))
    # Under a root path the lane is not taken: the framework's layers reach the same route.
    lean_through_the_framework = asyncio.run(_answers("/lean", headers, root_path="/r"))
    assert lean == lean_through_the_framework == plain
    assert {status for status, _ in plain} == statuses


def test_each_dependency_runs_once_per_request_in_fastapis_order() -> None:
    async def go(path: str) -> list[str]:
        calls.clear()
        transport = httpx.ASGITransport(app=app())
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.post(path, json={"name": "x"}, headers={"x-key": "good"})
        assert response.json()["again"] == "ada"
        return list(calls)

    assert asyncio.run(go("/lean")) == asyncio.run(go("/plain")) == ["who", "allowed"]


def test_the_lane_runs_the_apps_middleware_and_skips_the_frameworks_layers() -> None:
    async def go() -> FastAPI:
        application = app()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            good = await client.post("/lean", json={"name": "x"}, headers={"x-key": "good"})
            assert good.status_code == 201
            refused = await client.post("/lean", json={"name": "x"}, headers={"x-key": "bad"})
            assert refused.status_code == 401  # the app's exception handlers answer
            # Starlette builds its stack on the first request that goes through it.
            assert application.middleware_stack is None
            wrong_method = await client.get("/lean")
            assert wrong_method.status_code == 405
            assert application.middleware_stack is not None
        return application

    RouteSeen.seen.clear()
    asyncio.run(go())
    assert RouteSeen.seen[:2] == ["/lean", "/lean"]


def test_a_signature_it_cannot_solve_is_refused_when_the_route_is_made() -> None:
    async def with_query(request: Request, page: int = Query(1)) -> Response:
        return Response()

    def sync_endpoint(request: Request) -> Response:
        return Response()

    for unsupported in (with_query, sync_endpoint):
        with pytest.raises(TypeError):
            LeanRoute("/x", unsupported, methods=["POST"])
