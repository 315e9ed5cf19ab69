"""Maintenance mode and load shedding: 503 INTERNAL_005 with Retry-After, probes keep answering."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx

from sentd.guards.maintenance import set_maintenance
from tests import databases
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def eventually(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_maintenance_mode_in_every_process(admin_url: str) -> None:
    # A database of its own: the switch must not reach the servers other tests use.
    database_url = databases.create_database(admin_url)
    first = LiveServer(build_app(database_url)).start()
    second = LiveServer(build_app(database_url)).start()
    try:
        org = make_org(first)
        with httpx.Client() as client:

            def me(server: LiveServer) -> httpx.Response:
                return client.get(f"{server.base_url}/v3/me", headers={"x-api-key": org.live_key})

            assert_ok(me(second))
            first.run(set_maintenance(first.app.state.db, True))
            eventually(lambda: me(second).status_code == 503 and me(first).status_code == 503)
            response = me(second)
            assert_error(response, "INTERNAL_005")
            assert response.headers["retry-after"] == "30"
            assert_error(me(first), "INTERNAL_005")
            assert client.get(f"{second.base_url}/health/live").status_code == 200
            assert client.get(f"{second.base_url}/health/ready").status_code == 200
            first.run(set_maintenance(first.app.state.db, False))
            eventually(lambda: me(second).status_code == 200 and me(first).status_code == 200)
    finally:
        first.stop()
        second.stop()
        databases.drop_database(admin_url, database_url)


def test_pool_exhaustion_sheds_load(database_url: str) -> None:
    server = LiveServer(
        build_app(database_url, db_pool_min_size=1, db_pool_max_size=1, db_acquire_timeout_s=0.2)
    ).start()
    try:
        org = make_org(server)
        hold = asyncio.Event()

        async def hog() -> None:
            async with server.app.state.db.connection():
                await hold.wait()

        future = asyncio.run_coroutine_threadsafe(hog(), server.loop)
        time.sleep(0.1)
        with httpx.Client(base_url=server.base_url) as client:
            response = client.get("/v3/me", headers={"x-api-key": org.live_key})
            assert_error(response, "INTERNAL_005")
            assert response.headers["retry-after"] == "1"
            server.loop.call_soon_threadsafe(hold.set)
            future.result(timeout=5)
            assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
    finally:
        server.stop()


def test_too_many_requests_in_flight_sheds_load(database_url: str) -> None:
    server = LiveServer(build_app(database_url, max_in_flight=1)).start()
    try:
        org = make_org(server)
        headers = {"x-api-key": org.live_key}
        slow: list[httpx.Response] = []

        def send_slow() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                slow.append(client.get("/v3/_probe/slow?seconds=1", headers=headers))

        thread = threading.Thread(target=send_slow)
        thread.start()
        time.sleep(0.3)
        with httpx.Client(base_url=server.base_url) as client:
            response = client.get("/v3/me", headers=headers)
            assert_error(response, "INTERNAL_005")
            assert client.get("/healthcheck").status_code == 200  # probes are not counted
            thread.join()
            assert_ok(slow[0])
            assert_ok(client.get("/v3/me", headers=headers))
    finally:
        server.stop()
