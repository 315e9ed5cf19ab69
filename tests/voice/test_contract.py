"""The question/answer contract, driven through `POST /v3/channels/voice/{number}/test` against a
local endpoint that verifies each question with the `standardwebhooks` library."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.voice_callback import CallbackEndpoint

TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def quick_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, voice_callback_timeout_s=TIMEOUT_S)).start()
    yield live
    live.stop()


@pytest.fixture
def endpoint() -> Iterator[CallbackEndpoint]:
    with CallbackEndpoint() as hook:
        yield hook


def _test(live: LiveServer, endpoint_url: str, setup: Any = None) -> tuple[dict[str, Any], str]:
    org = make_org(live)
    with httpx.Client(base_url=live.base_url, headers={"x-api-key": org.test_key}) as http:
        created = assert_ok(
            http.post("/v3/channels/voice", json={"callback_url": endpoint_url}), 201
        )
        if setup is not None:
            setup(created)
        verdict: dict[str, Any] = assert_ok(
            http.post(f"/v3/channels/voice/{created['number']}/test", json={})
        )
    return verdict, created["number"]


def _secret_into(endpoint: CallbackEndpoint) -> Any:
    def setup(created: dict[str, Any]) -> None:
        endpoint.secret = created["callback_secret"]

    return setup


def test_ok_answer_is_normalized_and_the_request_is_reported(
    quick_server: LiveServer, endpoint: CallbackEndpoint
) -> None:
    endpoint.answer = {
        "action": {
            "action": "connect",
            "to": {"kind": "number", "value": "+14155550150"},
            "record": True,
        }
    }
    verdict, number = _test(quick_server, endpoint.url, _secret_into(endpoint))
    assert verdict["outcome"] == "ok" and verdict["error"] is None
    assert verdict["answer"]["action"]["callerId"] == number
    assert verdict["answer"]["action"]["record"] is True
    [question] = endpoint.questions
    assert question.verified
    body = question.body
    assert body["type"] == "call.request" and body["test"] is True
    assert body["number"] == number and body["to"] == {"kind": "number", "value": number}
    assert body["callId"] == verdict["call_id"]
    sent = verdict["request"]
    assert sent["url"] == endpoint.url
    assert sent["headers"]["x-webhook-signature"] == question.headers["x-webhook-signature"]
    assert sent["headers"]["x-webhook-id"] == question.headers["x-webhook-id"]
    assert verdict["response"]["status_code"] == 200
    assert httpx.Response(200, content=verdict["response"]["body"]).json() == endpoint.answer


@pytest.mark.parametrize(
    ("answer", "raw", "status", "outcome", "reason", "path"),
    [
        (None, None, 503, "http_error", "http_error", None),
        (None, b"<html>no</html>", 200, "invalid_answer", "malformed_json", None),
        ({}, None, 200, "invalid_answer", "missing_action", "action"),
        ({"action": {}}, None, 200, "invalid_answer", "missing_action", "action.action"),
        (
            {"action": {"action": "dance"}},
            None,
            200,
            "invalid_answer",
            "unknown_action",
            "action.action",
        ),
        (
            {"action": {"action": "connect", "to": {"kind": "number", "value": "12"}}},
            None,
            200,
            "invalid_answer",
            "invalid_value",
            "action.to.value",
        ),
        (
            {
                "action": {
                    "action": "connect",
                    "to": {"kind": "user", "value": "ann"},
                    "callerId": "+14155550151",
                }
            },
            None,
            200,
            "invalid_answer",
            "invalid_value",
            "action.callerId",
        ),
    ],
)
def test_each_failure_reason(
    quick_server: LiveServer,
    endpoint: CallbackEndpoint,
    answer: Any,
    raw: bytes | None,
    status: int,
    outcome: str,
    reason: str,
    path: str | None,
) -> None:
    endpoint.answer, endpoint.raw, endpoint.status = answer, raw, status
    verdict, _ = _test(quick_server, endpoint.url, _secret_into(endpoint))
    assert endpoint.questions[0].verified
    assert verdict["outcome"] == outcome, verdict
    assert verdict["error"]["reason"] == reason
    assert verdict["error"]["path"] == path
    assert verdict["error"]["message"]
    assert verdict["answer"] is None
    assert verdict["response"]["status_code"] == status


def test_timeout(quick_server: LiveServer, endpoint: CallbackEndpoint) -> None:
    endpoint.delay_s = TIMEOUT_S * 4
    verdict, _ = _test(quick_server, endpoint.url, _secret_into(endpoint))
    assert verdict["outcome"] == "timeout" and verdict["error"]["reason"] == "timeout"
    assert verdict["response"] is None and verdict["request"] is not None


def test_connection_failed(quick_server: LiveServer) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    verdict, _ = _test(quick_server, f"http://127.0.0.1:{port}/answer")
    assert verdict["outcome"] == "connection_failed"
    assert verdict["error"]["reason"] == "connection_failed"
    assert verdict["response"] is None
