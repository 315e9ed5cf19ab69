"""Expected errors → envelope: `ApiError`, request validation, unknown routes, wrong methods."""

from __future__ import annotations

import re
from functools import lru_cache

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sentd.api.envelope import error_response, request_id_of
from sentd.api.responses import PrebuiltResponse
from sentd.api.validation import api_error_from
from sentd.errors.exceptions import ApiError


def _base_url(request: Request) -> str:
    public_url: str | None = request.app.state.settings.public_url
    return public_url or str(request.base_url)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, request_id_of(request), _base_url(request))


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await handle_api_error(request, api_error_from(exc.errors()))


HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@lru_cache(maxsize=512)
def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)))


def allowed_methods(request: Request) -> str | None:
    """Every method the OpenAPI document lists for the path, not only those of the first route
    that matched it (Starlette's `Allow`). A literal path (`/v3/webhooks/event-types`) wins over
    a template that also matches it. None for a path the document does not describe."""
    paths: dict[str, dict[str, object]] = request.app.openapi().get("paths", {})
    path = request.url.path
    matching = [template for template in paths if _template_pattern(template).fullmatch(path)]
    if not matching:
        return None
    literal = min(matching, key=lambda template: template.count("{"))
    return ", ".join(m.upper() for m in HTTP_METHODS if m in paths[literal])


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError("ROUTE_NOT_FOUND", {"path": [f"No route {request.url.path}"]})
    elif exc.status_code == 405:
        error = ApiError(
            "METHOD_NOT_ALLOWED",
            {"method": [f"{request.method} is not allowed on {request.url.path}"]},
            headers={"Allow": allowed_methods(request) or (exc.headers or {}).get("Allow", "")},
        )
    elif exc.status_code >= 500:
        error = ApiError("INTERNAL_001")
    else:
        error = ApiError("VALIDATION_001", {"request": [str(exc.detail)]})
    return await handle_api_error(request, error)


async def handle_prebuilt(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PrebuiltResponse)
    return exc.response


def install(app: FastAPI) -> None:
    app.add_exception_handler(PrebuiltResponse, handle_prebuilt)
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
