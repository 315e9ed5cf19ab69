"""`/v3/templates` over HTTP: definitions and their validation, reads, updates and the review
workflow, inheritance, quotas, sandbox, and the three review backends (the simulator, WhatsApp
against a local fake of the Cloud API, and — in tests/cli — the operator)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sentd.api.routes import whatsapp_webhook
from sentd.app import create_app
from sentd.errors.exceptions import ApiError
from sentd.services import templates
from tests.conftest import build_app, make_settings
from tests.contract import assert_error, assert_ok
from tests.factories import Org, make_key, make_org, make_profile, set_limits, table_counts
from tests.fakes.whatsapp import FakeWhatsApp, send_status_update, status_update, subscribe
from tests.live_server import LiveServer


def var(index: int, name: str, sample: str = "sample", **extra: Any) -> dict[str, Any]:
    return {"id": index, "name": name, "type": "variable", "props": {"sample": sample}, **extra}


GREETING = "Hi {{0:name}}, your order {{1:order_id}} has shipped and arrives soon."
VARIABLES = [var(0, "name", "Ada"), var(1, "order_id", "A-100")]


def definition(
    text: str = GREETING, variables: list[dict[str, Any]] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "body": {
            "multiChannel": {
                "template": text,
                "type": "text",
                "variables": VARIABLES if variables is None else variables,
            }
        },
        **extra,
    }


def create(client: httpx.Client, key: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    return client.post("/v3/templates", json=body, headers={"x-api-key": key, **headers})


def created(client: httpx.Client, key: str, **body: Any) -> dict[str, Any]:
    body.setdefault("definition", definition())
    data: dict[str, Any] = assert_ok(create(client, key, body), 201)
    return data


def put(client: httpx.Client, key: str, template_id: str, body: dict[str, Any]) -> httpx.Response:
    return client.put(f"/v3/templates/{template_id}", json=body, headers={"x-api-key": key})


def get(client: httpx.Client, key: str, template_id: str, **headers: str) -> httpx.Response:
    return client.get(f"/v3/templates/{template_id}", headers={"x-api-key": key, **headers})


def delete(client: httpx.Client, key: str, template_id: str, **headers: str) -> httpx.Response:
    return client.request(
        "DELETE", f"/v3/templates/{template_id}", json={}, headers={"x-api-key": key, **headers}
    )


def listed(client: httpx.Client, key: str, query: str = "", **headers: str) -> dict[str, Any]:
    response = client.get(f"/v3/templates{query}", headers={"x-api-key": key, **headers})
    data: dict[str, Any] = assert_ok(response)
    return data


def approve(server: LiveServer, template_id: str) -> None:
    """The operator's verdict, as `sentd templates review ID --approve` records it."""
    row = server.run(
        templates.record_review(
            server.app.state.db,
            uuid.UUID(template_id),
            approved=True,
            reason=None,
            now=server.app.state.clock.now(),
        )
    )
    assert row is not None and row["status"] == "APPROVED"


