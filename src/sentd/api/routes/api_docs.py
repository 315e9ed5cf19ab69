"""`/docs`: Swagger UI over `/openapi.json`, with every asset served by sentd itself (a server
without Internet access shows the same page)."""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
ASSETS = StaticFiles(directory=Path(swagger_ui.__file__).parent / "static")

router = APIRouter(include_in_schema=False)


@router.get("/docs")
async def swagger_ui_page(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title=f"{request.app.title} — API reference",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
    )
