"""The OpenAPI document is the contract: schemathesis checks a live sentd against it.

A real uvicorn server on a database of its own, an organization with keys and one of each
resource (so operations with ids in their paths are exercised, not only answered 404), then
`st run --checks all` over every operation with a fixed seed and a bounded number of examples:
no server error, no response outside the document, no undocumented status code, no request the
document allows that sentd refuses (or the reverse).

Every exclusion below carries its reason; `EXCLUDED` is the whole list.
"""

from __future__ import annotations

import json
import os
import re
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
MAX_EXAMPLES = 20
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

# Operations that use up what they touch get resources of their own: (method, path, parameter →
# dictionary). An operation's bindings replace the global ones, so each names all its ids.
OWN_RESOURCES: list[tuple[str, str, dict[str, str]]] = [
    ("DELETE", "/v3/contacts/{contact_id}", {"contact_id": "doomed_contact_id"}),
    ("DELETE", "/v3/templates/{template_id}", {"template_id": "doomed_template_id"}),
    ("DELETE", "/v3/webhooks/{webhook_id}", {"webhook_id": "doomed_webhook_id"}),
    ("DELETE", "/v3/users/{user_id}", {"user_id": "doomed_user_id"}),
    ("DELETE", "/v3/profiles/{profile_id}", {"profile_id": "doomed_profile_id"}),
    (
        "DELETE",
        "/v3/profiles/{profile_id}/campaigns/{campaign_id}",
        {"profile_id": "profile_id", "campaign_id": "doomed_campaign_id"},
    ),
    # a scheduled message of its own: the cancel operation cancels the shared one
    ("PATCH", "/v3/messages/{message_id}", {"message_id": "doomed_scheduled_message_id"}),
]

# Phone numbers schemathesis puts in bodies: the document declares E.164's shape, but a number of
# that shape may still be unassignable (the numbering plan is not a regular expression).
PHONES = ["+14155550123", "+14155550199", "+447911123456", "+5511987654321", "+33612345678"]

LITERAL_SIBLINGS = "^/v3/(webhooks/event-types|profiles/callback-secret)$"
SIBLING_REASON = (
    "Other methods on /v3/webhooks/event-types and /v3/profiles/callback-secret reach the id route "
    "beside them (/v3/webhooks/{webhook_id}, /v3/profiles/{profile_id}; the router does not "
    "reserve a name per method): a 400 naming the id, not a UUID, as for any other id."
)

