"""Request validation → the specific VALIDATION_* code, with `details` by field path."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.contract import assert_error, assert_ok

VALID = {"to": ["+14155550100"], "template": {"id": str(uuid.uuid4())}}


def post(client: httpx.Client, body: object, **headers: str) -> httpx.Response:
    return client.post("/v3/_probe/validation", json=body, headers=headers)


def test_valid_body_passes(client: httpx.Client) -> None:
    assert assert_ok(post(client, VALID))["to"] == ["+14155550100"]


def test_malformed_json_is_validation_001(client: httpx.Client) -> None:
    response = client.post(
        "/v3/_probe/validation", content=b'{"to": [', headers={"content-type": "application/json"}
    )
    error = assert_error(response, "VALIDATION_001")
    assert error["details"]


def test_wrong_json_type_is_validation_001(client: httpx.Client) -> None:
    error = assert_error(post(client, {"to": "+14155550100"}), "VALIDATION_001")
    assert list(error["details"]) == ["to"]


def test_bad_phone_is_validation_002_naming_the_index(client: httpx.Client) -> None:
    error = assert_error(post(client, {"to": ["+14155550100", "0800 FLOWERS"]}), "VALIDATION_002")
    assert list(error["details"]) == ["to[1]"]


def test_bad_uuid_is_validation_003_with_nested_path(client: httpx.Client) -> None:
    error = assert_error(post(client, {**VALID, "template": {"id": "tpl_1"}}), "VALIDATION_003")
    assert list(error["details"]) == ["template.id"]


def test_missing_field_is_validation_004(client: httpx.Client) -> None:
    error = assert_error(post(client, {}), "VALIDATION_004")
    assert error["details"] == {"to": ["This field is required"]}


@pytest.mark.parametrize("retry_count", [0, 6])
def test_out_of_range_is_validation_005(client: httpx.Client, retry_count: int) -> None:
    error = assert_error(post(client, {**VALID, "retry_count": retry_count}), "VALIDATION_005")
    assert list(error["details"]) == ["retry_count"]


def test_bad_enum_is_validation_006(client: httpx.Client) -> None:
    error = assert_error(post(client, {**VALID, "channel": "SMS"}), "VALIDATION_006")
    assert list(error["details"]) == ["channel"]


@pytest.mark.parametrize("key", ["", "a" * 256, "has space", "at@sign", "hash#", "naïve"])
def test_bad_idempotency_key_is_validation_007(client: httpx.Client, key: str) -> None:
    response = client.post(
        "/v3/_probe/validation",
        json=VALID,
        headers={"Idempotency-Key": key.encode()},
    )
    error = assert_error(response, "VALIDATION_007")
    assert list(error["details"]) == ["Idempotency-Key"]


@pytest.mark.parametrize("key", ["a", "a" * 255, "req_abc123_retry1", "send-msg-001"])
def test_good_idempotency_key_passes(client: httpx.Client, key: str) -> None:
    response = post(client, VALID, **{"Idempotency-Key": key})
    assert assert_ok(response)["idempotency_key"] == key


def test_mixed_kinds_are_validation_001_with_every_field(client: httpx.Client) -> None:
    body = {"to": ["nope"], "template": {"id": "x"}, "retry_count": 9}
    error = assert_error(post(client, body), "VALIDATION_001")
    assert set(error["details"]) == {"to[0]", "template.id", "retry_count"}


def test_malformed_path_uuid_is_validation_003(server: object, client: httpx.Client) -> None:
    from tests.factories import make_org

    org = make_org(server)  # type: ignore[arg-type]
    response = client.get("/v3/organizations/not-a-uuid", headers={"x-api-key": org.live_key})
    error = assert_error(response, "VALIDATION_003")
    assert list(error["details"]) == ["organization_id"]
