"""Assertions every route's tests share: the envelope, the standard headers, catalog errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from sentd.errors.catalog import get_spec


def assert_standard_headers(response: httpx.Response) -> None:
    assert response.headers["x-api-version"] == "v3"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.headers["x-response-time"].endswith("ms")


def assert_envelope(response: httpx.Response) -> dict[str, Any]:
    assert_standard_headers(response)
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert set(body) == {"success", "data", "error", "meta"}
    meta = body["meta"]
    assert meta["version"] == "v3"
    # A replay carries the first response's body, whose request id X-Original-Request-Id names.
    replayed = response.headers.get("idempotent-replayed") == "true"
    request_id_header = "x-original-request-id" if replayed else "x-request-id"
    assert meta["request_id"] == response.headers[request_id_header]
    assert datetime.fromisoformat(meta["timestamp"]).tzinfo is not None
    return body


def assert_ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = assert_envelope(response)
    assert body["success"] is True
    assert body["error"] is None
    return body["data"]


def assert_error(response: httpx.Response, code: str) -> dict[str, Any]:
    """The response is catalog error `code`: status, message, envelope, retry hint, doc_url."""
    spec = get_spec(code)
    assert response.status_code == spec.status, response.text
    body = assert_envelope(response)
    assert body["success"] is False
    assert body["data"] is None
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert error["message"] == spec.message
    assert error["doc_url"].endswith(f"/errors/{code}")
    expected_retry = "true" if spec.retryable else "false"
    assert response.headers["x-should-retry"] == expected_retry
    return error