# Operations the run may not reach with a 2xx, and why; every other operation must answer at least
# one 2xx (55 of the 85 do, deletions included). This list may only shrink.
PROVIDER = "a provider callback: schemathesis cannot sign it as Twilio or Meta does"
RULES = "bodies generated at random rarely meet the rules beyond the schema (see EXCLUDED)"
REUSED = (
    "schemathesis reuses the ids it has seen across operations, so by the time this one runs "
    "its resource is often gone or changed (profile deleted, scheduled message cancelled)"
)
RANDOM_PROFILE = (
    "most generated requests carry x-profile-id (optional everywhere) with a random id, a 404 "
    "before the operation runs; the few without it seldom meet the body's rules too"
)
NO_CALL = "no call exists during the run: calls are placed by the voice engine (tests/voice)"
NEVER_SUCCEED: dict[str, str] = {
    "GET /providers/whatsapp": PROVIDER,
    "GET /providers/whatsapp/webhook": PROVIDER,
    "POST /providers/twilio/inbound": PROVIDER,
    "POST /providers/twilio/status": PROVIDER,
    "POST /providers/twilio/voice": PROVIDER,
    "POST /providers/twilio/voice/answered": PROVIDER,
    "POST /providers/twilio/voice/dial": PROVIDER,
    "POST /providers/twilio/voice/participant": PROVIDER,
    "POST /providers/twilio/voice/recording": PROVIDER,
    "POST /providers/whatsapp": PROVIDER,
    "POST /providers/whatsapp/webhook": PROVIDER,
    "POST /v3/templates": RULES,
    "PUT /v3/templates/{template_id}": RULES,
    "POST /v3/profiles/{profile_id}/campaigns": RULES,
    "PUT /v3/profiles/{profile_id}/campaigns/{campaign_id}": RULES,
    "POST /v3/profiles/{profile_id}/complete": REUSED,
    "DELETE /v3/profiles/{profile_id}/campaigns/{campaign_id}": REUSED,
    "PATCH /v3/messages/{message_id}": REUSED,
    "POST /v3/messages": RANDOM_PROFILE,
    "POST /v3/voice/tokens": RANDOM_PROFILE,
    "GET /v3/voice/calls/{call_id}": NO_CALL,
    "POST /v3/voice/calls/{call_id}/hangup": NO_CALL,
    "GET /v3/voice/calls/{call_id}/recordings": NO_CALL,
    "POST /v3/voice/calls/{call_id}/recordings": NO_CALL,
    "GET /v3/voice/recordings/{recording_id}/download": NO_CALL,
    "GET /v3/voice/calls/{call_id}/participants": NO_CALL,
    "POST /v3/voice/calls/{call_id}/participants": NO_CALL,
    "DELETE /v3/voice/calls/{call_id}/participants": NO_CALL,
    "PATCH /v3/voice/calls/{call_id}/participants/{participant_id}": NO_CALL,
    "DELETE /v3/voice/calls/{call_id}/participants/{participant_id}": NO_CALL,
}

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
        {"include-path-regex": "^/v3/(channels/voice/\\{number\\}|voice/calls$)"},
        "A voice number in the path or the query is parsed against the numbering plan: a value "
        "of E.164's shape (what the document declares) may still be unassignable, VALIDATION_002.",
    ),
    (
        "positive_data_acceptance",
        {"include-path": "/v3/profiles/{profile_id}", "include-method": "PATCH"},
        "An update is checked against the profile's current settings (billing model, inherited "
        "brand): a rule on state, which a request schema cannot state.",
    ),
    (
        "positive_data_acceptance",
        {
            "include-path-regex": "^/v3/profiles/[^/]+/campaigns",
            "include-method-regex": "^(POST|PUT)$",
        },
        "A campaign needs its profile's brand (VALIDATION_004 naming brand): a rule on the "
        "profile's state, not on the request.",
    ),
    (
        "unsupported_method",
        {"include-path-regex": LITERAL_SIBLINGS},
        SIBLING_REASON,
    ),
    (
        "allow_header_conformance",
        {"include-path-regex": LITERAL_SIBLINGS},
        SIBLING_REASON + " Their Allow (from the router) lists those methods too, truthfully.",
    ),
]


@pytest.fixture(scope="module")
def live(admin_url: str) -> Iterator[LiveServer]:
    url = databases.create_database(admin_url)
    # Rates high enough for a run's few thousand requests (the limits have tests of their own).
    rates = {
        f"rate_{kind}_{unit}": 1_000_000
        for kind in ("standard", "sensitive")
        for unit in ("per_minute", "burst")
    }
    server = LiveServer(create_app(make_settings(url, **rates), database_url=url)).start()
    yield server
    server.stop()
    databases.drop_database(admin_url, url)


