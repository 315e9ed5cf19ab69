"""`/v3/channels/voice` over HTTP: the default-line rules, refusals, sandbox, permissions."""

from __future__ import annotations

from typing import Any

import httpx

from tests.contract import assert_error, assert_ok
from tests.factories import customer_counts, make_key, make_org, table_counts
from tests.live_server import LiveServer

URL = "http://127.0.0.1:9/answer"  # loopback and closed: nothing leaves the machine


def _h(key: str, **extra: str) -> dict[str, str]:
    return {"x-api-key": key, **extra}


def _enable(client: httpx.Client, key: str, **body: Any) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        client.post("/v3/channels/voice", json={"callback_url": URL, **body}, headers=_h(key)), 201
    )
    return data


def test_own_number_then_again_keeps_secret_replaces_url(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    first = _enable(client, org.test_key, number="+14155550142")
    assert first["number"] == "+14155550142" and first["default_for_app_calls"] is True
    again = assert_ok(
        client.post(
            "/v3/channels/voice",
            json={"callback_url": URL + "/v2", "number": "+14155550142"},
            headers=_h(org.test_key),
        )
    )
    assert again["callback_secret"] == first["callback_secret"]
    assert again["callback_url"] == URL + "/v2"
    # The path takes the number with %2B or a literal +.
    for path in ("/v3/channels/voice/%2B14155550142", "/v3/channels/voice/+14155550142"):
        read = assert_ok(client.get(path, headers=_h(org.test_key)))
        assert read["callback_url"] == URL + "/v2" and "callback_secret" not in read


def test_refusals(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = org.test_key
    post = "/v3/channels/voice"
    both = client.post(
        post,
        json={"callback_url": URL, "number": "+14155550143", "area_code": "415"},
        headers=_h(key),
    )
    assert "area_code" in assert_error(both, "VALIDATION_001")["details"]
    empty = client.post(post, json={"callback_url": URL, "number": ""}, headers=_h(key))
    assert "number" in assert_error(empty, "VALIDATION_002")["details"]
    missing = client.post(post, json={}, headers=_h(key))
    assert "callback_url" in assert_error(missing, "VALIDATION_004")["details"]
    bad_url = client.post(post, json={"callback_url": "ftp://x"}, headers=_h(key))
    assert "callback_url" in assert_error(bad_url, "VALIDATION_001")["details"]
    bad_area = client.post(post, json={"callback_url": URL, "area_code": "099"}, headers=_h(key))
    assert "area_code" in assert_error(bad_area, "VALIDATION_001")["details"]

    other = make_org(server)
    _enable(client, other.test_key, number="+14155550144")
    taken = client.post(post, json={"callback_url": URL, "number": "+14155550144"}, headers=_h(key))
    assert "number" in assert_error(taken, "RESOURCE_007")["details"]

    a = _enable(client, key, number="+14155550145")["number"]
    b = _enable(client, key, number="+14155550146")["number"]
    patch = f"/v3/channels/voice/{a}"
    none = client.patch(patch, json={"sandbox": False}, headers=_h(key))
    assert_error(none, "VALIDATION_001")
    false = client.patch(patch, json={"default_for_app_calls": False}, headers=_h(key))
    assert "default_for_app_calls" in assert_error(false, "VALIDATION_001")["details"]
    default_off = client.patch(patch, json={"status": "INACTIVE"}, headers=_h(key))
    assert "status" in assert_error(default_off, "VOICE_004")["details"]
    bad_status = client.patch(patch, json={"status": "PAUSED"}, headers=_h(key))
    assert "status" in assert_error(bad_status, "VALIDATION_006")["details"]

    assert_ok(client.patch(f"/v3/channels/voice/{b}", json={"status": "inactive"}, headers=_h(key)))
    inactive_default = client.patch(
        f"/v3/channels/voice/{b}", json={"default_for_app_calls": True}, headers=_h(key)
    )
    assert "default_for_app_calls" in assert_error(inactive_default, "VALIDATION_001")["details"]
    both_on = assert_ok(
        client.patch(
            f"/v3/channels/voice/{b}",
            json={"status": "ACTIVE", "default_for_app_calls": True},
            headers=_h(key),
        )
    )
    assert both_on["default_for_app_calls"] is True
    assert assert_ok(client.get(patch, headers=_h(key)))["default_for_app_calls"] is False

    # The last active line may be turned off; turning one on again makes it the default.
    assert_ok(client.patch(patch, json={"status": "INACTIVE"}, headers=_h(key)))
    off = assert_ok(
        client.patch(f"/v3/channels/voice/{b}", json={"status": "INACTIVE"}, headers=_h(key))
    )
    assert off["default_for_app_calls"] is False
    on = assert_ok(client.patch(patch, json={"status": "ACTIVE"}, headers=_h(key)))
    assert on["default_for_app_calls"] is True

    unknown = client.get("/v3/channels/voice/+12025550188", headers=_h(key))
    assert "number" in assert_error(unknown, "VOICE_001")["details"]
    for method, path in (
        ("PATCH", "/v3/channels/voice/+12025550188"),
        ("POST", "/v3/channels/voice/+12025550188/rotate-secret"),
        ("POST", "/v3/channels/voice/+12025550188/test"),
    ):
        assert_error(
            client.request(method, path, json={"status": "ACTIVE"}, headers=_h(key)), "VOICE_001"
        )
    assert_error(client.get("/v3/channels/voice/12", headers=_h(key)), "VALIDATION_002")


def test_sandbox_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    number = _enable(client, org.live_key)["number"]
    before = customer_counts(server, org.id)
    tables = table_counts(server)["voice_numbers"]
    created = assert_ok(
        client.post(
            "/v3/channels/voice",
            json={"callback_url": URL, "sandbox": True},
            headers=_h(org.live_key),
        ),
        202,
    )
    assert created["callback_secret"].startswith("whsec_") and created["number"].startswith("+1")
    updated = assert_ok(
        client.patch(
            f"/v3/channels/voice/{number}",
            json={"callback_url": URL + "/x", "sandbox": True},
            headers=_h(org.live_key),
        )
    )
    assert updated["callback_url"] == URL + "/x"
    rotated = client.post(
        f"/v3/channels/voice/{number}/rotate-secret",
        json={"sandbox": True},
        headers=_h(org.live_key),
    )
    assert rotated.headers["x-sandbox"] == "true"
    assert assert_ok(rotated, 202)["callback_secret"].startswith("whsec_")
    tested = assert_ok(
        client.post(
            f"/v3/channels/voice/{number}/test", json={"sandbox": True}, headers=_h(org.live_key)
        ),
        202,
    )
    assert tested["outcome"] == "ok" and tested["request"] is None and tested["response"] is None
    assert customer_counts(server, org.id) == before
    assert table_counts(server)["voice_numbers"] == tables
    listed = assert_ok(client.get("/v3/channels/voice", headers=_h(org.live_key)))
    assert [(n["number"], n["callback_url"]) for n in listed] == [(number, URL)]


def test_modes_are_apart_and_billing_role_is_refused(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    _enable(client, org.test_key)
    assert assert_ok(client.get("/v3/channels/voice", headers=_h(org.live_key))) == []
    billing = make_key(server, org, role="billing")
    assert_error(client.get("/v3/channels/voice", headers=_h(billing)), "AUTH_004")
    assert_error(
        client.post("/v3/channels/voice", json={"callback_url": URL}, headers=_h(billing)),
        "AUTH_004",
    )


def test_private_callback_refused_when_not_allowed(database_url: str) -> None:
    from tests.conftest import build_app

    live = LiveServer(build_app(database_url, webhook_allow_private=False)).start()
    try:
        org = make_org(live)
        with httpx.Client(base_url=live.base_url) as http:
            refused = http.post(
                "/v3/channels/voice",
                json={"callback_url": "http://127.0.0.1:9/answer"},
                headers=_h(org.test_key),
            )
            assert "callback_url" in assert_error(refused, "VALIDATION_001")["details"]
    finally:
        live.stop()
