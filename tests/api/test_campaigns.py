"""`/v3/profiles/{profileId}/campaigns` over HTTP: the BrandCampaign shape, validation, scoping,
permissions, sandbox, idempotency and the simulated registry review."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sent_dm.types.profiles import BrandCampaign, CampaignUseCase

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_key, make_org
from tests.live_server import LiveServer
from tests.receiver import Receiver

BRAND = {
    "contact": {"name": "Ana Ops", "businessName": "Acme"},
    "compliance": {"brandRelationship": "BASIC_ACCOUNT", "vertical": "TECHNOLOGY"},
}
PROFILE = {
    "name": "Acme Shop",
    "short_name": "ACME",
    "billing_model": "organization",
    "brand": BRAND,
}
CAMPAIGN: dict[str, Any] = {
    "name": "Order updates",
    "description": "Shipping and delivery notices for orders placed on acme.test",
    "type": "App",
    "useCases": [
        {
            "messagingUseCaseUs": "DELIVERY_NOTIFICATION",
            "sampleMessages": ["Acme: your order 123 has shipped. Reply STOP to opt out."],
        }
    ],
    "helpKeywords": "HELP, INFO",
    "helpMessage": "Acme support: help@acme.test",
    "optinKeywords": "START",
    "optoutKeywords": "STOP",
    "privacyPolicyLink": "https://acme.test/privacy",
    "volume": "1999",
}


def make_profile(client: httpx.Client, org: Org, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/v3/profiles", json={**PROFILE, **extra}, headers={"x-api-key": org.live_key}
    )
    data: dict[str, Any] = assert_ok(response, 201)
    return data


def url(profile_id: str, campaign_id: str | None = None) -> str:
    base = f"/v3/profiles/{profile_id}/campaigns"
    return f"{base}/{campaign_id}" if campaign_id else base


def create(
    client: httpx.Client, key: str, profile_id: str, campaign: Any = None, **extra: Any
) -> httpx.Response:
    body = {"campaign": CAMPAIGN if campaign is None else campaign, **extra}
    return client.post(url(profile_id), json=body, headers={"x-api-key": key})


def listed(client: httpx.Client, key: str, profile_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = assert_ok(client.get(url(profile_id), headers={"x-api-key": key}))
    return data


def aliases(model: Any) -> set[str]:
    return {field.alias or name for name, field in model.model_fields.items()}


def test_create_reads_back_as_a_camel_case_brand_campaign(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    data = assert_ok(create(client, org.live_key, profile["id"]), 201)
    assert set(data) == aliases(BrandCampaign)  # every key the SDK models, no other
    assert data["customerId"] == profile["id"]
    assert data["brandId"] == profile["brand"]["id"]
    assert data["status"] == "SENT_CREATED"
    assert data["submittedToTCR"] is False and data["submittedAt"] is None
    assert data["tcrCampaignId"] is None and data["dcaElectionsComplete"] is False
    assert data["volume"] == "1999" and data["helpKeywords"] == "HELP, INFO"
    assert data["messageFlow"] is None
    [use_case] = data["useCases"]
    assert set(use_case) == aliases(CampaignUseCase)
    assert use_case["campaignId"] == data["id"] and use_case["customerId"] == profile["id"]
    assert use_case["messagingUseCaseUs"] == "DELIVERY_NOTIFICATION"
    assert use_case["sampleMessages"] == CAMPAIGN["useCases"][0]["sampleMessages"]
    assert listed(client, org.live_key, profile["id"]) == [data]


def test_update_replaces_the_campaign_and_keeps_use_case_ids(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    created = assert_ok(create(client, org.live_key, profile["id"]), 201)
    replacement = {
        **CAMPAIGN,
        "name": "Order and account updates",
        "useCases": [
            *CAMPAIGN["useCases"],
            {"messagingUseCaseUs": "ACCOUNT_NOTIFICATION", "sampleMessages": ["Password changed"]},
        ],
        "helpKeywords": None,
        "volume": "0005000",
    }
    del replacement["helpMessage"]
    response = client.put(
        url(profile["id"], created["id"]),
        json={"campaign": replacement},
        headers={"x-api-key": org.live_key},
    )
    data = assert_ok(response)
    assert data["id"] == created["id"] and data["name"] == "Order and account updates"
    assert data["helpKeywords"] is None and data["helpMessage"] is None  # PUT replaces
    assert data["volume"] == "5000"
    kept, added = data["useCases"]
    assert kept["id"] == created["useCases"][0]["id"]
    assert kept["createdAt"] == created["useCases"][0]["createdAt"]
    assert added["messagingUseCaseUs"] == "ACCOUNT_NOTIFICATION" and added["id"] != kept["id"]
    assert listed(client, org.live_key, profile["id"]) == [data]


def test_list_is_a_json_array_oldest_first_and_delete_removes(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    assert listed(client, org.live_key, profile["id"]) == []
    ids = [
        assert_ok(create(client, org.live_key, profile["id"], {**CAMPAIGN, "name": n}), 201)["id"]
        for n in ("First", "Second", "Third")
    ]
    assert [c["id"] for c in listed(client, org.live_key, profile["id"])] == ids
    response = client.request(
        "DELETE", url(profile["id"], ids[1]), json={}, headers={"x-api-key": org.live_key}
    )
    assert response.status_code == 204 and response.content == b""
    assert [c["id"] for c in listed(client, org.live_key, profile["id"])] == [ids[0], ids[2]]
    again = client.request(
        "DELETE", url(profile["id"], ids[1]), json={}, headers={"x-api-key": org.live_key}
    )
    assert_error(again, "RESOURCE_004")


def use_case(**overrides: Any) -> dict[str, Any]:
    return {**CAMPAIGN["useCases"][0], **overrides}


@pytest.mark.parametrize(
    ("campaign", "code", "field"),
    [
        (None, "VALIDATION_004", "campaign"),
        ({**CAMPAIGN, "name": None}, "VALIDATION_001", "campaign.name"),
        ({k: v for k, v in CAMPAIGN.items() if k != "name"}, "VALIDATION_004", "campaign.name"),
        ({**CAMPAIGN, "description": "  "}, "VALIDATION_004", "campaign.description"),
        ({**CAMPAIGN, "type": ""}, "VALIDATION_004", "campaign.type"),
        ({**CAMPAIGN, "name": "x" * 101}, "VALIDATION_005", "campaign.name"),
        ({**CAMPAIGN, "description": "x" * 4097}, "VALIDATION_005", "campaign.description"),
        ({**CAMPAIGN, "helpKeywords": "k" * 256}, "VALIDATION_005", "campaign.helpKeywords"),
        ({**CAMPAIGN, "optinMessage": "m" * 1025}, "VALIDATION_005", "campaign.optinMessage"),
        ({**CAMPAIGN, "messageFlow": "f" * 4097}, "VALIDATION_005", "campaign.messageFlow"),
        ({**CAMPAIGN, "useCases": []}, "VALIDATION_005", "campaign.useCases"),
        (
            {k: v for k, v in CAMPAIGN.items() if k != "useCases"},
            "VALIDATION_004",
            "campaign.useCases",
        ),
        (
            {
                **CAMPAIGN,
                "useCases": [
                    use_case(messagingUseCaseUs=name)
                    for name in ("MARKETING", "MIXED", "M2M", "TWO_FA", "FRAUD_ALERT", "LOW_VOLUME")
                ],
            },
            "VALIDATION_005",
            "campaign.useCases",
        ),
        ({**CAMPAIGN, "useCases": [use_case()] * 2}, "VALIDATION_001", "campaign.useCases"),
        (
            {**CAMPAIGN, "useCases": [use_case(messagingUseCaseUs="SPAM")]},
            "VALIDATION_006",
            "campaign.useCases[0].messagingUseCaseUs",
        ),
        (
            {**CAMPAIGN, "useCases": [use_case(sampleMessages=[])]},
            "VALIDATION_005",
            "campaign.useCases[0].sampleMessages",
        ),
        (
            {**CAMPAIGN, "useCases": [use_case(sampleMessages=["Hi"] * 6)]},
            "VALIDATION_005",
            "campaign.useCases[0].sampleMessages",
        ),
        (
            {**CAMPAIGN, "useCases": [use_case(sampleMessages=["ok", "x" * 1025])]},
            "VALIDATION_005",
            "campaign.useCases[0].sampleMessages[1]",
        ),
        (
            {**CAMPAIGN, "useCases": [use_case(sampleMessages=[" "])]},
            "VALIDATION_001",
            "campaign.useCases[0].sampleMessages[0]",
        ),
        ({**CAMPAIGN, "volume": "lots"}, "VALIDATION_001", "campaign.volume"),
        ({**CAMPAIGN, "volume": 1999}, "VALIDATION_001", "campaign.volume"),
        ({**CAMPAIGN, "volume": "0"}, "VALIDATION_005", "campaign.volume"),
        (
            {**CAMPAIGN, "privacyPolicyLink": "acme.test/privacy"},
            "VALIDATION_001",
            "campaign.privacyPolicyLink",
        ),
    ],
)
def test_validation_names_the_field_and_writes_nothing(
    server: LiveServer, client: httpx.Client, campaign: Any, code: str, field: str
) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    body = {} if campaign is None else {"campaign": campaign}
    response = client.post(url(profile["id"]), json=body, headers={"x-api-key": org.live_key})
    error = assert_error(response, code)
    assert field in error["details"], error["details"]
    assert listed(client, org.live_key, profile["id"]) == []


def test_update_validates_too(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    created = assert_ok(create(client, org.live_key, profile["id"]), 201)
    bad = {**CAMPAIGN, "useCases": [use_case(sampleMessages=["Hi"] * 6)]}
    response = client.put(
        url(profile["id"], created["id"]),
        json={"campaign": bad},
        headers={"x-api-key": org.live_key},
    )
    error = assert_error(response, "VALIDATION_005")
    assert list(error["details"]) == ["campaign.useCases[0].sampleMessages"]
    assert listed(client, org.live_key, profile["id"]) == [created]


def test_a_campaign_needs_the_profiles_brand(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    bare = make_profile(client, org, brand=None)
    error = assert_error(create(client, org.live_key, bare["id"]), "VALIDATION_004")
    assert list(error["details"]) == ["brand"]
    inheriting = make_profile(client, org, brand=None, inherit_tcr_brand=True)
    data = assert_ok(create(client, org.live_key, inheriting["id"]), 201)
    assert data["brandId"] is None


def test_other_tenants_and_unknown_ids_are_not_found(
    server: LiveServer, client: httpx.Client
) -> None:
    org, other = make_org(server), make_org(server)
    mine = make_profile(client, org)
    sibling = make_profile(client, org)
    foreign = make_profile(client, other)
    foreign_campaign = assert_ok(create(client, other.live_key, foreign["id"]), 201)["id"]
    sibling_campaign = assert_ok(create(client, org.live_key, sibling["id"]), 201)["id"]
    headers = {"x-api-key": org.live_key}
    for profile_id in (foreign["id"], str(uuid.uuid4())):
        assert_error(client.get(url(profile_id), headers=headers), "RESOURCE_004")
        assert_error(create(client, org.live_key, profile_id), "RESOURCE_004")
        for campaign_id in (foreign_campaign, str(uuid.uuid4())):
            put = client.put(
                url(profile_id, campaign_id), json={"campaign": CAMPAIGN}, headers=headers
            )
            assert_error(put, "RESOURCE_004")
            delete = client.request(
                "DELETE", url(profile_id, campaign_id), json={}, headers=headers
            )
            assert_error(delete, "RESOURCE_004")
    # A campaign is reached only through its own profile.
    error = assert_error(
        client.put(url(mine["id"], sibling_campaign), json={"campaign": CAMPAIGN}, headers=headers),
        "RESOURCE_004",
    )
    assert list(error["details"]) == ["campaign_id"]
    assert_error(client.get(url("prof_1"), headers=headers), "VALIDATION_003")
    assert_error(
        client.request("DELETE", url(mine["id"], "camp_1"), json={}, headers=headers),
        "VALIDATION_003",
    )
    # Nothing of the other organization changed.
    [still] = listed(client, other.live_key, foreign["id"])
    assert still["id"] == foreign_campaign and still["name"] == CAMPAIGN["name"]


@pytest.mark.parametrize("role", ["owner", "admin", "developer", "billing"])
def test_role_matrix(server: LiveServer, client: httpx.Client, role: str) -> None:
    org = make_org(server)
    key = make_key(server, org, role=role)
    profile = make_profile(client, org)
    existing = assert_ok(create(client, org.live_key, profile["id"]), 201)["id"]
    manages = role in ("owner", "admin")
    assert listed(client, key, profile["id"])[0]["id"] == existing  # every role reads
    writes = [
        create(client, key, profile["id"]),
        client.put(
            url(profile["id"], existing), json={"campaign": CAMPAIGN}, headers={"x-api-key": key}
        ),
        client.request("DELETE", url(profile["id"], existing), json={}, headers={"x-api-key": key}),
    ]
    for response in writes:
        if manages:
            assert response.status_code in (200, 201, 204), response.text
        else:
            assert_error(response, "AUTH_004")


def test_a_profile_reads_its_own_campaigns_and_manages_none(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    mine = make_profile(client, org)
    sibling = make_profile(client, org)
    own = assert_ok(create(client, org.live_key, mine["id"]), 201)
    assert_ok(create(client, org.live_key, sibling["id"]), 201)
    profile_key = make_key(server, org, customer_id=uuid.UUID(mine["id"]))
    as_profile = {"x-api-key": org.live_key, "x-profile-id": mine["id"]}
    for headers in ({"x-api-key": profile_key}, as_profile):
        assert assert_ok(client.get(url(mine["id"]), headers=headers)) == [own]
        assert_error(client.get(url(sibling["id"]), headers=headers), "RESOURCE_004")
        response = client.post(url(mine["id"]), json={"campaign": CAMPAIGN}, headers=headers)
        assert_error(response, "AUTH_004")
        response = client.request("DELETE", url(mine["id"], own["id"]), json={}, headers=headers)
        assert_error(response, "AUTH_004")
    assert listed(client, org.live_key, mine["id"]) == [own]


def test_test_and_live_keys_see_the_same_campaigns(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    created = assert_ok(create(client, org.test_key, profile["id"]), 201)
    assert listed(client, org.live_key, profile["id"]) == [created]


def test_sandbox_validates_and_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    headers = {"x-api-key": org.live_key}
    profile = make_profile(client, org)
    created = assert_ok(create(client, org.live_key, profile["id"]), 201)

    response = create(client, org.live_key, profile["id"], sandbox=True)
    simulated = assert_ok(response, 201)
    assert response.headers["x-sandbox"] == "true" and simulated["status"] == "SENT_CREATED"
    response = client.put(
        url(profile["id"], created["id"]),
        json={"campaign": {**CAMPAIGN, "name": "Renamed"}, "sandbox": True},
        headers=headers,
    )
    assert assert_ok(response)["name"] == "Renamed" and response.headers["x-sandbox"] == "true"
    response = client.request(
        "DELETE", url(profile["id"], created["id"]), json={"sandbox": True}, headers=headers
    )
    assert response.status_code == 204 and response.headers["x-sandbox"] == "true"
    assert listed(client, org.live_key, profile["id"]) == [created]

    # Sandbox still validates and still checks the profile.
    bad = create(client, org.live_key, profile["id"], {**CAMPAIGN, "volume": "x"}, sandbox=True)
    assert_error(bad, "VALIDATION_001")
    assert_error(create(client, org.live_key, str(uuid.uuid4()), sandbox=True), "RESOURCE_004")


def test_idempotent_create_and_update(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    profile = make_profile(client, org)
    headers = {"x-api-key": org.live_key, "Idempotency-Key": f"camp-{uuid.uuid4().hex}"}
    body = {"campaign": CAMPAIGN}
    first = client.post(url(profile["id"]), json=body, headers=headers)
    second = client.post(url(profile["id"]), json=body, headers=headers)
    assert assert_ok(first, 201) == assert_ok(second, 201)
    assert second.headers["idempotent-replayed"] == "true"
    assert len(listed(client, org.live_key, profile["id"])) == 1

    campaign_id = assert_ok(first, 201)["id"]
    put_headers = {"x-api-key": org.live_key, "Idempotency-Key": f"put-{uuid.uuid4().hex}"}
    renamed = {"campaign": {**CAMPAIGN, "name": "Renamed"}}
    one = client.put(url(profile["id"], campaign_id), json=renamed, headers=put_headers)
    two = client.put(url(profile["id"], campaign_id), json=renamed, headers=put_headers)
    assert assert_ok(one) == assert_ok(two) and two.headers["idempotent-replayed"] == "true"


# -- the registry review ------------------------------------------------------------------


@pytest.fixture(scope="module")
def reviewing(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, run_workers=True)).start()
    yield live
    live.stop()


def wait_for(
    client: httpx.Client, org: Org, profile_id: str, campaign_id: str, check: Any
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        [data] = [c for c in listed(client, org.live_key, profile_id) if c["id"] == campaign_id]
        if check(data):
            return data
        assert time.monotonic() < deadline, f"campaign never reached the state: {data}"
        time.sleep(0.1)


def complete_profile(client: httpx.Client, org: Org, profile_id: str, receiver: Receiver) -> None:
    response = client.post(
        f"/v3/profiles/{profile_id}/complete",
        json={"webHookUrl": receiver.url},
        headers={"x-api-key": org.live_key},
    )
    assert assert_ok(response, 202)["status"] == "submitted"


def test_approved_profiles_campaigns_go_to_the_registry_and_become_active(
    reviewing: LiveServer,
) -> None:
    org = make_org(reviewing)
    with Receiver() as receiver, httpx.Client(base_url=reviewing.base_url, timeout=30) as client:
        profile = make_profile(client, org)
        campaign = assert_ok(create(client, org.live_key, profile["id"]), 201)
        # The campaign stays a draft while its profile is not approved.
        assert listed(client, org.live_key, profile["id"])[0]["submittedToTCR"] is False
        complete_profile(client, org, profile["id"], receiver)
        active = wait_for(
            client, org, profile["id"], campaign["id"], lambda c: c["status"] == "ACTIVE"
        )
        assert active["submittedToTCR"] is True and active["submittedAt"] is not None
        assert active["tcrCampaignId"].startswith("C") and len(active["tcrCampaignId"]) == 7
        assert active["dcaElectionsComplete"] is True and active["tcrSyncError"] is None

        response = client.put(
            url(profile["id"], campaign["id"]),
            json={"campaign": {**CAMPAIGN, "name": "Too late"}},
            headers={"x-api-key": org.live_key},
        )
        error = assert_error(response, "BUSINESS_006")
        assert list(error["details"]) == ["campaign_id"]
        assert listed(client, org.live_key, profile["id"]) == [active]

        # A campaign created for an approved profile goes to the registry by itself.
        later = assert_ok(
            create(client, org.live_key, profile["id"], {**CAMPAIGN, "name": "Later"}), 201
        )
        wait_for(client, org, profile["id"], later["id"], lambda c: c["status"] == "ACTIVE")
        # An active campaign may still be deleted.
        response = client.request(
            "DELETE",
            url(profile["id"], campaign["id"]),
            json={},
            headers={"x-api-key": org.live_key},
        )
        assert response.status_code == 204


def test_a_rejected_campaign_says_why_and_can_be_fixed(reviewing: LiveServer) -> None:
    org = make_org(reviewing)
    headers = {"x-api-key": org.live_key}
    with Receiver() as receiver, httpx.Client(base_url=reviewing.base_url, timeout=30) as client:
        profile = make_profile(client, org)
        campaign = assert_ok(
            create(client, org.live_key, profile["id"], {**CAMPAIGN, "name": "Please reject"}), 201
        )
        complete_profile(client, org, profile["id"], receiver)
        rejected = wait_for(
            client, org, profile["id"], campaign["id"], lambda c: c["tcrSyncError"] is not None
        )
        assert "Simulated rejection" in rejected["tcrSyncError"]
        assert rejected["status"] == "SENT_CREATED" and rejected["submittedToTCR"] is False
        fixed = assert_ok(
            client.put(
                url(profile["id"], campaign["id"]),
                json={"campaign": {**CAMPAIGN, "name": "Fixed"}},
                headers=headers,
            )
        )
        assert fixed["tcrSyncError"] is None and fixed["submittedAt"] is None
        wait_for(client, org, profile["id"], campaign["id"], lambda c: c["status"] == "ACTIVE")
