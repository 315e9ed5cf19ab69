"""The OpenAPI document: FastAPI's description of the routes, made to say what sentd really does.

FastAPI knows the routes and their request bodies. What it cannot know is added here, from the
same sources the server answers from: the error envelope and the catalog codes of each status
(FastAPI's 422 `HTTPValidationError` is never sent: bad input is a 400 in the envelope), the
`x-api-key` security scheme, the `x-profile-id` and `Idempotency-Key` request headers, the
rate-limit and `Retry-After` response headers, and the success answers of each operation (status
and the envelope with its `data`, from the table in `openapi_models`). The routes build their
responses themselves; nothing here changes a byte they send. `tests/api/test_contract.py` runs
schemathesis against a live server to keep the two in agreement.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter

from sentd.api.openapi_models import SUCCESS, Success
from sentd.api.schemas.templates import COMPONENT, DEFINITION_SCHEMA
from sentd.errors.catalog import CATALOG
from sentd.guards.idempotency import HEADER as IDEMPOTENCY_HEADER
from sentd.phones import E164_SCHEMA
from sentd.templating.definition import definition_json_schema

SECURITY_SCHEME = "ApiKeyAuth"
UNAUTHENTICATED_PREFIXES = ("/providers/",)  # provider callbacks carry the provider's signature
MUTATING = {"post", "put", "patch", "delete"}
# x-profile-id naming no profile of the organization is a 404 on every route.
ERROR_STATUSES_EVERY_API_ROUTE = (400, 401, 403, 404, 429, 500, 502, 503, 504)
# Outside /v3: 503 when the process is saturated (the in-flight ceiling) or its database is down.
PUBLIC_ERRORS: dict[str, tuple[int, ...]] = {"/errors/{code}": (404, 500, 503)}
PUBLIC_ERRORS_DEFAULT = (500, 503)
REF_TEMPLATE = "#/components/schemas/{model}"
PLAIN_TEXT: dict[str, Any] = {"text/plain": {"schema": {"type": "string"}}}
TWIML: dict[str, Any] = {"text/xml": {"schema": {"type": "string"}}}
AUDIO: dict[str, Any] = {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}
PRESIGNED_DOWNLOAD = "/v3/voice/recordings/{recording_id}/download"
# Path and query parameters the routes parse as E.164 themselves (VALIDATION_002 otherwise).
E164_PARAMETERS = {"phone_number", "number"}

ERROR_ENVELOPE: dict[str, Any] = {
    "title": "ErrorEnvelope",
    "type": "object",
    "required": ["success", "data", "error", "meta"],
    "properties": {
        "success": {"const": False},
        "data": {"type": "null"},
        "error": {
            "type": "object",
            "required": ["code", "message", "details", "doc_url"],
            "properties": {
                "code": {"type": "string", "enum": list(CATALOG)},
                "message": {"type": "string"},
                "details": {
                    "anyOf": [
                        {
                            "type": "object",
                            "additionalProperties": {"type": "array", "items": {"type": "string"}},
                        },
                        {"type": "null"},
                    ]
                },
                "doc_url": {"type": "string"},
            },
        },
        "meta": {"$ref": "#/components/schemas/Meta"},
    },
}
META: dict[str, Any] = {
    "title": "Meta",
    "type": "object",
    "required": ["request_id", "timestamp", "version"],
    "properties": {
        "request_id": {"type": "string"},
        "timestamp": {"type": "string", "format": "date-time"},
        "version": {"type": "string"},
    },
}
RATE_LIMIT_HEADERS: dict[str, Any] = {
    "X-RateLimit-Limit": {
        "description": "Requests the window allows.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the window.",
        "schema": {"type": "integer"},
    },
    "X-RateLimit-Reset": {
        "description": "Seconds until the window resets.",
        "schema": {"type": "integer"},
    },
}
RETRY_AFTER: dict[str, Any] = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}
PROFILE_PARAMETER: dict[str, Any] = {
    "name": "x-profile-id",
    "in": "header",
    "required": False,
    "description": "Act as this sender profile of the key's organization (organization keys only).",
    "schema": {"type": "string", "format": "uuid"},
}
IDEMPOTENCY_PARAMETER: dict[str, Any] = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "description": "Makes a retry of this request safe: the same key replays the first answer.",
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,255}$"},
}


def codes_by_status() -> dict[int, list[str]]:
    by_status: dict[int, list[str]] = defaultdict(list)
    for code, spec in CATALOG.items():
        by_status[spec.status].append(code)
    return dict(by_status)


def error_response(status: int, codes: list[str]) -> dict[str, Any]:
    headers = RETRY_AFTER if status in (429, 503) else {}
    return {
        "description": "Error codes: " + ", ".join(codes),
        "headers": headers,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def _schema_of(annotation: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The JSON schema of a data model; named models and their parts go to `schemas`."""
    schema = TypeAdapter(annotation).json_schema(ref_template=REF_TEMPLATE, mode="serialization")
    named = schema.pop("$defs", {})
    name = getattr(annotation, "__name__", None)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and name:
        named[name] = schema
    for key, value in named.items():
        if schemas.setdefault(key, value) != value:
            raise ValueError(f"two schemas named {key} in the OpenAPI document")
    if name in named:
        return {"$ref": REF_TEMPLATE.format(model=name)}
    return schema


