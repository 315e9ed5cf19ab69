"""`/openapi.json` describes what sentd answers; `/docs` needs nothing from the Internet."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sentd.errors.catalog import CATALOG

METHODS = {"get", "post", "put", "patch", "delete"}
# A recording's pre-signed link: the signature, not a key, is the permission (test below).
PRESIGNED_DOWNLOAD = "/v3/voice/recordings/{recording_id}/download"


@pytest.fixture(scope="module")
def document(server: Any) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json", timeout=30)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def api_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/v3/") and path != PRESIGNED_DOWNLOAD
        for method, operation in operations.items()
        if method in METHODS
    ]


def test_no_operation_promises_fastapis_422(document: dict[str, Any]) -> None:
    text = repr(document)
    assert "HTTPValidationError" not in text and "ValidationError" not in text


def test_every_api_operation_names_its_key_and_its_errors(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme == {"type": "apiKey", "in": "header", "name": "x-api-key"}
    operations = api_operations(document)
    assert len(operations) > 40
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation["security"] == [{"ApiKeyAuth": []}], where
        responses = operation["responses"]
        for status in ("400", "401", "403", "429", "500"):
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorEnvelope", where
        assert "AUTH_002" in responses["401"]["description"]
        assert "Retry-After" in responses["429"]["headers"]
        names = {p["name"] for p in operation.get("parameters", [])}
        assert "x-profile-id" in names, where
        assert ("Idempotency-Key" in names) == (method != "get"), where
        for status, response in responses.items():
            if status.startswith("2"):
                assert "X-RateLimit-Remaining" in response["headers"], where


def test_the_error_envelope_schema_lists_every_catalog_code(document: dict[str, Any]) -> None:
    envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert envelope["properties"]["error"]["properties"]["code"]["enum"] == list(CATALOG)


def test_docs_are_served_without_the_internet(server: Any) -> None:
    page = httpx.get(f"{server.base_url}/docs", timeout=30)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    external = re.findall(r"(?:src|href)=[\"'](https?:)?//", page.text)
    assert not external, "the page names an external asset"
    assets = re.findall(r"[\"'](/docs/assets/[^\"']+)[\"']", page.text)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {"swagger-ui-bundle.js", "swagger-ui.css"}
    for asset in assets:
        response = httpx.get(f"{server.base_url}{asset}", timeout=30)
        assert response.status_code == 200, asset
        assert len(response.content) > 100, asset


def test_every_api_operation_documents_its_success_envelope(document: dict[str, Any]) -> None:
    for path, method, operation in api_operations(document):
        if path.startswith("/v3/_probe/"):
            continue  # test-only routes (tests/probe_routes.py)
        where = f"{method.upper()} {path}"
        successes = {s: r for s, r in operation["responses"].items() if s.startswith("2")}
        assert successes, where
        for status, response in successes.items():
            if status == "204":
                assert "content" not in response, where
                continue
            schema = response["content"]["application/json"]["schema"]
            assert schema["required"] == ["success", "data", "error", "meta"], where
            assert schema["properties"]["success"] == {"const": True}, where
            assert schema["properties"]["data"], where


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/v3/messages", {"202"}),
        ("post", "/v3/contacts", {"201"}),
        ("delete", "/v3/contacts/{contact_id}", {"204"}),
        ("delete", "/v3/users/{user_id}", {"204"}),
        ("post", "/v3/profiles/{profile_id}/complete", {"200", "202"}),
        ("get", "/v3/messages/{message_id}", {"200"}),
    ],
)
def test_success_statuses_are_the_ones_sent(
    document: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    responses = document["paths"][path][method]["responses"]
    assert {s for s in responses if s.startswith("2")} == statuses


def test_phone_fields_declare_e164(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    pattern = r"^\+[1-9][0-9]{1,14}$"
    assert schemas["ContactCreate"]["properties"]["phone_number"]["pattern"] == pattern
    assert schemas["SendBody"]["properties"]["to"]["items"]["pattern"] == pattern
    lookup = document["paths"]["/v3/numbers/lookup/{phone_number}"]["get"]["parameters"]
    assert lookup[0]["schema"]["pattern"] == pattern


def test_a_presigned_recording_link_needs_no_key(document: dict[str, Any]) -> None:
    operation = document["paths"][PRESIGNED_DOWNLOAD]["get"]
    assert operation["security"] == []
    assert "audio/mpeg" in operation["responses"]["200"]["content"]
    assert "text/plain" in operation["responses"]["403"]["content"]


def test_the_template_definition_schema_is_published(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    ref = {"$ref": "#/components/schemas/TemplateDefinition"}
    assert schemas["TemplateCreate"]["properties"]["definition"] == ref
    assert ref in schemas["TemplateUpdate"]["properties"]["definition"]["anyOf"]
    assert schemas["TemplateDefinition"]["required"] == ["body"]
    bodies = schemas["TemplateBodies"]["properties"]
    assert set(bodies) == {"multiChannel", "sms", "whatsapp", "rcs", "mms"}
    variable = schemas["TemplateVariable"]
    assert set(variable["required"]) == {"name", "type", "props"}
    assert variable["properties"]["type"]["enum"] == ["variable", "link", "media"]
    # null counts as absent: a key that may be left out may be null.
    assert {"type": "null"} in variable["properties"]["id"]["anyOf"]
