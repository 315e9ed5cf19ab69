"""The response envelope `{success, data, error, meta}` and the headers every response carries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sentd.errors.exceptions import ApiError

API_VERSION = "v3"


def meta(request_id: str) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "timestamp": datetime.now(UTC).isoformat(timespec="microseconds"),
        "version": API_VERSION,
    }


def json_response(
    body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def request_id_of(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def ok(request: Request, data: Any, status: int = 200) -> Response:
    body = {"success": True, "data": data, "error": None, "meta": meta(request_id_of(request))}
    return json_response(body, status)


def no_content() -> Response:
    return Response(status_code=204)


def error_body(error: ApiError, request_id: str, base_url: str) -> dict[str, Any]:
    return {
        "success": False,
        "data": None,
        "error": {
            "code": error.code,
            "message": error.spec.message,
            "details": error.details,
            "doc_url": f"{base_url.rstrip('/')}/errors/{error.code}",
        },
        "meta": meta(request_id),
    }


def error_response(error: ApiError, request_id: str, base_url: str) -> Response:
    headers = {"x-should-retry": "true" if error.spec.retryable else "false", **error.headers}
    return json_response(error_body(error, request_id, base_url), error.status, headers)
