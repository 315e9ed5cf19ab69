"""`/v3/contacts` over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_key, make_org, make_profile, set_limits
from tests.live_server import LiveServer


def create(client: httpx.Client, key: str, phone: Any, **headers: str) -> httpx.Response:
    return client.post(
        "/v3/contacts", json={"phone_number": phone}, headers={"x-api-key": key, **headers}
    )


def test_create_derives_every_format(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(create(client, org.live_key, "+14155550100"), 201)
    assert data["customer_id"] == str(org.id)
    assert data["phone_number"] == "+14155550100"
    assert data["format_e164"] == "+14155550100"
    assert data["format_international"] == "+1 415-555-0100"
    assert data["format_national"] == "(415) 555-0100"
    assert data["format_rfc"] == "tel:+1-415-555-0100"
    assert data["country_code"] == "1" and data["region_code"] == "US"
    assert data["available_channels"] == "sms,whatsapp"
    assert data["default_channel"] is None and data["opt_out"] is False
    assert data["is_inherited"] is False
    assert (
        assert_ok(client.get(f"/v3/contacts/{data['id']}", headers={"x-api-key": org.live_key}))
        == data
    )


@pytest.mark.parametrize(
    ("phone", "live", "test"),
    [
        ("+442071838750", "sms", "sms"),
        ("+18005550100", "sms", "sms"),
        # The simulator's "no WhatsApp" number acts in test mode only: a live number ending in
        # 0003 is a real number like any other.
        ("+14155550003", "sms,whatsapp", "sms"),
        ("+447911123456", "sms,whatsapp", "sms,whatsapp"),
    ],
)
def test_available_channels(
    server: LiveServer, client: httpx.Client, phone: str, live: str, test: str
) -> None:
    org = make_org(server)
    assert assert_ok(create(client, org.live_key, phone), 201)["available_channels"] == live
    assert assert_ok(create(client, org.test_key, phone), 201)["available_channels"] == test


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "VALIDATION_004", "phone_number"),
        ({"phone_number": "4155550100"}, "VALIDATION_002", "phone_number"),
        ({"phone_number": "+1 415 555 0100"}, "VALIDATION_002", "phone_number"),
        ({"phone_number": "+1415555"}, "VALIDATION_002", "phone_number"),
        ({"phone_number": 14155550100}, "VALIDATION_001", "phone_number"),
    ],
)
def test_create_validation(
    server: LiveServer, client: httpx.Client, body: dict[str, Any], code: str, field: str
) -> None:
    org = make_org(server)
    response = client.post("/v3/contacts", json=body, headers={"x-api-key": org.live_key})
    assert list(assert_error(response, code)["details"]) == [field]


def test_duplicates_per_customer_and_mode(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    assert_ok(create(client, org.live_key, "+14155550100"), 201)
    assert_error(create(client, org.live_key, "+14155550100"), "RESOURCE_007")
    assert_ok(create(client, org.test_key, "+14155550100"), 201)  # the other mode
    assert_ok(create(client, other.live_key, "+14155550100"), 201)  # another customer


def test_test_keys_never_see_live_contacts(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    live = assert_ok(create(client, org.live_key, "+14155550100"), 201)
    response = client.get(f"/v3/contacts/{live['id']}", headers={"x-api-key": org.test_key})
    assert_error(response, "RESOURCE_001")
    assert (
        assert_ok(client.get("/v3/contacts", headers={"x-api-key": org.test_key}))["contacts"] == []
    )


def test_unknown_foreign_and_malformed_ids(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    foreign = assert_ok(create(client, other.live_key, "+14155550100"), 201)["id"]
    headers = {"x-api-key": org.live_key}
    for contact_id in (foreign, str(uuid.uuid4())):
        assert_error(client.get(f"/v3/contacts/{contact_id}", headers=headers), "RESOURCE_001")
        assert_error(
            client.patch(f"/v3/contacts/{contact_id}", json={"opt_out": True}, headers=headers),
            "RESOURCE_001",
        )
        assert_error(
            client.request("DELETE", f"/v3/contacts/{contact_id}", json={}, headers=headers),
            "RESOURCE_001",
        )
        assert_error(
            client.get(f"/v3/contacts/{contact_id}/message-summary", headers=headers),
            "RESOURCE_001",
        )
    assert_error(client.get("/v3/contacts/ct_1", headers=headers), "VALIDATION_003")


def test_update_default_channel_and_opt_out(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    mobile = assert_ok(create(client, org.live_key, "+14155550100"), 201)["id"]
    landline = assert_ok(create(client, org.live_key, "+442071838750"), 201)["id"]
    data = assert_ok(
        client.patch(
            f"/v3/contacts/{mobile}", json={"default_channel": "whatsapp"}, headers=headers
        )
    )
    assert data["default_channel"] == "whatsapp"
    data = assert_ok(
        client.patch(f"/v3/contacts/{mobile}", json={"opt_out": True}, headers=headers)
    )
    assert data["opt_out"] is True and data["default_channel"] == "whatsapp"
    data = assert_ok(
        client.patch(f"/v3/contacts/{mobile}", json={"default_channel": None}, headers=headers)
    )
    assert data["default_channel"] is None and data["opt_out"] is True
    error = assert_error(
        client.patch(
            f"/v3/contacts/{landline}", json={"default_channel": "whatsapp"}, headers=headers
        ),
        "BUSINESS_007",
    )
    assert "default_channel" in error["details"]
    error = assert_error(
        client.patch(f"/v3/contacts/{landline}", json={"default_channel": "fax"}, headers=headers),
        "VALIDATION_006",
    )
    assert "default_channel" in error["details"]


def test_delete_is_soft_and_frees_the_number(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    contact_id = assert_ok(create(client, org.live_key, "+14155550100"), 201)["id"]
    response = client.request("DELETE", f"/v3/contacts/{contact_id}", json={}, headers=headers)
    assert response.status_code == 204
    assert_error(client.get(f"/v3/contacts/{contact_id}", headers=headers), "RESOURCE_001")
    assert_ok(create(client, org.live_key, "+14155550100"), 201)


def test_message_summary_starts_at_zero(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    contact_id = assert_ok(create(client, org.live_key, "+14155550100"), 201)["id"]
    data = assert_ok(
        client.get(
            f"/v3/contacts/{contact_id}/message-summary", headers={"x-api-key": org.live_key}
        )
    )
    assert data == {
        "contact_id": contact_id,
        "message_count": 0,
        "first_message_at": None,
        "last_message_at": None,
        "channels_used": [],
        "channel_scores": [],
    }


def seed(server: LiveServer, client: httpx.Client, org: Org, phones: list[str]) -> list[str]:
    return [assert_ok(create(client, org.live_key, p), 201)["id"] for p in phones]


PHONES = ["+14155550100", "+14155550101", "+442071838750", "+447911123456", "+12125550199"]


def test_pagination(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    ids = seed(server, client, org, PHONES)
    headers = {"x-api-key": org.live_key}
    default = assert_ok(client.get("/v3/contacts", headers=headers))
    assert [c["id"] for c in default["contacts"]] == ids
    assert default["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total_count": 5,
        "total_pages": 1,
        "has_more": False,
        "cursors": None,
    }
    seen: list[str] = []
    for page in (1, 2, 3):
        data = assert_ok(client.get(f"/v3/contacts?page={page}&page_size=2", headers=headers))
        seen += [c["id"] for c in data["contacts"]]
        assert data["pagination"]["has_more"] is (page < 3)
    assert seen == ids
    beyond = assert_ok(client.get("/v3/contacts?page=9&page_size=2", headers=headers))
    assert beyond["contacts"] == [] and beyond["pagination"]["has_more"] is False
    for bad in ("page_size=0", "page_size=101", "page=0"):
        assert_error(client.get(f"/v3/contacts?{bad}", headers=headers), "VALIDATION_005")
    assert_error(client.get("/v3/contacts?page=two", headers=headers), "VALIDATION_001")


def test_search_and_filters(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    ids = dict(zip(PHONES, seed(server, client, org, PHONES), strict=True))
    headers = {"x-api-key": org.live_key}

    def listed(query: str) -> set[str]:
        data = assert_ok(client.get(f"/v3/contacts?{query}", headers=headers))
        return {c["format_e164"] for c in data["contacts"]}

    assert listed("search=(415) 555-0101") == {"+14155550101"}
    assert listed("search=555-01") == {"+14155550100", "+14155550101", "+12125550199"}
    assert listed("phone=%2B1415") == {"+14155550100", "+14155550101"}
    assert listed("channel=whatsapp") == {
        "+14155550100",
        "+14155550101",
        "+447911123456",
        "+12125550199",
    }
    assert listed("channel=sms") == set(ids)
    assert listed("channel=whatsapp&phone=%2B44") == {"+447911123456"}
    assert listed("search=100%25") == set()  # a literal %, not a wildcard
    assert_error(client.get("/v3/contacts?channel=fax", headers=headers), "VALIDATION_006")


def test_quota(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, contacts=2)
    seed(server, client, org, PHONES[:2])
    error = assert_error(create(client, org.live_key, PHONES[2]), "BUSINESS_008")
    assert "contacts" in error["details"]


def test_billing_role_cannot_use_contacts(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = make_key(server, org, role="billing")
    assert_error(client.get("/v3/contacts", headers={"x-api-key": key}), "AUTH_004")
    assert_error(create(client, key, "+14155550100"), "AUTH_004")


def test_inherited_contacts_are_read_only_through_the_profile(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = str(make_profile(server, org)["id"])
    as_profile = {"x-api-key": org.live_key, "x-profile-id": profile}
    inherited = assert_ok(create(client, org.live_key, "+14155550100"), 201)["id"]
    own = assert_ok(create(client, org.live_key, "+14155550101", **{"x-profile-id": profile}), 201)
    assert own["customer_id"] == profile

    listed = assert_ok(client.get("/v3/contacts", headers=as_profile))["contacts"]
    flags = {c["id"]: c["is_inherited"] for c in listed}
    assert flags == {inherited: True, own["id"]: False}
    assert assert_ok(client.get(f"/v3/contacts/{inherited}", headers=as_profile))["is_inherited"]

    for response in (
        client.patch(f"/v3/contacts/{inherited}", json={"opt_out": True}, headers=as_profile),
        client.request("DELETE", f"/v3/contacts/{inherited}", json={}, headers=as_profile),
    ):
        assert_error(response, "BUSINESS_001")
    # The organization itself may change it, and does not see the profile's contacts.
    assert_ok(
        client.patch(
            f"/v3/contacts/{inherited}", json={"opt_out": True}, headers={"x-api-key": org.live_key}
        )
    )
    org_view = assert_ok(client.get("/v3/contacts", headers={"x-api-key": org.live_key}))
    assert [c["id"] for c in org_view["contacts"]] == [inherited]


def test_profiles_that_do_not_inherit_see_only_their_own(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    body = {"name": "Solo", "billing_model": "organization", "inherit_contacts": False}
    profile = assert_ok(client.post("/v3/profiles", json=body, headers=headers), 201)["id"]
    inherited = assert_ok(create(client, org.live_key, "+14155550100"), 201)["id"]
    as_profile = {**headers, "x-profile-id": profile}
    assert assert_ok(client.get("/v3/contacts", headers=as_profile))["contacts"] == []
    assert_error(client.get(f"/v3/contacts/{inherited}", headers=as_profile), "RESOURCE_001")


def test_sandbox_create_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = client.post(
        "/v3/contacts",
        json={"phone_number": "+14155550100", "sandbox": True},
        headers={"x-api-key": org.live_key},
    )
    assert assert_ok(response, 201)["format_e164"] == "+14155550100"
    assert response.headers["x-sandbox"] == "true"
    assert (
        assert_ok(client.get("/v3/contacts", headers={"x-api-key": org.live_key}))["contacts"] == []
    )
