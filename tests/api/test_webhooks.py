"""`/v3/webhooks` management over HTTP."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest

from tests.contract import assert_error, assert_ok
from tests.factories import make_org, set_limits
from tests.live_server import LiveServer

BODY = {
    "display_name": "Orders",
    "endpoint_url": "http://127.0.0.1:9/hooks/orders",  # loopback and closed: workers of other
    # test servers on this database may try to deliver to it
    "event_types": ["messages", "templates"],
}


def create(client: httpx.Client, key: str, **fields: Any) -> httpx.Response:
    return client.post("/v3/webhooks", json={**BODY, **fields}, headers={"x-api-key": key})


def test_create_reveals_the_secret_once(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(create(client, org.live_key), 201)
    secret = data["signing_secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    assert data["event_types"] == ["message", "templates"]
    assert data["retry_count"] == 3 and data["timeout_seconds"] == 30
    assert data["is_active"] is True and data["consecutive_failures"] == 0
    assert data["customer_id"] == str(org.id)
    fetched = assert_ok(
        client.get(f"/v3/webhooks/{data['id']}", headers={"x-api-key": org.live_key})
    )
    assert fetched["signing_secret"] != secret and fetched["signing_secret"].endswith(secret[-4:])


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"display_name": None}, "VALIDATION_004", "display_name"),
        ({"endpoint_url": None}, "VALIDATION_004", "endpoint_url"),
        ({"endpoint_url": "ftp://example.com/x"}, "VALIDATION_001", "endpoint_url"),
        ({"endpoint_url": "example.com/hook"}, "VALIDATION_001", "endpoint_url"),
        ({"endpoint_url": "https://exa mple.com/x"}, "VALIDATION_003", "endpoint_url"),
        ({"endpoint_url": "https://xn--zz.com/x"}, "VALIDATION_003", "endpoint_url"),
        ({"retry_count": 0}, "VALIDATION_005", "retry_count"),
        ({"retry_count": 6}, "VALIDATION_005", "retry_count"),
        ({"timeout_seconds": 4}, "VALIDATION_005", "timeout_seconds"),
        ({"timeout_seconds": 121}, "VALIDATION_005", "timeout_seconds"),
        ({"event_types": ["message", "payments"]}, "VALIDATION_006", "event_types[1]"),
        ({"event_filters": {"invoices": ["paid"]}}, "VALIDATION_006", "event_filters"),
    ],
)
def test_validation(
    server: LiveServer, client: httpx.Client, fields: dict[str, Any], code: str, field: str
) -> None:
    org = make_org(server)
    body = {k: v for k, v in {**BODY, **fields}.items() if v is not None}
    response = client.post("/v3/webhooks", json=body, headers={"x-api-key": org.live_key})
    assert field in assert_error(response, code)["details"]


def test_private_destinations_are_refused(database_url: str) -> None:
    from tests.conftest import build_app

    strict = LiveServer(build_app(database_url, webhook_allow_private=False)).start()
    try:
        org = make_org(strict)
        with httpx.Client(base_url=strict.base_url) as client:
            for url in (
                "http://127.0.0.1:9/x",
                "http://10.0.0.7/x",
                "http://localhost/x",
                "http://169.254.169.254/latest",
                "http://[::1]/x",
                "http://100.100.100.200/latest/meta-data",
                "http://192.0.0.8/x",
                "http://[::ffff:127.0.0.1]/x",
            ):
                error = assert_error(
                    create(client, org.live_key, endpoint_url=url), "VALIDATION_001"
                )
                assert "endpoint_url" in error["details"]
            assert_ok(create(client, org.live_key, endpoint_url="https://93.184.216.34/x"), 201)
    finally:
        strict.stop()


def test_update_list_toggle_delete(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    first = assert_ok(create(client, org.live_key), 201)
    second = assert_ok(
        create(client, org.live_key, display_name="Contacts", event_types=["contact"]), 201
    )
    url = f"/v3/webhooks/{first['id']}"
    updated = assert_ok(
        client.put(
            url, json={**BODY, "display_name": "Orders v2", "retry_count": 5}, headers=headers
        )
    )
    assert updated["display_name"] == "Orders v2" and updated["retry_count"] == 5
    assert updated["updated_at"] is not None
    assert_error(client.put(url, json={"display_name": "x"}, headers=headers), "VALIDATION_004")
    toggled = assert_ok(
        client.patch(f"{url}/toggle-status", json={"is_active": False}, headers=headers)
    )
    assert toggled["is_active"] is False
    active = assert_ok(client.get("/v3/webhooks?is_active=true", headers=headers))["webhooks"]
    assert [w["id"] for w in active] == [second["id"]]
    found = assert_ok(client.get("/v3/webhooks?search=contacts", headers=headers))["webhooks"]
    assert [w["id"] for w in found] == [second["id"]]
    paged = assert_ok(client.get("/v3/webhooks?page_size=1&page=2", headers=headers))
    assert paged["pagination"]["has_more"] is False and len(paged["webhooks"]) == 1
    response = client.delete(url, headers={**headers, "content-type": "application/json"})
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(url, headers=headers), "RESOURCE_008")


def test_unknown_and_malformed_ids(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    foreign = assert_ok(create(client, other.live_key), 201)["id"]
    headers = {"x-api-key": org.live_key}
    for webhook_id in (foreign, str(uuid.uuid4())):
        for method, path, body in (
            ("GET", "", None),
            ("PUT", "", BODY),
            ("DELETE", "", None),
            ("GET", "/events", None),
            ("POST", "/rotate-secret", {}),
            ("POST", "/test", {"event_type": "message.sent"}),
            ("PATCH", "/toggle-status", {"is_active": True}),
        ):
            response = client.request(
                method, f"/v3/webhooks/{webhook_id}{path}", json=body, headers=headers
            )
            assert_error(response, "RESOURCE_008")
    assert_error(client.get("/v3/webhooks/wh_1", headers=headers), "VALIDATION_003")
    # Test-mode keys do not see live webhooks.
    assert_error(
        client.get(f"/v3/webhooks/{foreign}", headers={"x-api-key": other.test_key}), "RESOURCE_008"
    )


def test_rotate_secret(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    created = assert_ok(create(client, org.live_key), 201)
    headers = {"x-api-key": org.live_key}
    rotated = assert_ok(
        client.post(f"/v3/webhooks/{created['id']}/rotate-secret", json={}, headers=headers)
    )["signing_secret"]
    assert rotated.startswith("whsec_") and rotated != created["signing_secret"]
    fetched = assert_ok(client.get(f"/v3/webhooks/{created['id']}", headers=headers))
    assert fetched["signing_secret"].endswith(rotated[-4:])


def test_event_types_catalog(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(client.get("/v3/webhooks/event-types", headers={"x-api-key": org.live_key}))
    families = {t["name"]: [s["name"] for s in t["sub_types"]] for t in data["event_types"]}
    assert set(families) == {"message", "templates", "contact", "call"}
    assert "message.delivered" in families["message"]
    assert families["contact"] == ["contact.opt_out", "contact.opt_in", "contact.help"]
    assert data["pagination"]["has_more"] is False


def test_quota(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, webhooks=1)
    assert_ok(create(client, org.live_key), 201)
    assert "webhooks" in assert_error(create(client, org.live_key), "BUSINESS_008")["details"]


def test_sandbox_create_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = create(client, org.live_key, sandbox=True)
    assert assert_ok(response, 201)["signing_secret"].startswith("whsec_")
    assert response.headers["x-sandbox"] == "true"
    assert (
        assert_ok(client.get("/v3/webhooks", headers={"x-api-key": org.live_key}))["webhooks"] == []
    )
