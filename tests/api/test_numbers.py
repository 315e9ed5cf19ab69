"""`GET /v3/numbers/lookup/{phone_number}`: offline answers, provider first, fallback, 502."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def lookup(client: httpx.Client, key: str, raw_path: str) -> httpx.Response:
    # Send the path as given: httpx would otherwise normalise it.
    url = httpx.URL(str(client.base_url).rstrip("/") + "/v3/numbers/lookup/").copy_with(
        raw_path=f"/v3/numbers/lookup/{raw_path}".encode()
    )
    return client.get(url, headers={"x-api-key": key})


@pytest.mark.parametrize("raw", ["+14155550100", "%2B14155550100"])
def test_plus_literal_or_encoded(server: LiveServer, client: httpx.Client, raw: str) -> None:
    org = make_org(server)
    data = assert_ok(lookup(client, org.live_key, raw))
    assert data == {
        "phone_number": "+14155550100",
        "country_code": "1",
        "carrier_name": None,
        "line_type": "mobile",
        "is_valid": True,
        "is_voip": False,
        "is_ported": None,
        "mobile_country_code": None,
        "mobile_network_code": None,
    }


def test_carrier_and_line_types(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    assert assert_ok(lookup(client, org.live_key, "+919876543210"))["carrier_name"] == "Airtel"
    assert assert_ok(lookup(client, org.live_key, "+442071838750"))["line_type"] == "landline"
    assert assert_ok(lookup(client, org.live_key, "+18005550100"))["line_type"] == "toll_free"


def test_e164_shaped_but_unassigned_is_not_valid(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(lookup(client, org.live_key, "+1415555"))
    assert data["is_valid"] is False and data["phone_number"] == "+1415555"


@pytest.mark.parametrize("raw", ["14155550100", "+1%20415%20555%200100", "%2B0123", "abc"])
def test_not_e164_is_validation_002(server: LiveServer, client: httpx.Client, raw: str) -> None:
    org = make_org(server)
    error = assert_error(lookup(client, org.live_key, raw), "VALIDATION_002")
    assert list(error["details"]) == ["phone_number"]


class FakeProvider:
    """Stands in for a provider's lookup (the real ones arrive with the providers subsystem)."""

    name = "fake"

    def __init__(self, answer: dict[str, Any] | None) -> None:
        self.answer = answer
        self.calls: list[str] = []

    async def lookup(self, e164: str) -> dict[str, Any]:
        self.calls.append(e164)
        if self.answer is None:
            raise ConnectionError("provider down")
        return self.answer


@pytest.fixture
def provider_server(database_url: str, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    live = LiveServer(build_app(database_url, lookup_mode=request.param)).start()
    yield live
    live.stop()


@pytest.mark.parametrize("provider_server", ["auto"], indirect=True)
def test_provider_first_then_fallback(provider_server: LiveServer) -> None:
    org = make_org(provider_server)
    rich = FakeProvider(
        {
            "carrier_name": "T-Mobile USA",
            "is_ported": True,
            "mobile_country_code": "310",
            "mobile_network_code": "260",
        }
    )
    provider_server.app.state.lookup_providers = [rich]
    with httpx.Client(base_url=provider_server.base_url) as client:
        data = assert_ok(lookup(client, org.live_key, "+14155550100"))
        assert rich.calls == ["+14155550100"]
        assert data["carrier_name"] == "T-Mobile USA" and data["is_ported"] is True
        assert data["line_type"] == "mobile"  # offline fields the provider did not give stay
        provider_server.app.state.lookup_providers = [FakeProvider(None)]
        data = assert_ok(lookup(client, org.live_key, "+14155550100"))
        assert data["carrier_name"] is None and data["is_valid"] is True


@pytest.mark.parametrize("provider_server", ["provider"], indirect=True)
def test_provider_only_failure_is_internal_003(provider_server: LiveServer) -> None:
    org = make_org(provider_server)
    provider_server.app.state.lookup_providers = [FakeProvider(None)]
    with httpx.Client(base_url=provider_server.base_url) as client:
        response = lookup(client, org.live_key, "+14155550100")
        assert_error(response, "INTERNAL_003")
        assert response.headers["x-should-retry"] == "true"
