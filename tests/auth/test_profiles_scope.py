"""x-profile-id: an organization key acting as one of its profiles."""

from __future__ import annotations

import uuid

import httpx

from tests.contract import assert_error, assert_ok
from tests.factories import make_key, make_org, make_profile
from tests.live_server import LiveServer


def test_org_key_acts_as_its_profile(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(server, org, name="Shop")
    response = client.get(
        "/v3/me", headers={"x-api-key": org.live_key, "x-profile-id": str(profile["id"])}
    )
    data = assert_ok(response)
    assert response.headers["x-profile-id"] == str(profile["id"])
    assert data["type"] == "profile"
    assert data["id"] == str(profile["id"])
    assert data["organization_id"] == str(org.id)
    assert data["short_name"] == "PROF"


def test_org_view_lists_profiles(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(server, org)
    data = assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
    assert [p["id"] for p in data["profiles"]] == [str(profile["id"])]
    assert "x-profile-id" not in client.get("/v3/me", headers={"x-api-key": org.live_key}).headers


def test_profile_key_may_not_send_x_profile_id(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(server, org)
    profile_key = make_key(server, org, customer_id=profile["id"])
    data = assert_ok(client.get("/v3/me", headers={"x-api-key": profile_key}))
    assert data["type"] == "profile"
    response = client.get(
        "/v3/me", headers={"x-api-key": profile_key, "x-profile-id": str(profile["id"])}
    )
    assert_error(response, "AUTH_004")


def test_unknown_profile_is_resource_004(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = client.get(
        "/v3/me", headers={"x-api-key": org.live_key, "x-profile-id": str(uuid.uuid4())}
    )
    assert_error(response, "RESOURCE_004")


def test_another_orgs_profile_is_resource_004(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    foreign = make_profile(server, other)
    response = client.get(
        "/v3/me", headers={"x-api-key": org.live_key, "x-profile-id": str(foreign["id"])}
    )
    assert_error(response, "RESOURCE_004")


def test_malformed_profile_id_is_validation_003(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    response = client.get("/v3/me", headers={"x-api-key": org.live_key, "x-profile-id": "prof_1"})
    error = assert_error(response, "VALIDATION_003")
    assert list(error["details"]) == ["x-profile-id"]


def test_own_organization(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile, sibling = make_profile(server, org), make_profile(server, org, name="Sibling")
    url = f"/v3/organizations/{org.id}"
    data = assert_ok(client.get(url, headers={"x-api-key": org.live_key}))
    assert data["id"] == str(org.id)
    assert [p["id"] for p in data["profiles"]] == [str(profile["id"]), str(sibling["id"])]
    # A profile sees its parent, and among the parent's profiles only itself: never a sibling.
    for key in (
        make_key(server, org, customer_id=profile["id"]),
        make_key(server, org, customer_id=profile["id"], livemode=False),
    ):
        data = assert_ok(client.get(url, headers={"x-api-key": key}))
        assert data["id"] == str(org.id)
        assert [p["id"] for p in data["profiles"]] == [str(profile["id"])]
    acting = {"x-api-key": org.live_key, "x-profile-id": str(sibling["id"])}
    assert [p["id"] for p in assert_ok(client.get(url, headers=acting))["profiles"]] == [
        str(sibling["id"])
    ]


def test_other_organization_is_resource_005(server: LiveServer, client: httpx.Client) -> None:
    org, other = make_org(server), make_org(server)
    for org_id in (other.id, uuid.uuid4()):
        response = client.get(f"/v3/organizations/{org_id}", headers={"x-api-key": org.live_key})
        assert_error(response, "RESOURCE_005")
