"""The OpenAPI document is the contract: schemathesis checks a live sentd against it.

A real uvicorn server on a database of its own, an organization with keys and one of each
resource (so operations with ids in their paths are exercised, not only answered 404), then
`st run --checks all` over every operation with a fixed seed and a bounded number of examples:
no server error, no response outside the document, no undocumented status code, no request the
document allows that sentd refuses (or the reverse).

Every exclusion below carries its reason; `EXCLUDED` is the whole list.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from sentd.app import create_app
from tests import databases
from tests.conftest import make_settings
from tests.contract import assert_ok
from tests.factories import Org, make_org
from tests.live_server import LiveServer

ARTIFACTS = Path(os.environ.get("SENTD_TEST_ARTIFACTS", Path(__file__).parents[2] / "artifacts"))
SEED = 18
MAX_EXAMPLES = 8
DEADLINE_S = 600  # a generous ceiling for a loaded 2-core machine; the run takes ~1-2 minutes
RECEIVER_URL = "http://127.0.0.1:9/hooks"  # never called: the test endpoint is not exercised live

CAMPAIGN: dict[str, Any] = {
    "name": "Order updates",
    "description": "Shipping notices for orders placed on acme.test",
    "type": "App",
    "useCases": [
        {
            "messagingUseCaseUs": "DELIVERY_NOTIFICATION",
            "sampleMessages": ["Acme: your order 123 has shipped. Reply STOP to opt out."],
        }
    ],
    "volume": "1999",
}
TEMPLATE: dict[str, Any] = {
    "name": "Shipping notice",
    "definition": {
        "body": {
            "multiChannel": {
                "template": "Hi {{0:name}}, your order has shipped.",
                "type": "text",
                "variables": [
                    {"id": 0, "name": "name", "type": "variable", "props": {"sample": "Ada"}}
                ],
            }
        }
    },
}

# A schema-valid request may still break a business rule that depends on state, which the catalog
# answers with 422 (IDEMPOTENCY_001: a key reused for another operation; BUSINESS_006: cancelling
# a message already sent; ACCOUNT_00x: quotas and balance). 400 stays unexpected: what a schema
# can say, the document says.
ACCEPTANCE_EXPECTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

# Phone numbers schemathesis puts in bodies: the document declares E.164's shape, but a number of
# that shape may still be unassignable (the numbering plan is not a regular expression).
PHONES = ["+14155550123", "+14155550199", "+447700900123", "+5511987654321"]

# (check, operation filter, reason): each one a decision, written down.
EXCLUDED: list[tuple[str, dict[str, str], str]] = [
    (
        "positive_data_acceptance",
        {"include-path-regex": "^/v3/templates", "include-method-regex": "^(POST|PUT)$"},
        "A template definition's rules (placeholders matching variables, per-channel limits, "
        "buttons) are checked by sentd.templating; the document gives its shape, not its grammar.",
    ),
    (
        "positive_data_acceptance",
        {"include-path": "/v3/profiles/{profile_id}", "include-method": "PATCH"},
        "An update is checked against the profile's current settings (billing model, inherited "
        "brand): a rule on state, which a request schema cannot state.",
    ),
    (
        "positive_data_acceptance",
        {"include-path-regex": "^/v3/profiles/[^/]+/campaigns"},
        "A campaign needs its profile's brand (VALIDATION_004 naming brand): a rule on the "
        "profile's state, not on the request.",
    ),
    (
        "unsupported_method",
        {"include-path": "/v3/webhooks/event-types"},
        "PUT and DELETE on /v3/webhooks/event-types reach /v3/webhooks/{webhook_id}, whose id is "
        "not a UUID there: 400 VALIDATION_003 naming webhook_id, as for any other non-UUID id.",
    ),
]


@pytest.fixture(scope="module")
def live(admin_url: str) -> Iterator[LiveServer]:
    url = databases.create_database(admin_url)
    server = LiveServer(create_app(make_settings(url), database_url=url)).start()
    yield server
    server.stop()
    databases.drop_database(admin_url, url)


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body)
    return assert_ok(response, 202 if path == "/v3/messages" else 201)


def seed(server: LiveServer, org: Org) -> dict[str, list[str]]:
    """One of each resource, made through the API; the ids schemathesis puts in paths."""
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        contact = _created(client, "/v3/contacts", {"phone_number": "+14155550123"})
        sent = _created(client, "/v3/messages", {"to": ["+14155550124"], "text": "Hello"})
        template = _created(client, "/v3/templates", TEMPLATE)
        webhook = _created(
            client,
            "/v3/webhooks",
            {"display_name": "Orders", "endpoint_url": RECEIVER_URL, "event_types": ["messages"]},
        )
        profile = _created(
            client,
            "/v3/profiles",
            {
                "name": "Acme Shop",
                "billing_model": "organization",
                "brand": {
                    "contact": {"name": "Ana Ops", "businessName": "Acme"},
                    "compliance": {"brandRelationship": "BASIC_ACCOUNT", "vertical": "TECHNOLOGY"},
                },
            },
        )
        campaign = _created(
            client, f"/v3/profiles/{profile['id']}/campaigns", {"campaign": CAMPAIGN}
        )
        user = _created(client, "/v3/users", {"email": "ops@acme.test", "role": "developer"})
    return {
        "contact_id": [contact["id"]],
        "message_id": [sent["recipients"][0]["message_id"]],
        "template_id": [template["id"]],
        "webhook_id": [webhook["id"]],
        "profile_id": [profile["id"]],
        "campaign_id": [campaign["id"]],
        "user_id": [user["id"]],
        "organization_id": [str(org.id)],
        "phone_number": ["+14155550123", "+447700900123"],
        "code": ["AUTH_001", "VALIDATION_002", "RESOURCE_003"],
    }


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(value)


def config(ids: dict[str, list[str]]) -> str:
    """schemathesis.toml: real ids in paths most of the time (random ones otherwise, for 404s)."""
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml_value(values)}", ""]
    lines += ["[dictionaries.phones]", f"values = {_toml_value(PHONES)}", ""]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).isoformat(timespec="seconds")
    lines += ["[dictionaries.schedule]", f"values = {_toml_value([tomorrow])}", ""]
    lines += [
        "[checks.positive_data_acceptance]",
        f"expected-statuses = {_toml_value(ACCEPTANCE_EXPECTED)}",
        "",
    ]
    lines.append("[parameters]")
    for name in ids:
        lines.append(f'"path.{name}" = {{ dictionary = "{name}", probability = 0.8 }}')
    lines.append('"body.phone_number" = { dictionary = "phones", probability = 1.0 }')
    lines.append('"body.to[*]" = { dictionary = "phones", probability = 1.0 }')
    for field in ("sending_phone_number", "whatsapp_phone_number"):
        lines.append(f'"body.{field}" = {{ dictionary = "phones", probability = 1.0 }}')
    # A schedule inside the window the server allows (1 minute to 30 days from now).
    lines.append('"body.scheduled_at" = { dictionary = "schedule", probability = 1.0 }')
    # Acting as the seeded profile half the time (a random profile id is a plain 404).
    lines.append('"header.x-profile-id" = { dictionary = "profile_id", probability = 0.5 }')
    lines.append("")
    for check, where, _reason in EXCLUDED:
        lines.append("[[operations]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in where.items()]
        lines += [f"checks.{check}.enabled = false", ""]
    return "\n".join(lines)


def test_sentd_keeps_its_openapi_contract(live: LiveServer, tmp_path: Path) -> None:
    """Every check of schemathesis 4 is on by default (as `--checks all`, without the response
    time limit); the config file turns off only the exclusions listed in EXCLUDED, which a
    `--checks` option on the command line would override."""
    org = make_org(live)
    ids = seed(live, org)
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(ids))
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--no-color",
        "--config-file",
        str(config_file),
        "run",
        f"{live.base_url}/openapi.json",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--generation-database",
        "none",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--header",
        f"x-api-key: {org.live_key}",
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / "junit.xml"),
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=DEADLINE_S, env=env, cwd=tmp_path
    )
    output = run.stdout + run.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(output)
    assert run.returncode == 0, output[-30000:]
