"""`client.profiles.*` of the official SDK, in default and strict response validation."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
import sent_dm

from tests.conftest import build_app
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.receiver import Receiver
from tests.sdk.conftest import SdkFactory

BRAND: Any = {
    "contact": {"name": "Ana Ops", "business_name": "Acme", "phone_country_code": "1"},
    "compliance": {
        "brand_relationship": "BASIC_ACCOUNT",
        "vertical": "TECHNOLOGY",
        "destination_countries": [{"id": "US", "is_main": True}],
    },
    "business": {"legal_name": "Acme Inc", "entity_type": "PRIVATE_PROFIT"},
}
BILLING: Any = {"name": "Ana Ops", "email": "billing@acme.test"}


@pytest.fixture(autouse=True)
def _deprecated_routes_are_expected() -> Iterator[None]:
    # The SDK marks the profiles resource deprecated; calling it is the point of these tests.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


@pytest.mark.parametrize("strict", [False, True])
def test_profiles_lifecycle(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    created = client.profiles.create(
        name="Acme Shop", short_name="ACME", billing_contact=BILLING, brand=BRAND
    ).data
    assert created is not None and created.id is not None
    assert created.organization_id == str(org.id)
    assert created.brand is not None and created.brand.contact is not None
    assert created.brand.contact.business_name == "Acme"
    assert created.brand.compliance is not None
    assert created.brand.compliance.brand_relationship == "BASIC_ACCOUNT"
    assert created.brand.compliance.destination_countries is not None
    assert created.brand.compliance.destination_countries[0].is_main is True

    fetched = client.profiles.retrieve(created.id).data
    assert fetched is not None and fetched.name == "Acme Shop"

    updated = client.profiles.update(created.id, description="Our shop", icon=None).data
    assert updated is not None and updated.description == "Our shop" and updated.name == "Acme Shop"

    listed = client.profiles.list().data
    assert listed is not None and listed.profiles is not None
    assert [p.id for p in listed.profiles] == [created.id]
    assert listed.pagination is not None and listed.pagination.has_more is False

    client.profiles.delete(created.id)
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.profiles.retrieve(created.id)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "RESOURCE_004"


@pytest.fixture(scope="module")
def reviewing(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, run_workers=True)).start()
    yield live
    live.stop()


@pytest.mark.parametrize("strict", [False, True])
def test_profiles_complete(reviewing: LiveServer, strict: bool) -> None:
    org = make_org(reviewing)
    with (
        Receiver() as receiver,
        sent_dm.Sent(
            base_url=reviewing.base_url, api_key=org.live_key, _strict_response_validation=strict
        ) as client,
    ):
        profile = client.profiles.create(
            name="Acme", short_name="ACME", billing_contact=BILLING, brand=BRAND
        ).data
        assert profile is not None and profile.id is not None
        submitted = client.profiles.complete(profile.id, web_hook_url=receiver.url)
        assert submitted.data is not None and submitted.data.status == "submitted"
        receiver.wait_for(1)
        done = client.profiles.complete(profile.id, web_hook_url=receiver.url)
        assert done.data is not None and done.data.status == "completed"


def test_acting_as_a_profile_cannot_manage_profiles(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    client = sdk(org.live_key)
    profile = client.profiles.create(name="Acme", billing_model="organization").data
    assert profile is not None and profile.id is not None
    with pytest.raises(sent_dm.PermissionDeniedError) as raised:
        client.profiles.create(name="Nested", billing_model="organization", x_profile_id=profile.id)
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "AUTH_004"
    own = client.profiles.list(x_profile_id=profile.id).data
    assert own is not None and [p.id for p in own.profiles or []] == [profile.id]
