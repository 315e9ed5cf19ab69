"""Hostile input: NUL characters and oversized strings, lists and maps are refused with the
field named, and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from sentd.api import input_limits
from sentd.api.routing import flat_routes
from sentd.app import create_app
from sentd.config import Settings
from tests.contract import assert_error, assert_ok
from tests.factories import Org, customer_counts, make_org
from tests.live_server import LiveServer

NUL = "\u0000"
PHONE = "+14155550100"


@pytest.fixture
def org(server: LiveServer) -> Org:
    return make_org(server)


def key(org: Org) -> dict[str, str]:
    return {"x-api-key": org.live_key}


# --- NUL characters ----------------------------------------------------------------------

NUL_BODIES: list[tuple[str, str, dict[str, Any], str]] = [
    ("POST", "/v3/messages", {"to": [PHONE], "text": f"hi{NUL}there"}, "text"),
    ("POST", "/v3/messages", {"to": [f"{PHONE}{NUL}"], "text": "hi"}, "to[0]"),
    ("POST", "/v3/contacts", {"phone_number": f"+1415{NUL}5550100"}, "phone_number"),
    ("POST", "/v3/users", {"email": f"a{NUL}@example.com", "role": "developer"}, "email"),
    ("POST", "/v3/users", {"email": "n@example.com", "name": NUL, "role": "developer"}, "name"),
    ("POST", "/v3/profiles", {"name": f"Shop{NUL}"}, "name"),
    (
        "POST",
        "/v3/webhooks",
        {
            "display_name": "Orders",
            "endpoint_url": f"https://example.com/{NUL}",
            "event_types": ["messages"],
        },
        "endpoint_url",
    ),
    (
        "POST",
        "/v3/templates",
        {"definition": {"body": {"multiChannel": {"template": f"Hello{NUL}"}}}},
        "definition.body.multiChannel.template",
    ),
    ("POST", "/v3/contacts", {"phone_number": PHONE, f"sand{NUL}box": True}, "sand\\u0000box"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), NUL_BODIES)
def test_nul_in_a_body_is_refused_naming_the_field(
    server: LiveServer,
    client: httpx.Client,
    org: Org,
    method: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = customer_counts(server, org.id)
    response = client.request(method, path, json=body, headers=key(org))
    error = assert_error(response, "VALIDATION_001")
    assert list(error["details"]) == [field]
    assert "NUL" in error["details"][field][0]
    assert "\x00" not in response.text and "Traceback" not in response.text
    assert customer_counts(server, org.id) == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (f"/v3/contacts?search=a{NUL}b", "search"),
        (f"/v3/webhooks?search={NUL}", "search"),
        (f"/v3/templates?search=x{NUL}", "search"),
        (f"/v3/contacts?page=1&phone=%2B1{NUL}", "phone"),
        (f"/v3/numbers/lookup/%2B1415{NUL}5550100", "path"),
    ],
)
def test_nul_in_a_query_or_path_is_refused_naming_it(
    client: httpx.Client, org: Org, path: str, field: str
) -> None:
    error = assert_error(client.get(path.replace(NUL, "%00"), headers=key(org)), "VALIDATION_001")
    assert list(error["details"]) == [field]


def test_nul_is_refused_after_authentication(client: httpx.Client) -> None:
    assert_error(client.get("/v3/contacts?search=%00"), "AUTH_001")


def test_nul_in_a_provider_form_body_is_refused(client: httpx.Client) -> None:
    response = client.post(
        "/providers/twilio/inbound",
        content=b"MessageSid=SM1&From=%2B14155550100&To=%2B14155550101&Body=hi%00",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert list(assert_error(response, "VALIDATION_001")["details"]) == ["Body"]


# --- sizes --------------------------------------------------------------------------------

WEBHOOK = {
    "display_name": "Orders",
    "endpoint_url": "https://example.com/hooks",
    "event_types": ["messages"],
}

OVERSIZE: list[tuple[str, dict[str, Any], str]] = [
    ("/v3/webhooks", {**WEBHOOK, "endpoint_url": "https://e.com/" + "a" * 2100}, "endpoint_url"),
    ("/v3/webhooks", {**WEBHOOK, "display_name": "a" * 201}, "display_name"),
    ("/v3/webhooks", {**WEBHOOK, "event_types": ["messages"] * 101}, "event_types"),
    (
        "/v3/webhooks",
        {**WEBHOOK, "event_filters": {"message": ["delivered"] * 51}},
        "event_filters.message",
    ),
    (
        "/v3/webhooks",
        {**WEBHOOK, "event_filters": {f"family{i}": ["x"] for i in range(21)}},
        "event_filters",
    ),
    (
        "/v3/messages",
        {"to": [PHONE], "channel": ["mms"], "media_urls": ["https://example.com/a.png"] * 11},
        "media_urls",
    ),
    (
        "/v3/messages",
        {"to": [PHONE], "channel": ["mms"], "media_urls": ["https://example.com/" + "a" * 2048]},
        "media_urls[0]",
    ),
    ("/v3/messages", {"to": [PHONE], "text": "a" * 4097}, "text"),
    (
        "/v3/messages",
        {"to": [PHONE], "template": {"name": "t", "parameters": {f"p{i}": "" for i in range(101)}}},
        "template.parameters",
    ),
    ("/v3/contacts", {"phone_number": "+1" + "5" * 100}, "phone_number"),
    ("/v3/profiles", {"name": "Shop", "description": "d" * 1001}, "description"),
    # Free-form parts fall under the general ceilings.
    ("/v3/templates", {"definition": {"body": {"x": "a" * 8193}}}, "definition.body.x"),
    ("/v3/templates", {"definition": {"body": {"x": list(range(1001))}}}, "definition.body.x"),
    ("/v3/messages", {"to": [PHONE], "text": "hi", "channels": {"sms": [{"from": ["x"] * 1001}]}},
     "channels.sms[0].from"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "field"), OVERSIZE)
def test_oversized_fields_are_validation_005_naming_the_field(
    server: LiveServer,
    client: httpx.Client,
    org: Org,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    before = customer_counts(server, org.id)
    error = assert_error(client.post(path, json=body, headers=key(org)), "VALIDATION_005")
    assert field in error["details"], error
    assert customer_counts(server, org.id) == before
    webhooks = assert_ok(client.get("/v3/webhooks", headers=key(org)))["webhooks"]
    assert webhooks == []


def test_deep_nesting_is_refused(client: httpx.Client, org: Org) -> None:
    deep: Any = "x"
    for _ in range(30):
        deep = {"a": deep}
    error = assert_error(
        client.post("/v3/templates", json={"definition": deep}, headers=key(org)), "VALIDATION_005"
    )
    assert any("levels" in m for messages in error["details"].values() for m in messages)


def test_long_query_values_are_refused(client: httpx.Client, org: Org) -> None:
    error = assert_error(
        client.get("/v3/messages", params={"status": "S" * 3000}, headers=key(org)),
        "VALIDATION_005",
    )
    assert list(error["details"]) == ["status"]


def test_json_that_postgresql_could_not_store_is_refused(client: httpx.Client, org: Org) -> None:
    for raw in (b'{"to": ["+14155550100"], "text": "\\ud800"}', b'{"to": [], "text": NaN}'):
        response = client.post(
            "/v3/messages", content=raw, headers={**key(org), "content-type": "application/json"}
        )
        assert list(assert_error(response, "VALIDATION_001")["details"]) == ["body"]


def test_a_body_within_every_bound_is_accepted(client: httpx.Client, org: Org) -> None:
    body = {
        **WEBHOOK,
        "endpoint_url": "https://example.com/" + "a" * 2000,
        "event_filters": {"message": ["delivered", "failed"]},
    }
    data = assert_ok(client.post("/v3/webhooks", json=body, headers=key(org)), 201)
    assert data["endpoint_url"] == body["endpoint_url"]


# --- every body field has a bound ------------------------------------------------------------

# Strings whose bound is enforced by a validator rather than by a length in the schema.
BOUNDED_BY_VALIDATOR = {
    "E.164 numbers (16 characters)": {"to[]", "sending_phone_number", "whatsapp_phone_number"},
    "short_name (3 to 11 characters)": {"short_name"},
}  # fmt: skip
FREE_FORM = {"definition", "channels{}"}  # under the general ceilings of sentd.api.input_limits


def _unbounded(schema: dict[str, Any], defs: dict[str, Any], path: str) -> Iterator[str]:
    if "$ref" in schema:
        yield from _unbounded(defs[schema["$ref"].split("/")[-1]], defs, path)
        return
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        yield from _unbounded(option, defs, path)
    kind = schema.get("type")
    if kind == "string":
        if not ({"maxLength", "enum", "const", "format", "pattern"} & set(schema)):
            yield path
    elif kind == "array":
        if "maxItems" not in schema:
            yield path
        yield from _unbounded(schema.get("items", {}), defs, f"{path}[]")
    elif kind == "object":
        for name, child in schema.get("properties", {}).items():
            yield from _unbounded(child, defs, f"{path}.{name}" if path else name)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            if "maxProperties" not in schema:
                yield path
            yield from _unbounded(
                schema.get("propertyNames", {"maxLength": 0}), defs, f"{path}{{key}}"
            )
            yield from _unbounded(extra, defs, f"{path}{{}}")


def test_every_string_list_and_map_of_every_body_is_bounded() -> None:
    app = create_app(Settings(database_url="postgresql://unused/unused"))
    exempt = set().union(*BOUNDED_BY_VALIDATOR.values()) | FREE_FORM
    unbounded = []
    for route in flat_routes(app.router.routes):
        if not isinstance(route, APIRoute) or route.body_field is None:
            continue
        schema = TypeAdapter(route.body_field.field_info.annotation).json_schema()
        for path in _unbounded(schema, schema.get("$defs", {}), ""):
            leaf = path.split(".")[-1]
            if path not in exempt and leaf not in exempt:
                unbounded.append(f"{sorted(route.methods)} {route.path}: {path}")
    assert unbounded == []


def test_the_general_ceilings_name_the_path() -> None:
    error = input_limits.check_json_value({"a": [{"b": "x" * (input_limits.MAX_STRING + 1)}]})
    assert error is not None and error.code == "VALIDATION_005"
    assert list(error.details) == ["a[0].b"]
    assert input_limits.check_json_value({"a": ["fine", {"b": 1}]}) is None


def test_unknown_route_ids_stay_404_not_400(client: httpx.Client, org: Org) -> None:
    assert_error(client.get(f"/v3/contacts/{uuid.uuid4()}", headers=key(org)), "RESOURCE_001")