def _add_template_definition(schemas: dict[str, Any]) -> None:
    """The template definition's schema (from its pydantic models) and its parts, each named
    Template<part> so that none can clash with another component."""
    prefix = DEFINITION_SCHEMA.removesuffix("Definition")
    schema = definition_json_schema(REF_TEMPLATE.replace("{model}", prefix + "{model}"))
    named = {prefix + name: part for name, part in schema.pop("$defs", {}).items()}
    named[DEFINITION_SCHEMA] = schema
    for key, value in named.items():
        if schemas.setdefault(key, value) != value:
            raise ValueError(f"two schemas named {key} in the OpenAPI document")


def _refer_to_components(node: Any) -> Any:
    """`node` with every schema that names a component (COMPONENT) replaced by a reference."""
    if isinstance(node, dict):
        if isinstance(node.get(COMPONENT), str):
            return {"$ref": REF_TEMPLATE.format(model=node[COMPONENT])}
        return {key: _refer_to_components(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_refer_to_components(value) for value in node]
    return node


def success_envelope(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", "data", "error", "meta"],
        "properties": {
            "success": {"const": True},
            "data": data,
            "error": {"type": "null"},
            "meta": {"$ref": "#/components/schemas/Meta"},
        },
    }


def _success_responses(success: Success, schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in success.answers.items():
        if model is None:
            responses[str(status)] = {"description": success.description}
            continue
        envelope = success_envelope(_schema_of(model, schemas))
        responses[str(status)] = {
            "description": success.description,
            "content": {"application/json": {"schema": envelope}},
        }
    return responses


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    wanted = set(ERROR_STATUSES_EVERY_API_ROUTE)
    if method in MUTATING or "requestBody" in operation:
        wanted |= {408, 409, 413, 422}
    return wanted


def _describe_operation(
    path: str, method: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> None:
    responses: dict[str, Any] = {
        str(status): response for status, response in operation.get("responses", {}).items()
    }
    operation["responses"] = responses
    responses.pop("422", None)
    success = SUCCESS.get((method, path))
    if success is not None:
        for documented in [s for s in responses if s.startswith("2")]:
            del responses[documented]
        responses.update(_success_responses(success, schemas))
    statuses = codes_by_status()
    if not path.startswith("/v3/"):
        for public in PUBLIC_ERRORS.get(path, PUBLIC_ERRORS_DEFAULT):
            responses.setdefault(str(public), error_response(public, statuses.get(public, [])))
        if path.startswith("/errors"):  # a browser (Accept: text/html) gets the page
            responses["200"]["content"]["text/html"] = {"schema": {"type": "string"}}
        return
    operation["security"] = [{SECURITY_SCHEME: []}]
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    for parameter in parameters:
        if parameter["in"] in ("path", "query") and parameter["name"] in E164_PARAMETERS:
            parameter["schema"] = {**E164_SCHEMA, "title": parameter["schema"].get("title")}
    parameters.append(PROFILE_PARAMETER)
    if method in MUTATING:
        parameters.append(IDEMPOTENCY_PARAMETER)
    for error in sorted(_error_statuses(path, method, operation)):
        responses.setdefault(str(error), error_response(error, statuses.get(error, [])))
    for code, response in responses.items():
        if code.startswith("2"):
            response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)


def _describe_provider_callback(path: str, method: str, operation: dict[str, Any]) -> None:
    """Provider callbacks: no API key (the provider's signature instead), their own answers."""
    statuses = codes_by_status()
    errors: tuple[int, ...] = (400, 401, 408, 413, 500, 503)
    if method == "get":
        answers = {"200": {"description": "The challenge, echoed", "content": PLAIN_TEXT}}
        errors = (403, 500, 503)
    elif path.startswith("/providers/twilio/inbound"):
        answers = {"200": {"description": "Empty TwiML", "content": TWIML}}
    elif path.startswith("/providers/twilio/voice"):
        answers = {
            "200": {"description": "TwiML: what the call does next", "content": TWIML},
            "204": {"description": "Recorded: nothing for the call to do"},
        }
    else:
        answers = {
            "200": {
                "description": "What was recorded",
                "content": {"application/json": {"schema": success_envelope({"type": "object"})}},
            }
        }
    responses: dict[str, Any] = dict(answers)
    for status in errors:
        responses[str(status)] = error_response(status, statuses.get(status, []))
    operation["responses"] = responses


def _describe_presigned_download(operation: dict[str, Any]) -> None:
    """A recording's pre-signed link: no API key (the signature is the permission), the audio or
    a line of plain text."""
    statuses = codes_by_status()
    operation["security"] = []
    operation["responses"] = {
        "200": {"description": "The recording", "content": AUDIO},
        "400": error_response(400, statuses[400]),
        "403": {"description": "The link is invalid or has expired", "content": PLAIN_TEXT},
        "404": {"description": "The recording is not ready", "content": PLAIN_TEXT},
        "500": error_response(500, statuses[500]),
        "502": {
            "description": "The provider did not hand over the recording",
            "content": PLAIN_TEXT,
        },
        "503": error_response(503, statuses[503]),
    }


def describe(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document of `app` (built once, then cached on it)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["ErrorEnvelope"] = ERROR_ENVELOPE
    schemas["Meta"] = META
    _add_template_definition(schemas)
    components["securitySchemes"] = {
        SECURITY_SCHEME: {"type": "apiKey", "in": "header", "name": "x-api-key"}
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if path.startswith(UNAUTHENTICATED_PREFIXES):
                _describe_provider_callback(path, method, operation)
            elif path == PRESIGNED_DOWNLOAD:
                _describe_presigned_download(operation)
            else:
                _describe_operation(path, method, operation, schemas)
    referred: dict[str, Any] = _refer_to_components(document)
    app.openapi_schema = referred
    return referred