def _created(client: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    response = client.post(path, json=body)
    return assert_ok(response, 202 if path == "/v3/messages" else 201)


def seed(server: LiveServer, org: Org, n: int) -> dict[str, str]:
    """One of each resource, made through the API; the ids schemathesis puts in paths."""
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        contact = _created(client, "/v3/contacts", {"phone_number": PHONES[n]})
        sent = _created(client, "/v3/messages", {"to": ["+14155550124"], "text": "Hello"})
        later = (datetime.now(UTC) + timedelta(days=2)).isoformat(timespec="seconds")
        scheduled = _created(
            client, "/v3/messages", {"to": [PHONES[2]], "text": "Later", "scheduled_at": later}
        )
        template = _created(client, "/v3/templates", {**TEMPLATE, "name": f"Shipping notice {n}"})
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
        user = _created(client, "/v3/users", {"email": f"ops{n}@acme.test", "role": "developer"})
        voice = client.post("/v3/channels/voice", json={"callback_url": RECEIVER_URL})
        voice_number = assert_ok(voice, 201)["number"]
    return {
        "contact_id": contact["id"],
        "message_id": sent["recipients"][0]["message_id"],
        "scheduled_message_id": scheduled["recipients"][0]["message_id"],
        "template_id": template["id"],
        "webhook_id": webhook["id"],
        "profile_id": profile["id"],
        "campaign_id": campaign["id"],
        "user_id": user["id"],
        "number": voice_number,
    }


def seed_campaign(server: LiveServer, org: Org, profile_id: str) -> str:
    headers = {"x-api-key": org.live_key}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:
        path = f"/v3/profiles/{profile_id}/campaigns"
        campaign = _created(client, path, {"campaign": {**CAMPAIGN, "name": "To delete"}})
    return str(campaign["id"])


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


def config(server: LiveServer, org: Org) -> str:
    """schemathesis.toml: real ids in paths most of the time (random ones otherwise, for 404s);
    DELETE operations get resources of their own, so the others keep finding theirs."""
    kept, doomed = seed(server, org, 0), seed(server, org, 1)
    # A campaign of the kept profile for DELETE (the doomed profile may be deleted first).
    doomed["campaign_id"] = seed_campaign(server, org, kept["profile_id"])
    ids = {
        **{
            name: [value]
            for name, value in kept.items()
            if name not in ("scheduled_message_id", "number")
        },
        # a sent message (cancel refused: 422) and a scheduled one (modify, cancel)
        "message_id": [kept["message_id"], kept["scheduled_message_id"]],
        "organization_id": [str(org.id)],
        "phone_number": PHONES,
        "number": [kept["number"], doomed["number"]],
        "code": ["AUTH_001", "VALIDATION_002", "RESOURCE_003"],
    }
    lines = []
    for name, values in ids.items():
        lines += [f"[dictionaries.{name}]", f"values = {_toml_value(values)}", ""]
    for name, value in doomed.items():
        lines += [f"[dictionaries.doomed_{name}]", f"values = {_toml_value([value])}", ""]
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
    lines.append("")
    for method, path, bound in OWN_RESOURCES:
        bindings = ", ".join(
            f'"path.{name}" = {{ dictionary = "{dictionary}", probability = 0.8 }}'
            for name, dictionary in bound.items()
        )
        # include-path matches every path it begins (a cancel is a message's sub-path): anchor it
        anchored = "^" + re.escape(path).replace("\\", "\\\\") + "$"
        lines += ["[[operations]]", f'include-path-regex = "{anchored}"']
        lines += [f'include-method = "{method}"']
        lines += [f"parameters = {{ {bindings} }}", ""]
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
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(config(live, org))
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
        # One worker: generation in parallel threads races inside hypothesis (its lambda-source
        # cache), which surfaces as random "Runtime Error"s in the report.
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--header",
        f"x-api-key: {org.live_key}",
        "--generation-allow-x00",
        "false",  # sentd refuses NUL in every string, keys of ignored objects too (docs/limits.md)
        "--report",
        "har",
        "--report-har-path",
        str(tmp_path / "run.har"),
    ]
    env = {
        **os.environ,
        "NO_COLOR": "1",
    }
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=DEADLINE_S, env=env, cwd=tmp_path
    )
    output = run.stdout + run.stderr
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "schemathesis.txt").write_text(output)
    assert run.returncode == 0, output[-30000:]
    unreached = operations_without_success(live, tmp_path / "run.har")
    (ARTIFACTS / "schemathesis-unreached.txt").write_text("\n".join(unreached))
    assert set(unreached) <= set(NEVER_SUCCEED), f"operations never answered 2xx: {unreached}"


def operations_without_success(server: LiveServer, har: Path) -> dict[str, str]:
    """The operations of the document that no request of the run got a 2xx from."""
    document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    templates = {
        (method.upper(), re.compile(re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$")): path
        for path, operations in document["paths"].items()
        for method in operations
    }
    succeeded: set[str] = set()
    for entry in json.loads(har.read_text())["log"]["entries"]:
        if not 200 <= entry["response"]["status"] < 300:
            continue
        method, url = entry["request"]["method"], httpx.URL(entry["request"]["url"]).path
        matches = [p for (m, regex), p in templates.items() if m == method and regex.match(url)]
        literal = min(matches, key=lambda p: p.count("{"), default=None)
        if literal is not None:
            succeeded.add(f"{method} {literal}")
    every = {f"{m} {p}" for (m, _), p in templates.items()}
    return {op: NEVER_SUCCEED.get(op, "?") for op in sorted(every - succeeded)}
