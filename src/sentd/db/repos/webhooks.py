"""Webhooks and their delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.ids import new_id

COLUMNS = (
    "id, customer_id, livemode, display_name, endpoint_url, event_types, event_filters, "
    "sender_profile, signing_secret, is_active, disabled_reason, retry_count, timeout_seconds, "
    "consecutive_failures, last_delivery_attempt_at, last_successful_delivery_at, created_at, "
    "updated_at"
)
_MINE = "customer_id = $1 AND livemode = $2 AND deleted_at IS NULL"


async def insert(conn: Any, scope: Scope, values: dict[str, Any], now: datetime) -> Any:
    return await conn.fetchrow(
        f"""
        INSERT INTO webhooks (id, customer_id, livemode, display_name, endpoint_url, event_types,
            event_filters, sender_profile, signing_secret, retry_count, timeout_seconds,
            created_at)
        VALUES ($3, $1, $2, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        RETURNING {COLUMNS}
        """,
        *scope.params(),
        new_id(),
        values["display_name"],
        values["endpoint_url"],
        values["event_types"],
        values["event_filters"],
        values["sender_profile"],
        values["signing_secret"],
        values["retry_count"],
        values["timeout_seconds"],
        now,
    )


async def get(conn: Any, scope: Scope, webhook_id: uuid.UUID, *, lock: bool = False) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM webhooks WHERE {_MINE} AND id = $3"
        + (" FOR UPDATE" if lock else ""),
        *scope.params(),
        webhook_id,
    )


async def get_any(conn: Any, webhook_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND deleted_at IS NULL", webhook_id
    )


async def page(
    conn: Any, scope: Scope, *, search: str | None, is_active: bool | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    where = (
        f"{_MINE} AND ($3::text IS NULL OR display_name ILIKE $3 OR endpoint_url ILIKE $3) "
        "AND ($4::boolean IS NULL OR is_active = $4)"
    )
    pattern = f"%{search}%" if search else None
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM webhooks WHERE {where} ORDER BY created_at, id LIMIT $5 OFFSET $6",
        *scope.params(),
        pattern,
        is_active,
        limit,
        offset,
    )
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM webhooks WHERE {where}", *scope.params(), pattern, is_active
    )
    return rows, total


async def update(conn: Any, webhook_id: uuid.UUID, values: dict[str, Any], now: datetime) -> Any:
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=3))
    return await conn.fetchrow(
        f"UPDATE webhooks SET {assignments}, updated_at = $2 WHERE id = $1 RETURNING {COLUMNS}",
        webhook_id,
        now,
        *values.values(),
    )


async def soft_delete(conn: Any, webhook_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE webhooks SET deleted_at = $2, is_active = false WHERE id = $1", webhook_id, now
    )


async def subscribers(
    conn: Any, customer_id: uuid.UUID, organization_id: uuid.UUID, livemode: bool
) -> list[Any]:
    """Active webhooks that may take an event of this customer: its own, and (for a profile)
    its organization's."""
    rows: list[Any] = await conn.fetch(
        "SELECT id, customer_id, event_types, event_filters, sender_profile FROM webhooks "
        "WHERE livemode = $3 AND is_active AND deleted_at IS NULL "
        "AND (customer_id = $1 OR customer_id = $2)",
        customer_id,
        organization_id,
        livemode,
    )
    return rows


async def delivery_log(
    conn: Any, webhook_id: uuid.UUID, *, search: str | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    where = "d.webhook_id = $1 AND ($2::text IS NULL OR d.event_type ILIKE $2)"
    pattern = f"%{search}%" if search else None
    rows: list[Any] = await conn.fetch(
        f"""
        SELECT d.id, d.event_id, d.event_type, d.state, d.attempts, d.http_status_code,
               d.response_body, d.error_message, d.created_at, d.processing_started_at,
               d.processing_completed_at, e.envelope
        FROM webhook_deliveries d JOIN events e ON e.id = d.event_id
        WHERE {where} ORDER BY d.seq DESC LIMIT $3 OFFSET $4
        """,
        webhook_id,
        pattern,
        limit,
        offset,
    )
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM webhook_deliveries d WHERE {where}", webhook_id, pattern
    )
    return rows, total


USAGE_SQL = (
    "SELECT count(*) FROM webhooks w JOIN customers c ON c.id = w.customer_id "
    "WHERE COALESCE(c.organization_id, c.id) = $1 AND w.livemode = $2 AND w.deleted_at IS NULL"
)

# -- delivery jobs ------------------------------------------------------------------------


async def claim_due(conn: Any, now: datetime, lease_until: datetime, limit: int) -> list[Any]:
    """Take due deliveries of active webhooks, oldest first; a claim lasts until `lease_until`,
    after which a worker that died holding it is overtaken."""
    rows: list[Any] = await conn.fetch(
        """
        WITH due AS (
            SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
            WHERE d.state IN ('pending', 'retrying') AND d.next_attempt_at <= $1
              AND (d.lease_until IS NULL OR d.lease_until <= $1)
              AND w.is_active AND w.deleted_at IS NULL
            ORDER BY d.seq LIMIT $3
            FOR UPDATE OF d SKIP LOCKED
        )
        UPDATE webhook_deliveries d
        SET lease_until = $2, processing_started_at = COALESCE(d.processing_started_at, $1)
        FROM due, webhooks w, events e
        WHERE d.id = due.id AND w.id = d.webhook_id AND e.id = d.event_id
        RETURNING d.id, d.seq, d.webhook_id, d.event_id, d.event_type, d.attempts,
                  w.endpoint_url, w.signing_secret, w.retry_count, w.timeout_seconds,
                  e.envelope
        """,
        now,
        lease_until,
        limit,
    )
    return sorted(rows, key=lambda r: r["seq"])


async def record_attempt(
    conn: Any,
    delivery_id: uuid.UUID,
    attempt: int,
    *,
    started_at: datetime,
    finished_at: datetime,
    http_status: int | None,
    response_body: str | None,
    error: str | None,
) -> None:
    await conn.execute(
        "INSERT INTO webhook_attempts (delivery_id, attempt, started_at, finished_at, "
        "http_status, response_body, error) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        delivery_id,
        attempt,
        started_at,
        finished_at,
        http_status,
        response_body,
        error,
    )


async def finish_delivery(
    conn: Any,
    delivery_id: uuid.UUID,
    *,
    state: str,
    attempts: int,
    next_attempt_at: datetime | None,
    http_status: int | None,
    response_body: str | None,
    error: str | None,
    finished_at: datetime,
) -> None:
    await conn.execute(
        """
        UPDATE webhook_deliveries SET state = $2, attempts = $3,
            next_attempt_at = COALESCE($4, next_attempt_at), lease_until = NULL,
            http_status_code = $5, response_body = $6, error_message = $7,
            processing_completed_at =
                CASE WHEN $2 IN ('delivered', 'failed') THEN $8::timestamptz END
        WHERE id = $1
        """,
        delivery_id,
        state,
        attempts,
        next_attempt_at,
        http_status,
        response_body,
        error,
        finished_at,
    )


async def note_outcome(
    conn: Any,
    webhook_id: uuid.UUID,
    *,
    at: datetime,
    succeeded: bool,
    event_failed: bool,
    disable_after: int,
    disable_now_reason: str | None,
) -> None:
    """Update the webhook's counters: a success resets `consecutive_failures`; a failed event
    adds one; `disable_after` in a row (or a 410) disables it."""
    await conn.execute(
        """
        UPDATE webhooks SET
            last_delivery_attempt_at = $2,
            last_successful_delivery_at = CASE WHEN $3 THEN $2 ELSE last_successful_delivery_at END,
            consecutive_failures = CASE WHEN $3 THEN 0
                                        WHEN $4 THEN consecutive_failures + 1
                                        ELSE consecutive_failures END,
            is_active = CASE WHEN $6::text IS NOT NULL THEN false
                             WHEN $4 AND consecutive_failures + 1 >= $5 THEN false
                             ELSE is_active END,
            disabled_reason = CASE WHEN $6::text IS NOT NULL THEN $6
                                   WHEN $4 AND consecutive_failures + 1 >= $5
                                   THEN 'consecutive failures'
                                   ELSE disabled_reason END
        WHERE id = $1
        """,
        webhook_id,
        at,
        succeeded,
        event_failed,
        disable_after,
        disable_now_reason,
    )
