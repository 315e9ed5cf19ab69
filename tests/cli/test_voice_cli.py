"""`sentd voice simulate inbound|outbound`, run as subprocesses against a server whose worker
plays the calls."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cli.support import run_cli
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.live_server import LiveServer
from tests.voice_callback import CallbackEndpoint


@pytest.fixture
def worker_http(db_url: str, demo: dict[str, Any]) -> Iterator[httpx.Client]:
    server = LiveServer(build_app(db_url, run_workers=True, simulator_latency_ms=50)).start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def _wait(http: httpx.Client, key: str, call_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        data: dict[str, Any] = assert_ok(
            http.get(f"/v3/voice/calls/{call_id}", headers={"x-api-key": key})
        )
        if data["status"] == status:
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.05)


def _call_id(stdout: str) -> str:
    found = re.match(r"call ([0-9a-f-]{36}): INITIATED", stdout)
    assert found, stdout
    return found.group(1)


def test_simulated_inbound_and_outbound_calls(
    env: dict[str, str], demo: dict[str, Any], worker_http: httpx.Client
) -> None:
    key = demo["test_key"]
    h = {"x-api-key": key}
    with CallbackEndpoint() as endpoint:
        endpoint.answer = {"action": {"action": "connect", "to": {"kind": "user", "value": "ann"}}}
        created = assert_ok(
            worker_http.post("/v3/channels/voice", json={"callback_url": endpoint.url}, headers=h),
            201,
        )
        endpoint.secret = created["callback_secret"]
        number = created["number"]

        placed = run_cli(
            env, "voice", "simulate", "inbound", "--to", number, "--from", "+14155550171"
        )
        assert placed.returncode == 0, placed.stderr
        inbound = _wait(worker_http, key, _call_id(placed.stdout), "ANSWERED")
        assert inbound["from"] == {"kind": "number", "value": "+14155550171"}
        assert inbound["direction"] == "inbound"

        token = assert_ok(worker_http.post("/v3/voice/tokens", json={"identity": "bob"}, headers=h))
        endpoint.answer = {
            "action": {"action": "connect", "to": {"kind": "number", "value": "+14155550172"}}
        }
        dialled = run_cli(
            env, "voice", "simulate", "outbound", "--token", token["token"], "--to", "+14155550172"
        )
        assert dialled.returncode == 0, dialled.stderr
        outbound = _wait(worker_http, key, _call_id(dialled.stdout), "ANSWERED")
        assert outbound["from"] == {"kind": "user", "value": "bob"}
        assert outbound["to"] == {"kind": "number", "value": "+14155550172"}
        assert outbound["number"] == number and outbound["direction"] == "outbound"
        assert [q.body["direction"] for q in endpoint.questions] == ["inbound", "outbound"]
        assert all(q.verified for q in endpoint.questions)

    unknown = run_cli(env, "voice", "simulate", "inbound", "--to", "+12025550166")
    assert unknown.returncode != 0 and "not an active voice number" in unknown.stderr
    bad_token = run_cli(env, "voice", "simulate", "outbound", "--token", "x", "--to", "user:ann")
    assert bad_token.returncode != 0 and "token" in bad_token.stderr
