"""Date-times in queries and bodies are RFC 3339 text: a number is not taken as seconds since
1970 (`?to=0.5` once listed every message up to 1970-01-01T00:00:00.5Z)."""

from __future__ import annotations

import httpx
import pytest

from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


@pytest.mark.parametrize("value", ["0.5", "1764756000", "yesterday", "2026-12-03"])
@pytest.mark.parametrize("path", ["/v3/messages", "/v3/voice/calls"])
@pytest.mark.parametrize("name", ["from", "to"])
def test_a_query_date_time_that_is_not_rfc_3339_is_refused_naming_it(
    server: LiveServer, client: httpx.Client, path: str, name: str, value: str
) -> None:
    org = make_org(server)
    response = client.get(path, params={name: value}, headers={"x-api-key": org.test_key})
    error = assert_error(response, "VALIDATION_001")
    assert name in str(error["details"])


def test_rfc_3339_date_times_are_taken(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    params = {"from": "2026-01-01T00:00:00Z", "to": "2030-01-01T00:00:00+01:00"}
    for path in ("/v3/messages", "/v3/voice/calls"):
        assert_ok(client.get(path, params=params, headers={"x-api-key": org.test_key}))


def test_a_numeric_scheduled_at_is_refused(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    body = {"to": ["+14155551234"], "text": "hi", "scheduled_at": 1893456000}
    response = client.post("/v3/messages", json=body, headers={"x-api-key": org.test_key})
    error = assert_error(response, "VALIDATION_001")
    assert "scheduled_at" in str(error["details"])
