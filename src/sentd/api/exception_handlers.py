"""Expected errors → envelope: `ApiError`, request validation, unknown routes, wrong methods."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sentd.api.envelope import error_response, request_id_of
from sentd.api.public_url import base_url
from sentd.api.responses import PrebuiltResponse
from sentd.api.routing import allowed_methods
from sentd.api.validation import api_error_from
from sentd.errors.exceptions import ApiError


def _base_url(request: Request) -> str:
    return base_url(request.scope, request.app.state.settings)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, request_id_of(request), _base_url(request))


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return await handle_api_error(request, api_error_from(exc.errors()))


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        error = ApiError("ROUTE_NOT_FOUND", {"path": [f"No route {request.url.path}"]})
    elif exc.status_code == 405:
        error = ApiError(
            "METHOD_NOT_ALLOWED",
            {"method": [f"{request.method} is not allowed on {request.url.path}"]},
            headers={"Allow": ", ".join(allowed_methods(request.app.router.routes, request.scope))},
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
