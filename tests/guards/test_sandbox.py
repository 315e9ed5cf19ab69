"""Sandbox mode: the real operation, rolled back; nothing persists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from fastapi.routing import APIRoute

from sentd.api.mutation import MUTATION_MARK
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import ledger_rows, make_org, table_counts
from tests.live_server import LiveServer

URL = "/v3/_probe/credits"


def test_sandbox_changes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    before = table_counts(server)
    response = client.post(URL, json={"amount_micros": 1_000, "sandbox": True}, headers=headers)
    data = assert_ok(response, 201)
    assert response.headers["x-sandbox"] == "true"
    assert data == {"balance_micros": 10_001_000}  # the realistic answer
    assert table_counts(server) == before
    real = client.post(URL, json={"amount_micros": 1_000}, headers=headers)
    assert assert_ok(real, 201) == {"balance_micros": 10_001_000}
    assert "x-sandbox" not in real.headers
    assert ledger_rows(server, org) == 1


def test_sandbox_errors_are_real_and_marked(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = client.post(
        URL,
        json={"amount_micros": 5, "sandbox": True, "fail_with": "BUSINESS_003"},
        headers={"x-api-key": org.live_key},
    )
    assert_error(response, "BUSINESS_003")
    assert response.headers["x-sandbox"] == "true"


def test_sandbox_responses_are_stored_under_a_key(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key, "Idempotency-Key": "sandbox-key-1"}
    body = {"amount_micros": 7, "sandbox": True}
    first = client.post(URL, json=body, headers=headers)
    second = client.post(URL, json=body, headers=headers)
    assert second.content == first.content
    assert second.headers["x-sandbox"] == "true"
    assert second.headers["idempotent-replayed"] == "true"
    assert ledger_rows(server, org) == 0


def test_every_mutating_route_honours_sandbox(database_url: str) -> None:
    """Every POST/PUT/PATCH/DELETE under /v3 must go through `mutation(...)`, which is what
    brings sandbox mode and idempotency. A new route that forgets it fails here."""
    app = build_app(database_url)
    mutating = [
        route
        for route in api_routes(app.routes)
        if route.path.startswith("/v3/")
        and route.methods & {"POST", "PUT", "PATCH", "DELETE"}
        and route.path != "/v3/_probe/validation"  # validation-only probe, writes nothing
    ]
    assert mutating, "no mutating routes found"

    def uses_mutation(dependant: object) -> bool:
        for dependency in getattr(dependant, "dependencies", []):
            if getattr(dependency.call, MUTATION_MARK, False) or uses_mutation(dependency):
                return True
        return False

    missing = [f"{sorted(r.methods)} {r.path}" for r in mutating if not uses_mutation(r.dependant)]
    assert missing == []


def api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every APIRoute, also inside included routers (FastAPI wraps those)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from api_routes(route.original_router.routes)
