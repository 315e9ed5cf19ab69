"""Probes for load balancers and operators: liveness, readiness and a status summary.

`/health/ready` is not ready (503 `INTERNAL_005`) while the database is unreachable or while the
process's in-flight ceiling (`SENTD_MAX_IN_FLIGHT`) is full, so a load balancer sends new work
elsewhere. `/status` shows its details only to the operator (`Authorization: Bearer
$SENTD_STATUS_TOKEN`); anyone else gets the bare liveness answer.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd import __version__
from sentd.api import operator_token
from sentd.api.deps import get_db
from sentd.api.envelope import ok
from sentd.api.load import InFlight
from sentd.api.middleware import DATABASE_RETRY_AFTER_S
from sentd.db.database import Database, PoolExhausted
from sentd.db.pool import is_database_failure, unreachable_reason
from sentd.errors.exceptions import ApiError
from sentd.services import operations

router = APIRouter(tags=["health"])
PROBE_TIMEOUT_S = 2.0


async def _probe_database(db: Database) -> tuple[float | None, str | None]:
    """The database's round-trip latency in ms, or None and why it could not be reached."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S), db.connection() as conn:
            await operations.round_trip(conn)
    except PoolExhausted:
        return None, "no pooled connection became free (the process is overloaded)"
    except Exception as exc:
        if is_database_failure(exc):
            return None, unreachable_reason(exc)
        raise
    return round((time.perf_counter() - started) * 1000, 2), None


async def _database_latency_ms(db: Database) -> float | None:
    latency, _ = await _probe_database(db)
    return latency


@router.get("/healthcheck")
async def healthcheck(request: Request) -> Response:
    return ok(request, {"status": "ok"})


@router.get("/health/live")
async def live(request: Request) -> Response:
    return ok(request, {"status": "alive"})


@router.get("/health/ready")
async def ready(request: Request, db: Database = Depends(get_db)) -> Response:
    in_flight: InFlight = request.app.state.in_flight
    if in_flight.saturated:
        raise ApiError(
            "INTERNAL_005",
            {"service": [f"{in_flight.count} of {in_flight.limit} requests in flight"]},
            headers={"Retry-After": "1"},
        )
    latency, reason = await _probe_database(db)
    if latency is None:
        raise ApiError(
            "INTERNAL_005",
            {"database": [f"The database is not reachable: {reason}"]},
            headers={"Retry-After": DATABASE_RETRY_AFTER_S},
        )
    return ok(request, {"status": "ready", "database": {"status": "ok", "latency_ms": latency}})


@router.get("/status")
async def status(request: Request, db: Database = Depends(get_db)) -> Response:
    if not operator_token.presents(request, request.app.state.settings.status_token):
        return ok(request, {"status": "ok"})
    latency = await _database_latency_ms(db)
    rows = []
    queue_depths: dict[str, dict[str, float]] = {}
    if latency is not None:
        async with db.connection() as conn:
            rows = await operations.alive(conn)
            queue_depths = await operations.queue_depths(conn)
    api_processes = [r["process"] for r in rows if r["loop_name"] == "api"]
    loops: list[dict[str, Any]] = [
        {"name": r["loop_name"], "process": r["process"], "last_beat_at": r["last_beat_at"]}
        for r in rows
        if r["loop_name"] != "api"
    ]
    counters = request.app.state.limiter_storage
    redis_ok = await counters.reachable()
    redis_status: dict[str, Any] = {
        "status": {None: "not configured", True: "ok", False: "unreachable"}[redis_ok]
    }
    if counters.shared:
        redis_status["breaker"] = counters.breaker.describe()
    data = {
        "status": "ok" if latency is not None and redis_ok is not False else "degraded",
        "version": __version__,
        "components": {
            "database": {
                "status": "ok" if latency is not None else "unreachable",
                "latency_ms": latency,
                "embedded": request.app.state.settings.embedded,
            },
            "api_processes": {"alive": api_processes},
            "redis": redis_status,
            "notifications": {"status": _notifications_status(request)},
            "worker_loops": {"alive": loops},
            "queues": queue_depths,
        },
    }
    return ok(request, data)


def _notifications_status(request: Request) -> str:
    """The LISTEN connection (revocations, maintenance): `listening`, or `reconnecting` (the
    key cache is off meanwhile)."""
    listener = getattr(request.app.state, "listener", None)
    return "listening" if listener is not None and listener.listening else "reconnecting"
