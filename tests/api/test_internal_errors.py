"""Unexpected exceptions and database failures: INTERNAL_001 / INTERNAL_002, never a traceback."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests import databases
from tests.conftest import OPERATOR, build_app
from tests.contract import assert_error
from tests.factories import make_org
from tests.live_server import LiveServer

LEAKS = ("Traceback", "RuntimeError", "SELECT", "api_keys", "asyncpg", 'File "')


def test_unexpected_exception_is_internal_001(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="sentd.http"):
        response = client.get("/v3/_probe/boom")
    assert_error(response, "INTERNAL_001")
    assert not any(leak in response.text for leak in LEAKS)
    request_id = response.headers["x-request-id"]
    [record] = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError


def test_asyncpg_client_state_error_is_a_database_fault(client: httpx.Client) -> None:
    response = client.get("/v3/_probe/db-client-state")
    assert_error(response, "INTERNAL_002")
    assert response.headers["x-should-retry"] == "true"
    assert int(response.headers["retry-after"]) > 0
    assert not any(leak in response.text for leak in LEAKS)


def test_database_gone_is_internal_002_and_not_ready(admin_url: str) -> None:
    url = databases.create_database(admin_url)
    server = LiveServer(build_app(url)).start()
    try:
        org = make_org(server)
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            assert client.get("/v3/me", headers={"x-api-key": org.live_key}).status_code == 200
            assert client.get("/health/ready").status_code == 200

            databases.drop_database(admin_url, url)

            response = client.get("/v3/me", headers={"x-api-key": org.live_key})
            assert_error(response, "INTERNAL_002")
            assert int(response.headers["retry-after"]) > 0
            assert not any(leak in response.text for leak in LEAKS)
            assert_error(client.get("/health/ready"), "INTERNAL_005")
            status = client.get("/status", headers=OPERATOR).json()["data"]
            assert status["status"] == "degraded"
            assert status["components"]["database"]["status"] == "unreachable"
            assert client.get("/health/live").status_code == 200
    finally:
        server.stop()
        databases.drop_database(admin_url, url)
