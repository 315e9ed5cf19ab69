"""The official `sentdm` SDK against a live sentd: me.retrieve and authentication errors."""

from __future__ import annotations

import pytest
import sent_dm

from tests.factories import make_org, make_profile
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


@pytest.mark.parametrize("strict", [False, True])
def test_me_retrieve(server: LiveServer, sdk: SdkFactory, strict: bool) -> None:
    org = make_org(server)
    client = sdk(org.live_key, strict=strict)
    response = client.me.retrieve()
    assert response.success is True
    assert response.data is not None
    assert response.data.id == str(org.id)
    assert response.data.type == "organization"
    assert response.data.channels is not None and response.data.channels.sms is not None
    assert response.meta is not None and response.meta.version == "v3"
    assert response.meta.request_id is not None and response.meta.request_id.startswith("req_")


def test_me_retrieve_as_profile(server: LiveServer, sdk: SdkFactory) -> None:
    org = make_org(server)
    profile = make_profile(server, org)
    client = sdk(org.test_key, strict=True)
    data = client.me.retrieve(x_profile_id=str(profile["id"])).data
    assert data is not None
    assert data.type == "profile" and data.organization_id == str(org.id)
    assert data.settings is not None and data.settings.billing_model == "profile"


def test_wrong_key_raises_authentication_error(server: LiveServer, sdk: SdkFactory) -> None:
    client = sdk("sk_live_" + "W" * 40)
    with pytest.raises(sent_dm.AuthenticationError) as raised:
        client.me.retrieve()
    assert raised.value.status_code == 401
    body = raised.value.body
    assert isinstance(body, dict)
    assert body["error"]["code"] == "AUTH_002"
    assert body["error"]["message"] == "Invalid or expired API key"


def test_foreign_profile_raises_not_found(server: LiveServer, sdk: SdkFactory) -> None:
    org, other = make_org(server), make_org(server)
    foreign = make_profile(server, other)
    client = sdk(org.live_key, max_retries=0)
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.me.retrieve(x_profile_id=str(foreign["id"]))
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "RESOURCE_004"
