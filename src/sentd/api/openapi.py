"""The OpenAPI document: FastAPI's description of the routes, made to say what sentd really does.

FastAPI knows the routes and their request bodies. What it cannot know is added here, from the
same sources the server answers from: the error envelope and the catalog codes of each status
(FastAPI's 422 `HTTPValidationError` is never sent: bad input is a 400 in the envelope), the
`x-api-key` security scheme, the `x-profile-id` and `Idempotency-Key` request headers, and the
rate-limit and `Retry-After` response headers.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from sentd.errors.catalog import CATALOG
from sentd.guards.idempotency import HEADER as IDEMPOTENCY_HEADER

SECURITY_SCHEME = "ApiKeyAuth"
UNAUTHENTICATED_PREFIXES = ("/providers/",)  # provider callbacks carry the provider's signature
MUTATING = {"post", "put", "patch", "delete"}
ERROR_STATUSES_EVERY_API_ROUTE = (400, 401, 403, 429, 500, 503, 504)

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


def _describe_operation(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = {
        str(status): response for status, response in operation.get("responses", {}).items()
    }
    operation["responses"] = responses
    responses.pop("422", None)
    if not path.startswith("/v3/"):
        return
    statuses = codes_by_status()
    operation["security"] = [{SECURITY_SCHEME: []}]
    parameters: list[dict[str, Any]] = operation.setdefault("parameters", [])
    parameters.append(PROFILE_PARAMETER)
    wanted = set(ERROR_STATUSES_EVERY_API_ROUTE)
    if "{" in path or method in MUTATING:
        wanted |= {404, 422}
    if method in MUTATING:
        parameters.append(IDEMPOTENCY_PARAMETER)
        wanted.add(409)
    for status in sorted(wanted):
        responses.setdefault(str(status), error_response(status, statuses.get(status, [])))
    for code, response in responses.items():
        if code.startswith("2"):
            response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)


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
    components["securitySchemes"] = {
        SECURITY_SCHEME: {"type": "apiKey", "in": "header", "name": "x-api-key"}
    }
    for path, operations in document.get("paths", {}).items():
        if path.startswith(UNAUTHENTICATED_PREFIXES):
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
            continue
        for method, operation in operations.items():
            _describe_operation(path, method, operation)
    app.openapi_schema = document
    return document
