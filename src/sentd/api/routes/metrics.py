"""`GET /metrics`: Prometheus exposition for the operator, behind SENTD_METRICS_TOKEN."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd import metrics
from sentd.api import operator_token
from sentd.api.deps import get_db
from sentd.db.database import Database
from sentd.db.pool import is_database_failure
from sentd.errors.exceptions import ApiError
from sentd.services import operations

router = APIRouter(tags=["operations"])


def check_operator_token(request: Request, token: str | None) -> None:
    """No token configured: no route; otherwise the operator's bearer token, or 401."""
    if not token:
        raise ApiError("ROUTE_NOT_FOUND", {"path": ["Set SENTD_METRICS_TOKEN to enable /metrics"]})
    if request.headers.get("authorization") is None:
        raise ApiError("AUTH_001", {"authorization": ["Send Authorization: Bearer <token>"]})
    if not operator_token.presents(request, token):
        raise ApiError("AUTH_002", {"authorization": ["Not the configured metrics token"]})


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request, db: Database = Depends(get_db)) -> Response:
    check_operator_token(request, request.app.state.settings.metrics_token)
    depths: dict[str, dict[str, float]] = {}
    try:
        async with db.connection() as conn:
            depths = await operations.queue_depths(conn)
    except Exception as exc:  # the process's own figures are still worth a scrape
        if not is_database_failure(exc):
            raise
    return Response(metrics.exposition(depths), media_type=metrics.CONTENT_TYPE)
