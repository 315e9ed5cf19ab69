"""`/v3/voice/calls` over HTTP without a worker (calls stay where they were placed): query
validation, ids, sandbox, modes and permissions."""

from __future__ import annotations

import uuid

import httpx

from sentd.services import calls
from tests.contract import assert_error, assert_ok
from tests.factories import _db, customer_counts, make_key, make_org
from tests.live_server import LiveServer


def _placed(server: LiveServer, client: httpx.Client, key: str, livemode: bool) -> str:
    number = assert_ok(
        client.post(
            "/v3/channels/voice",
            json={"callback_url": "http://127.0.0.1:9/voice"},
            headers={"x-api-key": key},
        ),
        201,
    )["number"]
    row = server.run(
        calls.place_inbound(
            _db(server),
            livemode=livemode,
            to=number,
            caller="+14155550175",
            now=server.app.state.clock.now(),
        )
    )
    return str(row["id"])


def test_queries_ids_and_modes(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    h = {"x-api-key": org.test_key}
    call_id = _placed(server, client, org.test_key, livemode=False)
    read = assert_ok(client.get(f"/v3/voice/calls/{call_id}", headers=h))
    assert read["status"] == "INITIATED" and read["timeline"][0]["status"] == "INITIATED"
    assert read["duration_seconds"] is None and read["price"] is None
    for query, field in (
        ({"direction": "sideways"}, "direction"),
        ({"status": "COMPLETED"}, "status"),
    ):
        refused = client.get("/v3/voice/calls", params=query, headers=h)
        assert field in assert_error(refused, "VALIDATION_006")["details"]
    bad_time = client.get("/v3/voice/calls", params={"from": "yesterday"}, headers=h)
    assert "from" in assert_error(bad_time, "VALIDATION_001")["details"]
    bad_number = client.get("/v3/voice/calls", params={"number": "12"}, headers=h)
    assert "number" in assert_error(bad_number, "VALIDATION_002")["details"]
    assert_error(client.get("/v3/voice/calls/nope", headers=h), "VALIDATION_003")
    assert_error(client.get(f"/v3/voice/calls/{uuid.uuid4()}", headers=h), "VOICE_002")
    # A live key does not see test calls.
    live = {"x-api-key": org.live_key}
    assert_error(client.get(f"/v3/voice/calls/{call_id}", headers=live), "VOICE_002")
    assert assert_ok(client.get("/v3/voice/calls", headers=live))["calls"] == []
    billing = make_key(server, org, role="billing", livemode=False)
    assert_error(client.get("/v3/voice/calls", headers={"x-api-key": billing}), "AUTH_004")
    bad_action = client.post(
        f"/v3/voice/calls/{call_id}/recordings", json={"action": "pause"}, headers=h
    )
    assert "action" in assert_error(bad_action, "VALIDATION_006")["details"]


def test_sandbox_hangup_changes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    h = {"x-api-key": org.live_key}
    call_id = _placed(server, client, org.live_key, livemode=True)
    before = customer_counts(server, org.id)
    response = client.post(f"/v3/voice/calls/{call_id}/hangup", json={"sandbox": True}, headers=h)
    assert response.status_code == 204 and response.headers["x-sandbox"] == "true"
    assert customer_counts(server, org.id) == before
    assert assert_ok(client.get(f"/v3/voice/calls/{call_id}", headers=h))["status"] == "INITIATED"
    # For real: a call hung up before it was answered ends NO_ANSWER, and only once.
    assert client.post(f"/v3/voice/calls/{call_id}/hangup", json={}, headers=h).status_code == 204
    ended = assert_ok(client.get(f"/v3/voice/calls/{call_id}", headers=h))
    assert (ended["status"], ended["failure_reason"]) == ("NO_ANSWER", "no_answer")
    again = client.post(f"/v3/voice/calls/{call_id}/hangup", json={}, headers=h)
    assert "id" in assert_error(again, "VOICE_003")["details"]
