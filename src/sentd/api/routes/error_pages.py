"""`/errors` and `/errors/{code}`: the catalog, as JSON or as pages for a browser."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from sentd.api.envelope import ok
from sentd.errors.catalog import CATALOG, ErrorSpec
from sentd.errors.exceptions import ApiError
from sentd.errors.pages import render_error_page_html, render_index_html

router = APIRouter(tags=["errors"])


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept


def _as_json(spec: ErrorSpec) -> dict[str, Any]:
    return {
        "code": spec.code,
        "status": spec.status,
        "message": spec.message,
        "title": spec.title,
        "cause": spec.cause,
        "remediation": list(spec.remediation),
        "retryable": spec.retryable,
        "in_catalog": spec.in_catalog,
    }


@router.get("/errors")
async def list_errors(request: Request) -> Response:
    if _wants_html(request):
        return HTMLResponse(render_index_html(list(CATALOG.values())))
    return ok(request, {"errors": [_as_json(spec) for spec in CATALOG.values()]})


@router.get("/errors/{code}")
async def get_error(request: Request, code: str) -> Response:
    spec = CATALOG.get(code.upper())
    if spec is None:
        raise ApiError("ROUTE_NOT_FOUND", {"code": [f"No error code {code}"]})
    if _wants_html(request):
        return HTMLResponse(render_error_page_html(spec))
    return ok(request, _as_json(spec))
