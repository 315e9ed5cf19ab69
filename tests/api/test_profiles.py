"""`/v3/profiles` over HTTP: validation, permissions, quotas, deletion, review."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_key, make_org, set_limits
from tests.live_server import LiveServer
from tests.receiver import Receiver

BRAND = {
    "contact": {"name": "Ana Ops", "businessName": "Acme", "email": "ops@acme.test"},
    "business": {"legalName": "Acme Inc", "entityType": "PRIVATE_PROFIT", "country": "US"},
    "compliance": {
        "brandRelationship": "BASIC_ACCOUNT",
        "vertical": "TECHNOLOGY",
        "destinationCountries": [{"id": "US", "isMain": True}],
        "isTcrApplication": True,
    },
}
BILLING = {"name": "Ana Ops", "email": "billing@acme.test"}


def complete_body(**extra: Any) -> dict[str, Any]:
    return {
        "name": "Acme Shop",
        "short_name": "ACME",
        "billing_contact": BILLING,
        "brand": BRAND,
        **extra,
    }


def create(client: httpx.Client, key: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post("/v3/profiles", json=body, headers={"x-api-key": key, **headers})


def test_create_reads_back_as_profile_detail(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(create(client, org.live_key, complete_body(description="Shop")), 201)
    assert data["organization_id"] == str(org.id)
    assert data["status"] == "incomplete"
    assert data["billing_model"] == "profile"
    assert data["email"] == "billing@acme.test"
    assert data["inherit_contacts"] is True
    brand = data["brand"]
    assert brand["contact"]["business_name"] == "Acme"  # snake_case in the response
    assert brand["compliance"]["destination_countries"] == [{"id": "US", "isMain": True}]
    assert brand["compliance"]["brand_relationship"] == "BASIC_ACCOUNT"
    assert brand["status"] == "INACTIVE" and brand["identity_status"] == "SELF_DECLARED"
    fetched = assert_ok(
        client.get(f"/v3/profiles/{data['id']}", headers={"x-api-key": org.live_key})
    )
    assert fetched == data


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"short_name": "ACME", "billing_contact": BILLING}, "VALIDATION_004", "name"),
        ({"name": "X"}, "VALIDATION_004", "billing_contact"),
        ({**complete_body(), "short_name": "AB"}, "VALIDATION_005", "short_name"),
        ({**complete_body(), "short_name": "TWELVE CHARS"}, "VALIDATION_005", "short_name"),
        ({**complete_body(), "short_name": "1234"}, "VALIDATION_001", "short_name"),
        ({**complete_body(), "short_name": "AC-ME"}, "VALIDATION_001", "short_name"),
        ({**complete_body(), "billing_model": "team"}, "VALIDATION_006", "billing_model"),
        (
            {
                "name": "X",
                "billing_model": "organization",
                "payment_details": {
                    "card_number": "4242424242424242",
                    "cvc": "123",
                    "expiry": "12/30",
                    "zip_code": "94107",
                },
            },
            "VALIDATION_001",
            "payment_details",
        ),
        ({**complete_body(), "inherit_tcr_brand": True}, "VALIDATION_001", "brand"),
        (
            {**complete_body(), "brand": {**BRAND, "compliance": {"vertical": "TECHNOLOGY"}}},
            "VALIDATION_004",
            "brand.compliance.brandRelationship",
        ),
    ],
)
def test_create_validation(
    server: LiveServer, client: httpx.Client, body: dict[str, Any], code: str, field: str
) -> None:
    org = make_org(server)
    error = assert_error(create(client, org.live_key, body), code)
    assert field in error["details"]


def test_organization_billing_needs_no_contact(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(
        create(client, org.live_key, {"name": "Ops", "billing_model": "organization"}), 201
    )
    assert data["billing_contact"] is None and data["billing_model"] == "organization"


def test_quota(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, profiles=1)
    assert_ok(create(client, org.live_key, complete_body()), 201)
    error = assert_error(create(client, org.live_key, complete_body()), "BUSINESS_008")
    assert error["details"] == {"profiles": ["The profiles quota is 1; 1 in use, 1 more requested"]}


def test_update_is_partial(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    created = assert_ok(create(client, org.live_key, complete_body(description="old")), 201)
    url = f"/v3/profiles/{created['id']}"
    data = assert_ok(
        client.patch(url, json={"description": None, "icon": "i.png"}, headers=headers)
    )
    assert data["description"] is None and data["icon"] == "i.png"
    assert data["name"] == "Acme Shop" and data["brand"] == created["brand"]
    data = assert_ok(
        client.patch(
            url, json={"name": None, "sending_phone_number": "+14155550100"}, headers=headers
        )
    )
    assert data["name"] == "Acme Shop" and data["sending_phone_number"] == "+14155550100"
    error = assert_error(
        client.patch(url, json={"whatsapp_phone_number": "555"}, headers=headers), "VALIDATION_002"
    )
    assert list(error["details"]) == ["whatsapp_phone_number"]
    error = assert_error(
        client.patch(url, json={"billing_contact": None}, headers=headers), "VALIDATION_004"
    )
    assert list(error["details"]) == ["billing_contact"]


def test_list_paginates(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    ids = [
        assert_ok(create(client, org.live_key, complete_body(name=f"P{i}")), 201)["id"]
        for i in range(3)
    ]
    headers = {"x-api-key": org.live_key}
    first = assert_ok(client.get("/v3/profiles?page_size=2", headers=headers))
    second = assert_ok(client.get("/v3/profiles?page_size=2&page=2", headers=headers))
    assert [p["id"] for p in first["profiles"] + second["profiles"]] == ids
    assert first["pagination"]["has_more"] is True and second["pagination"]["has_more"] is False
    assert first["pagination"]["total_count"] == 3


def test_unknown_foreign_and_malformed_ids(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    foreign = assert_ok(create(client, other.live_key, complete_body()), 201)["id"]
    headers = {"x-api-key": org.live_key}
    for profile_id in (foreign, str(uuid.uuid4())):
        assert_error(client.get(f"/v3/profiles/{profile_id}", headers=headers), "RESOURCE_004")
        assert_error(
            client.patch(f"/v3/profiles/{profile_id}", json={}, headers=headers), "RESOURCE_004"
        )
        assert_error(
            client.request("DELETE", f"/v3/profiles/{profile_id}", json={}, headers=headers),
            "RESOURCE_004",
        )
    assert_error(client.get("/v3/profiles/prof_1", headers=headers), "VALIDATION_003")


def test_delete_is_soft_and_revokes_the_profiles_keys(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = assert_ok(create(client, org.live_key, complete_body()), 201)
    profile_key = make_key(server, org, customer_id=uuid.UUID(profile["id"]))
    assert_ok(client.get("/v3/me", headers={"x-api-key": profile_key}))  # cached now
    response = client.request(
        "DELETE", f"/v3/profiles/{profile['id']}", json={}, headers={"x-api-key": org.live_key}
    )
    assert response.status_code == 204 and response.content == b""
    assert_error(
        client.get(f"/v3/profiles/{profile['id']}", headers={"x-api-key": org.live_key}),
        "RESOURCE_004",
    )
    assert_error(client.get("/v3/me", headers={"x-api-key": profile_key}), "AUTH_002")


MANAGE = ("POST /v3/profiles", "PATCH /v3/profiles/{id}", "DELETE /v3/profiles/{id}")


def call(client: httpx.Client, route: str, key: str, profile_id: str) -> httpx.Response:
    method, path = route.split(" ")
    path = path.replace("{id}", profile_id)
    body = complete_body() if method == "POST" else {}
    return client.request(method, path, json=body, headers={"x-api-key": key})


@pytest.mark.parametrize("role", ["owner", "admin", "developer", "billing"])
def test_role_matrix(server: LiveServer, client: httpx.Client, role: str) -> None:
    org = make_org(server)
    set_limits(server, org, profiles=100)
    key = make_key(server, org, role=role)
    manages = role in ("owner", "admin")
    for route in ("GET /v3/profiles", "GET /v3/profiles/{id}", *MANAGE):
        profile_id = assert_ok(create(client, org.live_key, complete_body()), 201)["id"]
        response = call(client, route, key, profile_id)
        if route.startswith("GET") or manages:
            assert response.status_code in (200, 201, 204), (route, response.text)
        else:
            assert_error(response, "AUTH_004")


def test_profile_keys_cannot_manage_profiles(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    mine = assert_ok(create(client, org.live_key, complete_body()), 201)["id"]
    sibling = assert_ok(create(client, org.live_key, complete_body()), 201)["id"]
    key = make_key(server, org, customer_id=uuid.UUID(mine))
    for route in MANAGE:
        assert_error(call(client, route, key, mine), "AUTH_004")
    # A profile key reads only its own profile.
    assert assert_ok(client.get(f"/v3/profiles/{mine}", headers={"x-api-key": key}))["id"] == mine
    listed = assert_ok(client.get("/v3/profiles", headers={"x-api-key": key}))["profiles"]
    assert [p["id"] for p in listed] == [mine]
    assert_error(client.get(f"/v3/profiles/{sibling}", headers={"x-api-key": key}), "RESOURCE_004")


def test_data_created_through_x_profile_id_belongs_to_the_profile(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = assert_ok(create(client, org.live_key, complete_body()), 201)["id"]
    as_profile = {"x-api-key": org.live_key, "x-profile-id": profile}
    response = client.post("/v3/_probe/credits", json={"amount_micros": 700}, headers=as_profile)
    assert_ok(response, 201)
    assert response.headers["x-profile-id"] == profile
    me_profile = assert_ok(client.get("/v3/me", headers=as_profile))
    assert me_profile["balance"]["amount_micros"] == 700
    me_org = assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
    assert me_org["balance"]["amount_micros"] == 10_000_000


def test_sandbox_create_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = create(client, org.live_key, complete_body(sandbox=True))
    assert_ok(response, 201)
    assert response.headers["x-sandbox"] == "true"
    listed = assert_ok(client.get("/v3/profiles", headers={"x-api-key": org.live_key}))
    assert listed["profiles"] == []


# -- completion and review ----------------------------------------------------------------


@pytest.fixture(scope="module")
def reviewing(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, run_workers=True)).start()
    yield live
    live.stop()


def complete(client: httpx.Client, org: Org, profile_id: str, url: str) -> httpx.Response:
    return client.post(
        f"/v3/profiles/{profile_id}/complete",
        json={"webHookUrl": url},
        headers={"x-api-key": org.live_key},
    )


def test_complete_names_every_unmet_prerequisite(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = assert_ok(
        create(client, org.live_key, {"name": "Bare", "billing_contact": BILLING}), 201
    )
    error = assert_error(
        complete(client, org, profile["id"], "https://example.com/hook"), "VALIDATION_004"
    )
    assert set(error["details"]) == {"short_name", "brand"}


def test_complete_refuses_bad_callback_urls(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = assert_ok(create(client, org.live_key, complete_body()), 201)
    for url in ("ftp://example.com/x", "not a url"):
        error = assert_error(complete(client, org, profile["id"], url), "VALIDATION_001")
        assert "webHookUrl" in error["details"]
    response = client.post(
        f"/v3/profiles/{profile['id']}/complete", json={}, headers={"x-api-key": org.live_key}
    )
    error = assert_error(response, "VALIDATION_004")
    assert list(error["details"]) == ["webHookUrl"]


def test_review_approves_and_calls_back(reviewing: LiveServer) -> None:
    org = make_org(reviewing)
    with Receiver() as receiver, httpx.Client(base_url=reviewing.base_url) as client:
        profile = assert_ok(create(client, org.live_key, complete_body()), 201)
        response = complete(client, org, profile["id"], receiver.url)
        assert assert_ok(response, 202)["status"] == "submitted"
        again = assert_ok(complete(client, org, profile["id"], receiver.url), 202)
        assert again["status"] == "in_progress"
        [callback] = receiver.wait_for(1)
        assert callback["json"]["profile_id"] == profile["id"]
        assert callback["json"]["status"] == "approved"
        secret = assert_ok(
            client.get("/v3/profiles/callback-secret", headers={"x-api-key": org.live_key})
        )["callback_secret"]
        headers = {k.lower(): v for k, v in callback["headers"].items()}
        verified = Webhook(secret).verify(
            callback["body"],
            {
                "webhook-id": headers["x-webhook-id"],
                "webhook-timestamp": headers["x-webhook-timestamp"],
                "webhook-signature": headers["x-webhook-signature"],
            },
        )
        assert verified["profile_id"] == profile["id"] and headers["x-webhook-id"] == profile["id"]
        assert headers["x-webhook-event-type"] == "profile" and headers["x-webhook-event-id"]
        data = assert_ok(
            client.get(f"/v3/profiles/{profile['id']}", headers={"x-api-key": org.live_key})
        )
        assert data["status"] == "approved" and data["brand"]["status"] == "ACTIVE"
        done = assert_ok(complete(client, org, profile["id"], receiver.url), 200)
        assert done["status"] == "completed"


def test_the_callback_secret_is_the_organizations_and_rotates(
    server: LiveServer, client: httpx.Client
) -> None:
    org, other = make_org(server), make_org(server)

    def read(key: str) -> str:
        response = client.get("/v3/profiles/callback-secret", headers={"x-api-key": key})
        secret: str = assert_ok(response)["callback_secret"]
        return secret

    first = read(org.live_key)
    assert first.startswith("whsec_") and read(org.test_key) == first
    assert read(other.live_key) != first
    rotated = assert_ok(
        client.post(
            "/v3/profiles/callback-secret/rotate", json={}, headers={"x-api-key": org.live_key}
        )
    )["callback_secret"]
    assert rotated.startswith("whsec_") and rotated != first and read(org.live_key) == rotated


def test_callback_urls_are_stored_normalised(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = assert_ok(create(client, org.live_key, complete_body()), 201)
    error = assert_error(
        complete(client, org, profile["id"], "https://exa mple.com/x"), "VALIDATION_003"
    )
    assert list(error["details"]) == ["webHookUrl"]
    assert_ok(complete(client, org, profile["id"], "https://Пример.рф/колбэк"), 202)

    async def stored() -> str:
        async with server.app.state.db.connection() as conn:  # type: ignore[attr-defined]
            url: str = await conn.fetchval(
                "SELECT review_webhook_url FROM customers WHERE id = $1",
                uuid.UUID(profile["id"]),
            )
            return url

    assert (
        server.run(stored()) == "https://xn--e1afmkfd.xn--p1ai/%D0%BA%D0%BE%D0%BB%D0%B1%D1%8D%D0%BA"
    )


def test_review_rejects_by_the_simulator_rule_and_retries_the_callback(
    reviewing: LiveServer,
) -> None:
    org = make_org(reviewing)
    with Receiver(status=500) as receiver, httpx.Client(base_url=reviewing.base_url) as client:
        profile = assert_ok(create(client, org.live_key, complete_body(name="Please Reject")), 201)
        assert_ok(complete(client, org, profile["id"], receiver.url), 202)
        receiver.wait_for(1)
        receiver.status = 200
        requests = receiver.wait_for(2)  # retried after a failed delivery
        assert requests[1]["json"]["status"] == "rejected"
        assert "Simulated rejection" in requests[1]["json"]["reason"]
        data = assert_ok(
            client.get(f"/v3/profiles/{profile['id']}", headers={"x-api-key": org.live_key})
        )
        assert data["status"] == "rejected"
