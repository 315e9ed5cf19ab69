"""`client.profiles.campaigns.*` of the official SDK: all four operations, in default and strict
response validation, with live and test keys."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sent_dm
from sent_dm.types.profiles import BrandCampaign

from tests.factories import make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory
from tests.sdk.test_profiles import BILLING, BRAND

CAMPAIGN: Any = {
    "name": "Order updates",
    "description": "Shipping notices for orders placed on acme.test",
    "type": "App",
    "use_cases": [
        {
            "messaging_use_case_us": "DELIVERY_NOTIFICATION",
            "sample_messages": ["Acme: order 123 has shipped. Reply STOP to opt out."],
        }
    ],
    "help_keywords": "HELP",
    "optout_keywords": "STOP",
    "terms_and_conditions_link": "https://acme.test/terms",
    "volume": "1999",
}


@pytest.fixture(autouse=True)
def _deprecated_routes_are_expected() -> Iterator[None]:
    # The SDK marks profile campaigns deprecated; calling them is the point of these tests.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.mark.parametrize("mode", ["live", "test"])
@pytest.mark.parametrize("strict", [False, True])
def test_campaigns_lifecycle(server: LiveServer, sdk: SdkFactory, strict: bool, mode: str) -> None:
    org = make_org(server)
    client = sdk(org.live_key if mode == "live" else org.test_key, strict=strict)
    profile = client.profiles.create(
        name="Acme Shop", short_name="ACME", billing_contact=BILLING, brand=BRAND
    ).data
    assert profile is not None and profile.id is not None and profile.brand is not None

    created = client.profiles.campaigns.create(profile.id, campaign=CAMPAIGN).data
    assert isinstance(created, BrandCampaign) and created.id is not None
    assert created.customer_id == profile.id and created.brand_id == profile.brand.id
    assert created.status == "SENT_CREATED" and created.submitted_to_tcr is False
    assert created.volume == "1999" and created.help_keywords == "HELP"
    assert created.created_at is not None and created.updated_at is not None
    assert created.use_cases is not None
    [use_case] = created.use_cases
    assert use_case.messaging_use_case_us == "DELIVERY_NOTIFICATION"
    assert use_case.campaign_id == created.id and use_case.created_at is not None

    listed = client.profiles.campaigns.list(profile.id).data
    assert listed is not None and [c.id for c in listed] == [created.id]

    changed = {**CAMPAIGN, "name": "Order and delivery updates", "volume": "5000"}
    updated = client.profiles.campaigns.update(
        created.id, profile_id=profile.id, campaign=changed, idempotency_key="camp-update-1"
    ).data
    assert updated is not None and updated.id == created.id
    assert updated.name == "Order and delivery updates" and updated.volume == "5000"
    assert updated.use_cases is not None and updated.use_cases[0].id == use_case.id

    assert client.profiles.campaigns.delete(created.id, profile_id=profile.id) is None
    assert client.profiles.campaigns.list(profile.id).data == []


@pytest.mark.parametrize("strict", [False, True])
def test_errors_map_to_sdk_exceptions(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org, other = make_org(server), make_org(server)
    client = sdk(org.live_key, strict=strict)
    profile = client.profiles.create(name="Acme", billing_model="organization", brand=BRAND).data
    assert profile is not None and profile.id is not None

    with pytest.raises(sent_dm.BadRequestError) as bad:
        client.profiles.campaigns.create(
            profile.id,
            campaign={
                **CAMPAIGN,
                "use_cases": [{**CAMPAIGN["use_cases"][0], "sample_messages": ["x"] * 6}],
            },
        )
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["error"]["code"] == "VALIDATION_005"
    assert "campaign.useCases[0].sampleMessages" in bad.value.body["error"]["details"]

    foreign = sdk(other.live_key, strict=strict)
    for call in (
        lambda: foreign.profiles.campaigns.list(profile.id),
        lambda: foreign.profiles.campaigns.create(profile.id, campaign=CAMPAIGN),
    ):
        with pytest.raises(sent_dm.NotFoundError) as missing:
            call()
        assert isinstance(missing.value.body, dict)
        assert missing.value.body["error"]["code"] == "RESOURCE_004"

    sandboxed = client.profiles.campaigns.create(profile.id, campaign=CAMPAIGN, sandbox=True)
    assert sandboxed.data is not None and sandboxed.data.status == "SENT_CREATED"
    assert client.profiles.campaigns.list(profile.id).data == []
