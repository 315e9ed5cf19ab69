"""`sentd templates review ID --approve | --reject REASON` (the manual review backend), run as a
subprocess against a server whose templates wait for an operator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.cli.support import run_cli
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.live_server import LiveServer

DEFINITION = {
    "body": {
        "multiChannel": {
            "template": "Hi {{0:name}}, your booking is confirmed for tomorrow.",
            "variables": [
                {"id": 0, "name": "name", "type": "variable", "props": {"sample": "Ada"}}
            ],
        }
    }
}


@pytest.fixture
def manual_http(db_url: str, demo: dict[str, Any]) -> Iterator[httpx.Client]:
    server = LiveServer(build_app(db_url, template_review_backend="manual", run_workers=True))
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def _create(http: httpx.Client, key: str, **body: Any) -> dict[str, Any]:
    response = http.post(
        "/v3/templates", json={"definition": DEFINITION, **body}, headers={"x-api-key": key}
    )
    data: dict[str, Any] = assert_ok(response, 201)
    return data


def _status(http: httpx.Client, key: str, template_id: str) -> dict[str, Any]:
    data: dict[str, Any] = assert_ok(
        http.get(f"/v3/templates/{template_id}", headers={"x-api-key": key})
    )
    return data


def test_review_by_hand(
    env: dict[str, str], demo: dict[str, Any], manual_http: httpx.Client
) -> None:
    key = demo["live_key"]
    draft = _create(manual_http, key, name="Draft")
    not_yet = run_cli(env, "templates", "review", draft["id"], "--approve")
    assert not_yet.returncode == 1 and "not awaiting review" in not_yet.stderr

    pending = _create(manual_http, key, name="Booking", submit_for_review=True)
    assert pending["status"] == "PENDING"
    for args in (["--approve", "--reject", "no"], [], ["--reject", " "]):
        wrong = run_cli(env, "templates", "review", pending["id"], *args)
        assert wrong.returncode == 1, args
    malformed = run_cli(env, "templates", "review", "tpl_1", "--approve")
    assert malformed.returncode == 1 and "must be a UUID" in malformed.stderr
    unknown = run_cli(env, "templates", "review", str(uuid.uuid4()), "--approve")
    assert unknown.returncode == 1 and "not awaiting review" in unknown.stderr

    # The worker loops run, yet a manual review waits for the operator.
    assert _status(manual_http, key, pending["id"])["status"] == "PENDING"
    result = run_cli(env, "templates", "review", pending["id"], "--reject", "Too vague")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"template {pending['id']}: REJECTED (Too vague)"
    data = _status(manual_http, key, pending["id"])
    assert data["status"] == "REJECTED" and data["rejection_reason"] == "Too vague"

    again = assert_ok(
        manual_http.put(
            f"/v3/templates/{pending['id']}",
            json={"submit_for_review": True},
            headers={"x-api-key": key},
        )
    )
    assert again["status"] == "PENDING"
    result = run_cli(env, "templates", "review", pending["id"], "--approve")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"template {pending['id']}: APPROVED"
    data = _status(manual_http, key, pending["id"])
    assert data["status"] == "APPROVED" and data["is_published"] is True
    twice = run_cli(env, "templates", "review", pending["id"], "--approve")
    assert twice.returncode == 1 and "not awaiting review" in twice.stderr