def wait_for_status(
    client: httpx.Client, key: str, template_id: str, status: str, timeout: float = 10.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        data: dict[str, Any] = assert_ok(get(client, key, template_id))
        if data["status"] == status:
            return data
        assert time.monotonic() < deadline, f"still {data['status']}, not {status}"
        time.sleep(0.05)


# -- create and read ----------------------------------------------------------------------


def test_create_reads_back_with_defaults(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = created(client, org.live_key)
    assert data["customer_id"] == str(org.id)
    assert data["status"] == "DRAFT" and data["is_published"] is False
    assert data["language"] == "en_US"
    assert data["category"] == "UTILITY"  # nothing promotional, no one-time code
    assert data["name"] == "hi_name_your_order_order_id"
    assert data["channels"] == ["sms", "whatsapp", "rcs", "mms"]
    assert data["variables"] == ["name", "order_id"]
    assert data["is_inherited"] is False and data["rejection_reason"] is None
    assert data["definition"]["body"]["multiChannel"]["template"] == GREETING
    assert "auto_reply_action" not in data
    assert assert_ok(get(client, org.live_key, data["id"])) == data


def test_variables_are_inferred_from_placeholders_when_none_are_declared(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    raw = {
        "header": {"type": "text", "template": "Order {{2:order_id}}"},
        "body": {"multiChannel": {"template": GREETING, "type": "text"}},
        "footer": {"template": "Sent to {{0:name}} by us", "variables": []},
    }
    data = created(client, org.live_key, definition=raw)
    assert data["variables"] == ["order_id", "name"]
    stored = data["definition"]
    assert stored["body"]["multiChannel"]["variables"] == [
        {"id": 0, "name": "name", "type": "variable", "props": {"sample": "name"}},
        {"id": 1, "name": "order_id", "type": "variable", "props": {"sample": "order_id"}},
    ]
    assert [(v["id"], v["name"]) for v in stored["header"]["variables"]] == [(2, "order_id")]
    assert [(v["id"], v["name"]) for v in stored["footer"]["variables"]] == [(0, "name")]
    assert assert_ok(get(client, org.live_key, data["id"]))["definition"] == stored
    # Declared variables must still match the placeholders.
    mismatched = definition(variables=[var(0, "name", "Ada"), var(1, "order", "A-1")])
    error = assert_error(create(client, org.live_key, {"definition": mismatched}), "VALIDATION_001")
    assert "definition.body.multiChannel.template" in error["details"]
    inconsistent = {"body": {"multiChannel": {"template": "Hi {{0:a}}, {{0:b}} is here today."}}}
    error = assert_error(
        create(client, org.live_key, {"definition": inconsistent}), "VALIDATION_001"
    )
    assert "definition.body.multiChannel.template" in error["details"]


def test_explicit_fields_and_the_sms_whatsapp_pair(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    sms = {
        "template": "Your code {{0:code}} is valid for ten minutes only.",
        "variables": [var(0, "code", "123456")],
    }
    whatsapp = {"template": "Use {{0:code}} to sign in to your account now."}
    whatsapp["variables"] = [var(0, "code", "123456")]  # type: ignore[assignment]
    data = created(
        client,
        org.live_key,
        definition={
            "body": {"sms": sms, "whatsapp": whatsapp},
            "footer": {"template": "Do not share it"},
        },
        category="AUTHENTICATION",
        language="pt_BR",
        name="Sign-in code",
    )
    assert (data["category"], data["language"], data["name"]) == (
        "AUTHENTICATION",
        "pt_BR",
        "Sign-in code",
    )
    assert data["channels"] == ["sms", "whatsapp", "rcs", "mms"]  # rcs and mms fall back to sms
    assert data["variables"] == ["code"]


@pytest.mark.parametrize(
    ("text", "extra", "category"),
    [
        ("Your verification code is {{0:code}} and it expires soon.", {}, "AUTHENTICATION"),
        ("Big summer sale: {{0:name}}, take 20% off everything this week.", {}, "MARKETING"),
        (GREETING, {"authenticationConfig": {"codeExpirationMinutes": 5}}, "AUTHENTICATION"),
        (GREETING, {}, "UTILITY"),
    ],
)
def test_category_is_detected_when_absent(
    server: LiveServer, client: httpx.Client, text: str, extra: dict[str, Any], category: str
) -> None:
    org = make_org(server)
    variables = [var(0, "code")] if "{{0:code}}" in text else None
    if "{{0:name}}" in text and "order_id" not in text:
        variables = [var(0, "name")]
    data = created(client, org.live_key, definition=definition(text, variables, **extra))
    assert data["category"] == category


def test_derived_names_stay_unique_and_explicit_ones_must_be(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    names = [created(client, org.live_key)["name"] for _ in range(3)]
    assert names == [
        "hi_name_your_order_order_id",
        "hi_name_your_order_order_id_2",
        "hi_name_your_order_order_id_3",
    ]
    other = created(client, org.live_key, name="Welcome")
    error = assert_error(
        create(client, org.live_key, {"definition": definition(), "name": "Welcome"}),
        "RESOURCE_007",
    )
    assert list(error["details"]) == ["name"]
    renamed = put(client, org.live_key, other["id"], {"name": names[0]})
    assert_error(renamed, "RESOURCE_007")
    assert assert_ok(put(client, org.live_key, other["id"], {"name": "Welcome"}))["name"] == (
        "Welcome"
    )


# -- validation ---------------------------------------------------------------------------

LONG = "word " * 210
BODY = "definition.body.multiChannel"


@pytest.mark.parametrize(
    ("definition_", "path"),
    [
        (definition(LONG.strip(), []), f"{BODY}.template"),
        (definition("Hello {{0 :name}}, how are you doing today?", []), f"{BODY}.template"),
        (definition("Hello {{name}}, how are you doing today?", []), f"{BODY}.template"),
        (definition("Hello there }} friend, how are you today?", []), f"{BODY}.template"),
        (
            definition("Hello {{2:name}}, how are you doing today?", [var(0, "name")]),
            f"{BODY}.template",
        ),
        (
            definition("Hello {{0:name}}, how are you doing today?", [var(0, "first")]),
            f"{BODY}.template",
        ),
        (definition(GREETING, [var(0, "name"), var(0, "order_id")]), f"{BODY}.variables[1].id"),
        (definition(GREETING, [*VARIABLES, var(2, "unused")]), f"{BODY}.variables[2]"),
        (definition(GREETING, [var(0, "name"), var(1, "9lives")]), f"{BODY}.variables[1].name"),
        (
            definition(
                GREETING,
                [
                    var(0, "name"),
                    {"id": 1, "name": "order_id", "type": "x", "props": {"sample": "1"}},
                ],
            ),
            f"{BODY}.variables[1].type",
        ),
        (definition("{{0:name}} is here", [var(0, "name")]), f"{BODY}.template"),
        (definition("Hello {{0:name}}", [var(0, "name")]), f"{BODY}.template"),
        (
            definition("Dear {{0:a}} {{1:b}} thanks a lot for all", [var(0, "a"), var(1, "b")]),
            f"{BODY}.template",
        ),
        (definition("Hi {{0:name}}, ok", [var(0, "name")]), f"{BODY}.template"),
        (definition("\nHello there, how are you?", []), f"{BODY}.template"),
        (definition("Hello\n\n\nthere", []), f"{BODY}.template"),
        (definition("Hello      there", []), f"{BODY}.template"),
        ({"body": {}}, "definition.body"),
        ({"header": {"template": "Hi"}}, "definition.body"),
        ({"body": {"sms": {"template": "Hello there"}}}, "definition.body"),
        ({"body": {"rcs": {"template": "Hello there"}}}, "definition.body"),
        (
            {"body": {"multiChannel": {"template": "Hi"}, "sms": {"template": "Hi"}}},
            "definition.body",
        ),
        ({"body": {"multiChannel": {"type": "text"}}}, f"{BODY}.template"),
        ({"body": {"multiChannel": {"template": "Hi", "type": "html"}}}, f"{BODY}.type"),
        ({"body": "Hello"}, "definition.body"),
        (definition(header={"template": "x" * 61}), "definition.header.template"),
        (
            definition(
                header={
                    "template": "Hi {{0:a}} and {{1:b}}",
                    "variables": [var(0, "a"), var(1, "b")],
                }
            ),
            "definition.header.template",
        ),
        (definition(header={"type": "image", "template": ""}), "definition.header.example_url"),
        (definition(header={"type": "banner", "template": "Hi"}), "definition.header.type"),
        (
            definition(
                header={
                    "type": "location",
                    "template": "",
                    "location": {
                        "name": "HQ",
                        "address": "Main St",
                        "latitude": "91",
                        "longitude": "0",
                    },
                }
            ),
            "definition.header.location.latitude",
        ),
        (definition(footer={"template": "f" * 61}), "definition.footer.template"),
        (
            definition(buttons=[{"type": "QUICK_REPLY", "props": {"text": "x" * 26}}]),
            "definition.buttons[0].props.text",
        ),
        (
            definition(buttons=[{"type": "QUICK_REPLY", "props": {"text": "Yes 👍"}}]),
            "definition.buttons[0].props.text",
        ),
        (
            definition(buttons=[{"type": "QUICK_REPLY", "props": {"text": "*Yes*"}}]),
            "definition.buttons[0].props.text",
        ),
        (
            definition(
                buttons=[
                    {"id": 1, "type": "QUICK_REPLY", "props": {"text": "Yes"}},
                    {"id": 1, "type": "QUICK_REPLY", "props": {"text": "No"}},
                ]
            ),
            "definition.buttons[1].id",
        ),
        (
            definition(buttons=[{"type": "CALL_ME", "props": {"text": "Call"}}]),
            "definition.buttons[0].type",
        ),
        (
            definition(buttons=[{"type": "URL", "props": {"text": "Open"}}]),
            "definition.buttons[0].props.url",
        ),
        (
            definition(
                buttons=[
                    {
                        "type": "URL",
                        "props": {
                            "text": "Open",
                            "url": "https://shop.test/{{0:id}}/track",
                            "urlType": "dynamic",
                            "variables": [var(0, "id")],
                        },
                    }
                ]
            ),
            "definition.buttons[0].props.url",
        ),
        (
            definition(
                buttons=[{"type": "PHONE_NUMBER", "props": {"text": "Call", "phoneNumber": "5"}}]
            ),
            "definition.buttons[0].props.phoneNumber",
        ),
        (
            definition(
                buttons=[
                    {"id": i, "type": "QUICK_REPLY", "props": {"text": f"B{i}"}} for i in range(11)
                ]
            ),
            "definition.buttons",
        ),
        (
            definition(authenticationConfig={"codeExpirationMinutes": 91}),
            "definition.authenticationConfig.codeExpirationMinutes",
        ),
        (
            {"body": {"multiChannel": {"template": "Hi", "variables": [{"id": 0, "name": "a"}]}}},
            f"{BODY}.variables[0].type",
        ),
        ("not an object", "definition"),
    ],
)
def test_definition_validation(
    server: LiveServer, client: httpx.Client, definition_: Any, path: str
) -> None:
    org = make_org(server)
    before = listed(client, org.live_key)["pagination"]["total_count"]
    error = assert_error(
        create(client, org.live_key, {"definition": definition_}), "VALIDATION_001"
    )
    assert path in error["details"], error["details"]
    assert listed(client, org.live_key)["pagination"]["total_count"] == before


def test_every_definition_problem_is_reported_at_once(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    bad = definition(
        "Hello {{0:name}}",
        [var(0, "name")],
        footer={"template": "f" * 61},
        buttons=[{"type": "QUICK_REPLY", "props": {"text": ""}}],
    )
    error = assert_error(create(client, org.live_key, {"definition": bad}), "VALIDATION_001")
    assert set(error["details"]) == {
        f"{BODY}.template",
        "definition.footer.template",
        "definition.buttons[0].props.text",
    }


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "VALIDATION_004", "definition"),
        ({"definition": definition(), "category": "PROMO"}, "VALIDATION_006", "category"),
        ({"definition": definition(), "category": "marketing"}, "VALIDATION_006", "category"),
        ({"definition": definition(), "language": "English"}, "VALIDATION_001", "language"),
        ({"definition": definition(), "name": "sent_welcome"}, "VALIDATION_001", "name"),
        (
            {"definition": definition(), "auto_create_for_sp": True},
            "VALIDATION_001",
            "auto_create_for_sp",
        ),
        (
            {
                "definition": definition(authenticationConfig={"addSecurityRecommendation": True}),
                "category": "UTILITY",
            },
            "VALIDATION_001",
            "definition.authenticationConfig",
        ),
    ],
)
def test_field_validation(
    server: LiveServer, client: httpx.Client, body: dict[str, Any], code: str, field: str
) -> None:
    org = make_org(server)
    error = assert_error(create(client, org.live_key, body), code)
    assert field in error["details"], error["details"]


def test_nulls_are_accepted_for_optional_fields(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    body = {
        "definition": definition(),
        "category": None,
        "language": None,
        "name": None,
        "submit_for_review": None,
        "creation_source": None,
        "sandbox": False,
    }
    data = assert_ok(create(client, org.live_key, body), 201)
    assert data["status"] == "DRAFT" and data["creation_source"] == "from-api"
    same = assert_ok(put(client, org.live_key, data["id"], {"name": None, "definition": None}))
    assert same["name"] == data["name"] and same["definition"] == data["definition"]


# -- ids, modes, deletion -------------------------------------------------------------------


def test_unknown_foreign_deleted_and_malformed_ids(
    server: LiveServer, client: httpx.Client
) -> None:
    org, other = make_org(server), make_org(server)
    foreign = created(client, other.live_key)["id"]
    gone = created(client, org.live_key)["id"]
    assert delete(client, org.live_key, gone).status_code == 204
    for template_id in (foreign, gone, str(uuid.uuid4())):
        assert_error(get(client, org.live_key, template_id), "RESOURCE_002")
        assert_error(put(client, org.live_key, template_id, {"name": "x"}), "RESOURCE_002")
        assert_error(delete(client, org.live_key, template_id), "RESOURCE_002")
    for malformed in ("tpl_1", "1234"):
        assert_error(get(client, org.live_key, malformed), "VALIDATION_003")
        assert_error(put(client, org.live_key, malformed, {}), "VALIDATION_003")
        assert_error(delete(client, org.live_key, malformed), "VALIDATION_003")


def test_a_test_key_never_sees_live_templates(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    live = created(client, org.live_key)
    test = created(client, org.test_key)
    assert test["name"] == live["name"]  # names are unique per mode
    assert_error(get(client, org.test_key, live["id"]), "RESOURCE_002")
    assert_error(get(client, org.live_key, test["id"]), "RESOURCE_002")
    assert [t["id"] for t in listed(client, org.test_key)["templates"]] == [test["id"]]


def test_delete_is_soft(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    template = created(client, org.live_key)
    response = delete(client, org.live_key, template["id"])
    assert response.status_code == 204 and response.content == b""
    assert listed(client, org.live_key)["templates"] == []

    async def row() -> Any:
        async with server.app.state.db.connection() as conn:
            return await conn.fetchrow(
                "SELECT name, deleted_at FROM templates WHERE id = $1", uuid.UUID(template["id"])
            )

    kept = server.run(row())
    assert kept["name"] == template["name"] and kept["deleted_at"] is not None
    # The name is free again.
    assert created(client, org.live_key)["name"] == template["name"]


def test_sandbox_create_writes_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    before = table_counts(server)
    body = {"definition": definition(), "submit_for_review": True, "sandbox": True}
    response = create(client, org.live_key, body)
    data = assert_ok(response, 201)
    assert response.headers["x-sandbox"] == "true"
    assert data["status"] == "PENDING" and data["customer_id"] == str(org.id)
    assert table_counts(server) == before
    assert_error(get(client, org.live_key, data["id"]), "RESOURCE_002")


def test_sandbox_update_and_delete_change_nothing(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    template = created(client, org.live_key)
    response = put(client, org.live_key, template["id"], {"name": "Renamed", "sandbox": True})
    assert assert_ok(response)["name"] == "Renamed" and response.headers["x-sandbox"] == "true"
    response = client.request(
        "DELETE",
        f"/v3/templates/{template['id']}",
        json={"sandbox": True},
        headers={"x-api-key": org.live_key},
    )
    assert response.status_code == 204 and response.headers["x-sandbox"] == "true"
    assert assert_ok(get(client, org.live_key, template["id"]))["name"] == template["name"]


def test_create_is_idempotent(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    body = {"definition": definition()}
    first = create(client, org.live_key, body, **{"Idempotency-Key": "tpl-create-1"})
    second = create(client, org.live_key, body, **{"Idempotency-Key": "tpl-create-1"})
    assert second.headers["idempotent-replayed"] == "true" and second.content == first.content
    assert listed(client, org.live_key)["pagination"]["total_count"] == 1


def test_quota(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    set_limits(server, org, templates=2)
    profile = make_profile(server, org)
    created(client, org.live_key)
    as_profile = {"x-profile-id": str(profile["id"])}
    assert_ok(create(client, org.live_key, {"definition": definition()}, **as_profile), 201)
    error = assert_error(create(client, org.live_key, {"definition": definition()}), "BUSINESS_008")
    assert error["details"] == {
        "templates": ["The templates quota is 2; 2 in use, 1 more requested"]
    }
    created(client, org.test_key)  # each mode counts on its own
    deleted = listed(client, org.live_key)["templates"][0]["id"]
    assert delete(client, org.live_key, deleted).status_code == 204
    created(client, org.live_key)  # a deleted template no longer counts


def test_roles(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    template = created(client, org.live_key)
    developer = make_key(server, org, role="developer")
    billing = make_key(server, org, role="billing")
    assert_ok(get(client, developer, template["id"]))
    created(client, developer)
    assert_error(get(client, billing, template["id"]), "AUTH_004")
    assert_error(create(client, billing, {"definition": definition()}), "AUTH_004")


# -- list -----------------------------------------------------------------------------------


def test_pagination(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    ids = [created(client, org.live_key, name=f"T{i}")["id"] for i in range(5)]
    everything = listed(client, org.live_key)
    assert [t["id"] for t in everything["templates"]] == ids
    assert everything["pagination"] == {
        "page": 1,
        "page_size": 20,
        "total_count": 5,
        "total_pages": 1,
        "has_more": False,
        "cursors": None,
    }
    seen = []
    for page in (1, 2, 3):
        data = listed(client, org.live_key, f"?page_size=2&page={page}")
        seen += [t["id"] for t in data["templates"]]
        assert data["pagination"]["has_more"] is (page < 3)
        assert data["pagination"]["total_pages"] == 3
    assert seen == ids
    beyond = listed(client, org.live_key, "?page_size=2&page=4")
    assert beyond["templates"] == [] and beyond["pagination"]["has_more"] is False
    headers = {"x-api-key": org.live_key}
    for query in ("?page_size=0", "?page_size=101", "?page=0"):
        error = assert_error(client.get(f"/v3/templates{query}", headers=headers), "VALIDATION_005")
        assert list(error["details"]) == [query[1:].split("=")[0]]


def test_search_and_filters(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    key = org.live_key
    shipped = created(client, key, name="Shipping notice")
    sale = created(
        client,
        key,
        definition=definition(
            "Our winter sale starts {{0:day}} for you and your family.", [var(0, "day")]
        ),
    )
    code = created(
        client,
        key,
        name="Login 100%_code",
        category="AUTHENTICATION",
        definition=definition("Your code is {{0:code}}, valid for ten minutes.", [var(0, "code")]),
    )
    submitted = assert_ok(put(client, key, shipped["id"], {"submit_for_review": True}))
    assert submitted["status"] == "PENDING"

    def ids(query: str) -> list[str]:
        return [t["id"] for t in listed(client, key, query)["templates"]]

    assert ids("?search=shipping") == [shipped["id"]]  # by name, any case
    assert ids("?search=WINTER") == [sale["id"]]  # by body text
    assert ids("?search=100%25_") == [code["id"]]  # % and _ match literally
    assert ids("?search=nothing-like-it") == []
    assert ids("?category=MARKETING") == [sale["id"]]
    assert ids("?category=AUTHENTICATION&search=login") == [code["id"]]
    assert ids("?status=DRAFT") == [sale["id"], code["id"]]
    assert shipped["id"] in ids("?status=PENDING") + ids("?status=APPROVED")
    assert ids("?status=REJECTED") == []
    assert len(ids("?is_welcome_playground=true&page_size=10")) == 3  # accepted, ignored
    headers = {"x-api-key": key}
    assert_error(client.get("/v3/templates?status=approved", headers=headers), "VALIDATION_006")
    assert_error(client.get("/v3/templates?category=PROMO", headers=headers), "VALIDATION_006")


# -- update and the status workflow --------------------------------------------------------


@pytest.fixture(scope="module")
def manual(database_url: str) -> Iterator[LiveServer]:
    """Reviews wait for an operator here: a submitted template stays PENDING."""
    live = LiveServer(build_app(database_url, template_review_backend="manual")).start()
    yield live
    live.stop()


@pytest.fixture
def manual_client(manual: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=manual.base_url, timeout=30) as http:
        yield http


def test_update_edits_content_and_recomputes(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    template = created(client, org.live_key)
    new = definition(
        "Dear {{0:customer}}, thanks for shopping with us today.",
        [var(0, "customer")],
        footer={"template": "Acme Inc"},
    )
    data = assert_ok(
        put(
            client,
            org.live_key,
            template["id"],
            {"definition": new, "category": "MARKETING", "language": "fr"},
        )
    )
    assert data["variables"] == ["customer"] and data["definition"]["footer"] == {
        "template": "Acme Inc"
    }
    assert (data["category"], data["language"], data["status"]) == ("MARKETING", "fr", "DRAFT")
    assert data["name"] == template["name"]  # the name is not re-derived
    error = assert_error(
        put(
            client,
            org.live_key,
            template["id"],
            {"definition": definition("Hi {{0:x}}", [var(0, "x")])},
        ),
        "VALIDATION_001",
    )
    assert f"{BODY}.template" in error["details"]


def test_pending_freezes_content_but_not_the_name(
    manual: LiveServer, manual_client: httpx.Client
) -> None:
    org = make_org(manual)
    key = org.live_key
    template = created(manual_client, key, submit_for_review=True)
    assert template["status"] == "PENDING"
    for body in (
        {"definition": definition()},
        {"category": "MARKETING"},
        {"language": "fr"},
        {"submit_for_review": True},
        {"name": "New name", "language": "fr"},
    ):
        error = assert_error(put(manual_client, key, template["id"], body), "CONFLICT_006")
        assert set(error["details"]) == set(body) - {"name"}
    renamed = assert_ok(put(manual_client, key, template["id"], {"name": "New name"}))
    assert renamed["name"] == "New name" and renamed["status"] == "PENDING"
    # The SDK retries a 409 unless told not to.
    response = put(manual_client, key, template["id"], {"category": "MARKETING"})
    assert response.headers["x-should-retry"] == "false"


def test_approved_edit_returns_to_draft_and_resubmission_to_pending(
    manual: LiveServer, manual_client: httpx.Client
) -> None:
    org = make_org(manual)
    key = org.live_key
    template = created(manual_client, key, submit_for_review=True)
    approve(manual, template["id"])
    data = assert_ok(get(manual_client, key, template["id"]))
    assert data["status"] == "APPROVED" and data["is_published"] is True
    renamed = assert_ok(put(manual_client, key, template["id"], {"name": "Still approved"}))
    assert renamed["status"] == "APPROVED"
    edited = assert_ok(put(manual_client, key, template["id"], {"language": "es"}))
    assert edited["status"] == "DRAFT" and edited["is_published"] is False
    approve_again = assert_ok(put(manual_client, key, template["id"], {"submit_for_review": True}))
    assert approve_again["status"] == "PENDING"
    approve(manual, template["id"])
    resubmitted = assert_ok(
        put(
            manual_client,
            key,
            template["id"],
            {"definition": definition(), "submit_for_review": True},
        )
    )
    assert resubmitted["status"] == "PENDING"


def test_rejected_template_can_be_fixed_and_resubmitted(
    manual: LiveServer, manual_client: httpx.Client
) -> None:
    org = make_org(manual)
    key = org.live_key
    template = created(manual_client, key, submit_for_review=True)
    row = manual.run(
        templates.record_review(
            manual.app.state.db,
            uuid.UUID(template["id"]),
            approved=False,
            reason="Too vague",
            now=manual.app.state.clock.now(),
        )
    )
    assert row["status"] == "REJECTED"
    data = assert_ok(get(manual_client, key, template["id"]))
    assert data["status"] == "REJECTED" and data["rejection_reason"] == "Too vague"
    fixed = assert_ok(put(manual_client, key, template["id"], {"definition": definition()}))
    assert fixed["status"] == "DRAFT" and fixed["rejection_reason"] is None
    again = assert_ok(put(manual_client, key, template["id"], {"submit_for_review": True}))
    assert again["status"] == "PENDING"


# -- inheritance ------------------------------------------------------------------------------


def _profile_with(server: LiveServer, org: Org, inherit: bool | None) -> tuple[str, str]:
    """A profile (with its own key) whose settings inherit templates or not."""

    async def go() -> Any:
        from sentd.db.repos import customers

        settings = {} if inherit is None else {"inherit_templates": inherit}
        async with server.app.state.db.transaction() as conn:
            return await customers.insert_profile(
                conn, organization_id=org.id, name="Shop", settings=settings
            )

    profile = server.run(go())
    return str(profile["id"]), make_key(server, org, customer_id=profile["id"])


def test_a_profile_sees_its_organizations_templates_read_only(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    shared = created(client, org.live_key, name="Shared")
    profile_id, profile_key = _profile_with(server, org, None)  # inherit_templates defaults on
    own = created(client, profile_key, name="Own")
    assert own["customer_id"] == profile_id and own["is_inherited"] is False
    for key, headers in ((profile_key, {}), (org.live_key, {"x-profile-id": profile_id})):
        seen = assert_ok(get(client, key, shared["id"], **headers))
        assert seen["is_inherited"] is True and seen["customer_id"] == str(org.id)
        names = [t["name"] for t in listed(client, key, **headers)["templates"]]
        assert names == ["Shared", "Own"]
        for response in (
            client.put(
                f"/v3/templates/{shared['id']}",
                json={"name": "Mine"},
                headers={"x-api-key": key, **headers},
            ),
            client.put(
                f"/v3/templates/{shared['id']}",
                json={"submit_for_review": True},
                headers={"x-api-key": key, **headers},
            ),
            delete(client, key, shared["id"], **headers),
        ):
            assert_error(response, "TEMPLATE_001")
    # The organization itself sees only its own templates, and may change them.
    assert [t["name"] for t in listed(client, org.live_key)["templates"]] == ["Shared"]
    assert_error(get(client, org.live_key, own["id"]), "RESOURCE_002")
    assert assert_ok(put(client, org.live_key, shared["id"], {"name": "Shared v2"}))["name"] == (
        "Shared v2"
    )


def test_a_profile_that_does_not_inherit_sees_only_its_own(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    shared = created(client, org.live_key, name="Shared")
    _, profile_key = _profile_with(server, org, False)
    assert_error(get(client, profile_key, shared["id"]), "RESOURCE_002")
    assert_error(delete(client, profile_key, shared["id"]), "RESOURCE_002")
    assert listed(client, profile_key)["templates"] == []


def test_find_visible_prefers_own_templates_by_name(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    shared = created(client, org.live_key, name="Welcome")
    profile_id, profile_key = _profile_with(server, org, True)
    own = created(client, profile_key, name="Welcome")
    only_shared = created(client, org.live_key, name="Receipt")

    async def find(name: str) -> Any:
        authenticator = server.app.state.authenticator
        principal = await authenticator.authenticate(profile_key)
        async with server.app.state.db.connection() as conn:
            return await templates.find_visible(conn, principal, name=name)

    assert str(server.run(find("Welcome")).id) == own["id"] != shared["id"]
    found = server.run(find("Receipt"))
    assert str(found.id) == only_shared["id"] and found.is_inherited
    assert found.customer_id == org.id and str(found.customer_id) != profile_id


def test_what_sends_use_find_render_and_report_missing_parameters(
    server: LiveServer, client: httpx.Client
) -> None:
    org = make_org(server)
    header = {"template": "Order {{0:order_id}}", "variables": [var(0, "order_id")]}
    buttons = [
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Track",
                "url": "https://shop.test/o/{{0:order_id}}",
                "variables": [var(0, "order_id")],
            },
        }
    ]
    body = {
        "definition": definition(header=header, footer={"template": "Acme"}, buttons=buttons),
        "name": "Shipped",
    }
    data = assert_ok(create(client, org.live_key, body), 201)

    async def go() -> Any:
        principal = await server.app.state.authenticator.authenticate(org.live_key)
        async with server.app.state.db.connection() as conn:
            by_id = await templates.find_visible(conn, principal, template_id=uuid.UUID(data["id"]))
            by_name = await templates.find_visible(conn, principal, name="Shipped")
            with pytest.raises(ApiError) as unknown:
                await templates.find_visible(conn, principal, name="Nope")
            return by_id, by_name, unknown.value

    template, same, unknown = server.run(go())
    assert unknown.code == "RESOURCE_002"
    assert same.id == template.id and not template.is_inherited
    assert templates.variables_of(template) == ["order_id", "name"]
    assert templates.status_of(template) == "DRAFT"
    values = {"name": "Ada", "order_id": "A-7"}
    expected = "Hi Ada, your order A-7 has shipped and arrives soon."
    assert templates.render(template, "sms", values) == expected
    assert templates.render(template, "whatsapp", {"0": "Ada", "1": "A-7"}) == expected
    rendered = templates.render_message(template, "whatsapp", values)
    assert (rendered.header, rendered.footer) == ("Order A-7", "Acme")
    assert [(b.type, b.value) for b in rendered.buttons] == [("URL", "https://shop.test/o/A-7")]
    assert templates.render_message(template, "sms", values).header is None
    with pytest.raises(ApiError) as missing:
        templates.render(template, "sms", {})
    assert missing.value.code == "VALIDATION_004"
    assert set(missing.value.details or {}) == {
        "template.parameters.name",
        "template.parameters.order_id",
    }
    with pytest.raises(ApiError) as header_missing:
        templates.render_message(template, "whatsapp", {"name": "Ada", "1": "A-7"})
    assert set(header_missing.value.details or {}) == {"template.parameters.order_id"}


# -- review: the simulator ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def reviewing(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(
        build_app(database_url, run_workers=True, template_review_delay_s=0.2)
    ).start()
    yield live
    live.stop()


def test_simulator_approves_after_the_delay(reviewing: LiveServer) -> None:
    org = make_org(reviewing)
    with httpx.Client(base_url=reviewing.base_url) as client:
        started = time.monotonic()
        template = created(client, org.live_key, submit_for_review=True)
        assert template["status"] == "PENDING"
        data = wait_for_status(client, org.live_key, template["id"], "APPROVED")
        assert time.monotonic() - started >= 0.2
        assert data["is_published"] is True and data["rejection_reason"] is None


def test_simulator_rejects_by_its_rule(reviewing: LiveServer) -> None:
    org = make_org(reviewing)
    text = "Hello {{0:name}}, please reject this template for testing."
    with httpx.Client(base_url=reviewing.base_url) as client:
        template = created(
            client,
            org.test_key,
            submit_for_review=True,
            definition=definition(text, [var(0, "name")]),
        )
        data = wait_for_status(client, org.test_key, template["id"], "REJECTED")
        assert "reject" in data["rejection_reason"]
        # The rule reads the name too, and this one was derived from the rejected text.
        fixed = assert_ok(
            put(
                client,
                org.test_key,
                template["id"],
                {"definition": definition(), "name": "Fixed", "submit_for_review": True},
            )
        )
        assert fixed["status"] == "PENDING"
        wait_for_status(client, org.test_key, template["id"], "APPROVED")


def test_a_deleted_pending_template_is_not_decided(reviewing: LiveServer) -> None:
    org = make_org(reviewing)
    with httpx.Client(base_url=reviewing.base_url) as client:
        template = created(client, org.live_key, submit_for_review=True)
        assert delete(client, org.live_key, template["id"]).status_code == 204
        time.sleep(0.8)

    async def status() -> Any:
        async with reviewing.app.state.db.connection() as conn:
            return await conn.fetchval(
                "SELECT status FROM templates WHERE id = $1", uuid.UUID(template["id"])
            )

    assert reviewing.run(status()) == "PENDING"


# -- review: WhatsApp ---------------------------------------------------------------------------

WABA, TOKEN = "100200300", "settings-token"
APP_SECRET, VERIFY_TOKEN = "app-secret-123", "verify-me"
WEBHOOK = "/providers/whatsapp/webhook"


class WhatsAppSetup:
    def __init__(self, server: LiveServer, fake: FakeWhatsApp) -> None:
        self.server = server
        self.fake = fake
        self.webhook_url = server.base_url + WEBHOOK


@pytest.fixture
def whatsapp(database_url: str) -> Iterator[WhatsAppSetup]:
    with FakeWhatsApp({WABA: TOKEN, "999": "profile-token"}) as fake:
        settings = make_settings(
            database_url, template_review_backend="whatsapp", template_review_delay_s=0.2
        ).model_copy(
            update={
                "whatsapp_api_base": fake.base_url,
                "whatsapp_access_token": TOKEN,
                "whatsapp_waba_id": WABA,
                "whatsapp_app_secret": APP_SECRET,
                "whatsapp_verify_token": VERIFY_TOKEN,
            }
        )
        app = create_app(settings, database_url=database_url, run_workers=True)
        if not any(getattr(route, "path", None) == WEBHOOK for route in app.routes):
            app.include_router(whatsapp_webhook.router)
        live = LiveServer(app).start()
        try:
            yield WhatsAppSetup(live, fake)
        finally:
            live.stop()


def wait_for_submission(
    client: httpx.Client, key: str, template_id: str, **headers: str
) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        data: dict[str, Any] = assert_ok(get(client, key, template_id, **headers))
        if data["whatsapp_template_id"]:
            return data
        assert time.monotonic() < deadline, "never submitted to WhatsApp"
        time.sleep(0.05)


def test_whatsapp_review_takes_the_verdict_from_the_signed_webhook(
    whatsapp: WhatsAppSetup,
) -> None:
    org = make_org(whatsapp.server)
    header = {"template": "Order {{0:order_id}}", "variables": [var(0, "order_id", "A-100")]}
    buttons = [
        {
            "id": 1,
            "type": "URL",
            "props": {
                "text": "Track",
                "url": "https://shop.test/t/{{0:ref}}",
                "urlType": "dynamic",
                "variables": [var(0, "ref", "xy")],
            },
        },
        {"id": 2, "type": "QUICK_REPLY", "props": {"text": "Thanks"}},
    ]
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        template = created(
            client,
            org.live_key,
            submit_for_review=True,
            name="Order shipped",
            definition=definition(header=header, footer={"template": "Acme"}, buttons=buttons),
        )
        assert template["status"] == "PENDING"
        data = wait_for_submission(client, org.live_key, template["id"])
        [call] = whatsapp.fake.requests
        assert call["method"] == "POST" and call["path"] == f"/v21.0/{WABA}/message_templates"
        assert call["headers"]["authorization"] == f"Bearer {TOKEN}"
        sent = call["json"]
        assert sent["name"] == f"order_shipped_{uuid.UUID(template['id']).hex[:8]}"
        assert (sent["language"], sent["category"]) == ("en_US", "UTILITY")
        assert sent["components"] == [
            {
                "type": "HEADER",
                "format": "TEXT",
                "text": "Order {{1}}",
                "example": {"header_text": ["A-100"]},
            },
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} has shipped and arrives soon.",
                "example": {"body_text": [["Ada", "A-100"]]},
            },
            {"type": "FOOTER", "text": "Acme"},
            {
                "type": "BUTTONS",
                "buttons": [
                    {
                        "type": "URL",
                        "text": "Track",
                        "url": "https://shop.test/t/{{1}}",
                        "example": ["https://shop.test/t/xy"],
                    },
                    {"type": "QUICK_REPLY", "text": "Thanks"},
                ],
            },
        ]
        assert data["status"] == "PENDING"
        wa_id = data["whatsapp_template_id"]
        approved = status_update(WABA, wa_id, "APPROVED", name=sent["name"])

        forged = send_status_update(whatsapp.webhook_url, approved, "not-the-secret")
        assert_error(forged, "PROVIDER_001")
        unsigned = httpx.post(whatsapp.webhook_url, json=approved)
        assert_error(unsigned, "PROVIDER_001")
        assert assert_ok(get(client, org.live_key, template["id"]))["status"] == "PENDING"

        response = send_status_update(whatsapp.webhook_url, approved, APP_SECRET)
        assert assert_ok(response) == {"handled": 1, "ignored": 0}
        data = assert_ok(get(client, org.live_key, template["id"]))
        assert data["status"] == "APPROVED" and data["is_published"] is True
        # A repeated delivery changes nothing; another field is acknowledged and ignored.
        assert_ok(send_status_update(whatsapp.webhook_url, approved, APP_SECRET))
        other = {
            "object": "whatsapp_business_account",
            "entry": [{"id": WABA, "changes": [{"field": "account_update", "value": {}}]}],
        }
        assert assert_ok(send_status_update(whatsapp.webhook_url, other, APP_SECRET)) == {
            "handled": 0,
            "ignored": 1,
        }

        # WhatsApp may pause an approved template: then only its name can change.
        paused = status_update(WABA, wa_id, "PAUSED")
        assert_ok(send_status_update(whatsapp.webhook_url, paused, APP_SECRET))
        assert assert_ok(get(client, org.live_key, template["id"]))["status"] == "PAUSED"
        error = assert_error(
            put(client, org.live_key, template["id"], {"language": "fr"}), "VALIDATION_001"
        )
        assert list(error["details"]) == ["language"]
        still = assert_ok(
            put(client, org.live_key, template["id"], {"name": "Paused", "submit_for_review": True})
        )
        assert (still["status"], still["name"]) == ("PAUSED", "Paused")
        reinstated = status_update(WABA, wa_id, "REINSTATED")
        assert_ok(send_status_update(whatsapp.webhook_url, reinstated, APP_SECRET))
        assert assert_ok(get(client, org.live_key, template["id"]))["status"] == "APPROVED"

        # Editing and resubmitting sends an edit of the same WhatsApp template.
        edited = assert_ok(
            put(
                client,
                org.live_key,
                template["id"],
                {"category": "MARKETING", "submit_for_review": True},
            )
        )
        assert edited["status"] == "PENDING"
        edit = whatsapp.fake.wait_for(2)[1]
        assert (edit["method"], edit["path"]) == ("POST", f"/v21.0/{wa_id}")
        assert edit["json"]["category"] == "MARKETING"
        rejected = status_update(WABA, wa_id, "REJECTED", reason="INCORRECT_CATEGORY")
        assert_ok(send_status_update(whatsapp.webhook_url, rejected, APP_SECRET))
        data = assert_ok(get(client, org.live_key, template["id"]))
        assert data["status"] == "REJECTED" and data["rejection_reason"] == "INCORRECT_CATEGORY"


def test_a_verdict_that_overtakes_whatsapps_answer_is_kept(whatsapp: WhatsAppSetup) -> None:
    org = make_org(whatsapp.server)
    whatsapp.fake.early_verdict = (whatsapp.webhook_url, APP_SECRET, "APPROVED")
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        template = created(client, org.live_key, submit_for_review=True, name="Quick")
        data = wait_for_status(client, org.live_key, template["id"], "APPROVED")
        assert data["whatsapp_template_id"] == next(iter(whatsapp.fake.templates))


def test_whatsapp_subscription_handshake(whatsapp: WhatsAppSetup) -> None:
    response = subscribe(whatsapp.webhook_url, VERIFY_TOKEN, "challenge-1234")
    assert response.status_code == 200 and response.text == "challenge-1234"
    assert_error(subscribe(whatsapp.webhook_url, "wrong", "challenge-1234"), "PROVIDER_002")
    response = httpx.get(
        whatsapp.webhook_url,
        params={"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    )
    assert_error(response, "PROVIDER_002")


def test_whatsapp_uses_the_profiles_own_account_first(whatsapp: WhatsAppSetup) -> None:
    org = make_org(whatsapp.server)
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        body = {
            "name": "Shop",
            "billing_model": "organization",
            "whatsapp_business_account": {"waba_id": "999", "access_token": "profile-token"},
        }
        profile = assert_ok(
            client.post("/v3/profiles", json=body, headers={"x-api-key": org.live_key}), 201
        )
        as_profile = {"x-profile-id": profile["id"]}
        response = create(
            client,
            org.live_key,
            {"definition": definition(), "submit_for_review": True},
            **as_profile,
        )
        template = assert_ok(response, 201)
        [call] = whatsapp.fake.wait_for(1)
        assert call["path"] == "/v21.0/999/message_templates"
        assert call["headers"]["authorization"] == "Bearer profile-token"
        data = wait_for_submission(client, org.live_key, template["id"], **as_profile)
        assert data["customer_id"] == profile["id"]


def test_whatsapp_refusal_rejects_and_outages_are_retried(whatsapp: WhatsAppSetup) -> None:
    org = make_org(whatsapp.server)
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        whatsapp.fake.refuse_with = "Body text has too many variables"
        refused = created(client, org.live_key, submit_for_review=True, name="Refused")
        data = wait_for_status(client, org.live_key, refused["id"], "REJECTED")
        assert data["rejection_reason"] == (
            "WhatsApp refused the template: Body text has too many variables"
        )
        whatsapp.fake.refuse_with = None
        whatsapp.fake.fail_next = 1
        retried = created(client, org.live_key, submit_for_review=True, name="Retried")
        data = wait_for_submission(client, org.live_key, retried["id"])
        assert data["status"] == "PENDING"
        statuses = [r for r in whatsapp.fake.requests if r["json"]["name"].startswith("retried")]
        assert len(statuses) == 2  # the first answered 500


def test_whatsapp_backend_leaves_test_mode_to_the_simulator(whatsapp: WhatsAppSetup) -> None:
    org = make_org(whatsapp.server)
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        template = created(client, org.test_key, submit_for_review=True)
        wait_for_status(client, org.test_key, template["id"], "APPROVED")
    assert whatsapp.fake.requests == []


def test_delete_from_meta_removes_it_at_whatsapp(whatsapp: WhatsAppSetup) -> None:
    org = make_org(whatsapp.server)
    with httpx.Client(base_url=whatsapp.server.base_url) as client:
        template = created(client, org.live_key, submit_for_review=True, name="Short lived")
        data = wait_for_submission(client, org.live_key, template["id"])
        response = client.request(
            "DELETE",
            f"/v3/templates/{template['id']}",
            json={"delete_from_meta": True},
            headers={"x-api-key": org.live_key},
        )
        assert response.status_code == 204
        removal = whatsapp.fake.wait_for(2)[1]
        assert removal["method"] == "DELETE"
        assert removal["query"] == {
            "name": f"short_lived_{uuid.UUID(template['id']).hex[:8]}",
            "hsm_id": data["whatsapp_template_id"],
        }
        assert whatsapp.fake.templates == {}
