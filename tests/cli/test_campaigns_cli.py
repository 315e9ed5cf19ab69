"""`sentd profiles campaigns review ID --approve | --reject REASON` (the manual review backend), run
as a subprocess against a server whose reviews wait for an operator."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.cli.support import run_cli
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import SHOP_PROFILE
from tests.live_server import LiveServer
from tests.receiver import Receiver

CAMPAIGN = {
    "name": "Alerts",
    "description": "Account alerts",
    "type": "App",
    "useCases": [{"messagingUseCaseUs": "ACCOUNT_NOTIFICATION", "sampleMessages": ["Hi"]}],
}


@pytest.fixture
def manual_http(db_url: str, demo: dict[str, Any]) -> Iterator[httpx.Client]:
    server = LiveServer(build_app(db_url, profile_review_backend="manual", run_workers=True))
    server.start()
    try:
        with httpx.Client(base_url=server.base_url, timeout=30) as client:
            yield client
    finally:
        server.stop()


def _campaign(
    http: httpx.Client, key: str, profile: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        response = http.get(f"/v3/profiles/{profile}/campaigns", headers={"x-api-key": key})
        [data] = assert_ok(response)
        if until(data):
            return dict(data)
        assert time.monotonic() < deadline, f"campaign never reached the state: {data}"
        time.sleep(0.1)


def test_campaign_review_by_hand(
    env: dict[str, str], demo: dict[str, Any], manual_http: httpx.Client
) -> None:
    headers = {"x-api-key": demo["live_key"]}
    profile = assert_ok(manual_http.post("/v3/profiles", json=SHOP_PROFILE, headers=headers), 201)[
        "id"
    ]
    campaigns = f"/v3/profiles/{profile}/campaigns"
    campaign = assert_ok(
        manual_http.post(campaigns, json={"campaign": CAMPAIGN}, headers=headers), 201
    )["id"]
    not_yet = run_cli(env, "profiles", "campaigns", "review", campaign, "--approve")
    assert not_yet.returncode == 1 and "not awaiting review" in not_yet.stderr

    # The profile's approval sends its campaigns to the registry; the operator decides them.
    with Receiver() as receiver:
        complete = {"webHookUrl": receiver.url}
        response = manual_http.post(
            f"/v3/profiles/{profile}/complete", json=complete, headers=headers
        )
        assert_ok(response, 202)
        approved = run_cli(env, "profiles", "review", profile, "--approve")
        assert approved.returncode == 0, approved.stderr
        receiver.wait_for(1)
    submitted = _campaign(manual_http, demo["live_key"], profile, lambda c: c["submittedToTCR"])
    assert submitted["status"] == "SENT_CREATED"
    refused = manual_http.put(
        f"{campaigns}/{campaign}", json={"campaign": CAMPAIGN}, headers=headers
    )
    assert_error(refused, "BUSINESS_006")

    for args in (["--approve", "--reject", "no"], [], ["--reject", " "]):
        wrong = run_cli(env, "profiles", "campaigns", "review", campaign, *args)
        assert wrong.returncode == 1, args
    malformed = run_cli(env, "profiles", "campaigns", "review", "camp_1", "--approve")
    assert malformed.returncode == 1 and "must be a UUID" in malformed.stderr
    unknown = run_cli(env, "profiles", "campaigns", "review", str(uuid.uuid4()), "--approve")
    assert unknown.returncode == 1 and "not awaiting review" in unknown.stderr

    rejected = run_cli(env, "profiles", "campaigns", "review", campaign, "--reject", "Vague flow")
    assert rejected.returncode == 0, rejected.stderr
    assert rejected.stdout.strip() == f"campaign {campaign}: SENT_CREATED (rejected: Vague flow)"
    data = _campaign(manual_http, demo["live_key"], profile, lambda c: not c["submittedToTCR"])
    assert data["tcrSyncError"] == "Vague flow"

    # Fixed, it goes back to the registry, and this time the operator approves it.
    fixed = {"campaign": {**CAMPAIGN, "messageFlow": "Customers opt in at checkout"}}
    assert_ok(manual_http.put(f"{campaigns}/{campaign}", json=fixed, headers=headers))
    _campaign(manual_http, demo["live_key"], profile, lambda c: c["submittedToTCR"])
    result = run_cli(env, "profiles", "campaigns", "review", campaign, "--approve")
    assert result.returncode == 0, result.stderr
    active = _campaign(manual_http, demo["live_key"], profile, lambda c: True)
    assert active["status"] == "ACTIVE"
    assert result.stdout.strip() == f"campaign {campaign}: ACTIVE ({active['tcrCampaignId']})"
