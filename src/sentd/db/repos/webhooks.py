"""Webhooks and their delivery log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection, Record
from sentd.ids import new_id

COLUMNS = (
    "id, customer_id, livemode, display_name, endpoint_url, event_types, event_filters, "
    "sender_profile, signing_secret, is_active, disabled_reason, retry_count, timeout_seconds, "
    "consecutive_failures, last_delivery_attempt_at, last_successful_delivery_at, created_at, "
    "updated_at"
)
_MINE = "customer_id = $1 AND livemode = $2 AND deleted_at IS NULL"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A webhook as its lookups return it (`COLUMNS`)."""

    id: uuid.UUID
    customer_id: uuid.UUID
    livemode: bool
    display_name: str
    endpoint_url: str
    event_types: list[str]
    event_filters: dict[str, Any] | None
    sender_profile: dict[str, Any] | None  # rules for the profiles' events
    signing_secret: str
    is_active: bool
    disabled_reason: str | None
    retry_count: int
    timeout_seconds: int
    consecutive_failures: int
    last_delivery_attempt_at: datetime | None
    last_successful_delivery_at: datetime | None
    created_at: datetime
    updated_at: datetime | None


def _webhook(row: Record | None) -> Webhook | None:
    return None if row is None else Webhook(**dict(row.items()))


async def insert(conn: Connection, scope: Scope, values: dict[str, Any], now: datetime) -> Webhook:
    row = await conn.fetchrow(
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
    assert row is not None
    return Webhook(**dict(row.items()))


async def get(
    conn: Connection, scope: Scope, webhook_id: uuid.UUID, *, lock: bool = False
) -> Webhook | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM webhooks WHERE {_MINE} AND id = $3"
        + (" FOR UPDATE" if lock else ""),
        *scope.params(),
        webhook_id,
    )
    return _webhook(row)


async def get_any(conn: Connection, webhook_id: uuid.UUID) -> Webhook | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM webhooks WHERE id = $1 AND deleted_at IS NULL", webhook_id
    )
    return _webhook(row)


async def page(
    conn: Connection,
    scope: Scope,
    *,
    search: str | None,
    is_active: bool | None,
    limit: int,
    offset: int,
) -> tuple[list[Webhook], int]:
    where = (
        f"{_MINE} AND ($3::text IS NULL OR display_name ILIKE $3 OR endpoint_url ILIKE $3) "
        "AND ($4::boolean IS NULL OR is_active = $4)"
    )
    pattern = f"%{search}%" if search else None
    rows = await conn.fetch(
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
    return [Webhook(**dict(row.items())) for row in rows], total


async def update(
    conn: Connection, webhook_id: uuid.UUID, values: dict[str, Any], now: datetime
) -> Webhook | None:
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=3))
    row = await conn.fetchrow(
        f"UPDATE webhooks SET {assignments}, updated_at = $2 WHERE id = $1 RETURNING {COLUMNS}",
        webhook_id,
        now,
        *values.values(),
    )
    return _webhook(row)


async def soft_delete(conn: Connection, webhook_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE webhooks SET deleted_at = $2, is_active = false WHERE id = $1", webhook_id, now
    )


async def subscribers(
    conn: Connection, customer_id: uuid.UUID, organization_id: uuid.UUID, livemode: bool
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
    conn: Connection, webhook_id: uuid.UUID, *, search: str | None, limit: int, offset: int
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


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery a worker holds the lease of, with what sending it needs (its webhook's URL,
    secret, retry count and time-out, and its event's envelope)."""

    id: uuid.UUID
    seq: int
    webhook_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    attempts: int  # made before this claim
    endpoint_url: str
    signing_secret: str
    retry_count: int
    timeout_seconds: int
    envelope: dict[str, Any]


async def claim_due(
    conn: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[ClaimedDelivery]:
    """Take due deliveries of active webhooks, oldest first; a claim lasts until `lease_until`,
    after which a worker that died holding it is overtaken."""
    rows = await conn.fetch(
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
    claimed = [ClaimedDelivery(**dict(row.items())) for row in rows]
    return sorted(claimed, key=lambda d: d.seq)


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """One finished attempt of a delivery, as `record_outcomes` writes it."""

    delivery_id: uuid.UUID
    attempt: int
    state: str  # the delivery's state after it: 'delivered', 'retrying' or 'failed'
    next_attempt_at: datetime | None
    started_at: datetime
    finished_at: datetime
    http_status: int | None
    response_body: str | None
    error: str | None
    succeeded: bool
    disable_now_reason: str | None = None  # e.g. a 410: disable the webhook at once


_RECORD_OUTCOMES = """
    WITH attempts AS (
        INSERT INTO webhook_attempts (delivery_id, attempt, started_at, finished_at,
            http_status, response_body, error)
        SELECT * FROM unnest($2::uuid[], $3::int[], $4::timestamptz[], $5::timestamptz[],
            $6::int[], $7::text[], $8::text[])
    ), deliveries AS (
        UPDATE webhook_deliveries d SET state = u.state, attempts = u.attempt,
            next_attempt_at = COALESCE(u.next_at, d.next_attempt_at), lease_until = NULL,
            http_status_code = u.http_status, response_body = u.body, error_message = u.error,
            processing_completed_at =
                CASE WHEN u.state IN ('delivered', 'failed') THEN u.finished_at END
        FROM unnest($2::uuid[], $3::int[], $9::text[], $10::timestamptz[], $5::timestamptz[],
            $6::int[], $7::text[], $8::text[])
            AS u(id, attempt, state, next_at, finished_at, http_status, body, error)
        WHERE d.id = u.id
    )
    UPDATE webhooks SET
        last_delivery_attempt_at = $11,
        last_successful_delivery_at = COALESCE($12, last_successful_delivery_at),
        consecutive_failures = CASE WHEN $12::timestamptz IS NOT NULL THEN $15::int
                                    ELSE consecutive_failures + $13 END,
        is_active = CASE WHEN $17::text IS NOT NULL THEN false
                         WHEN ($13 > 0 AND consecutive_failures + $13 >= $16)
                              OR $14 >= $16 OR $15 >= $16 THEN false
                         ELSE is_active END,
        disabled_reason = CASE WHEN $17::text IS NOT NULL THEN $17
                               WHEN ($13 > 0 AND consecutive_failures + $13 >= $16)
                                    OR $14 >= $16 OR $15 >= $16 THEN 'consecutive failures'
                               ELSE disabled_reason END
    WHERE id = $1
    RETURNING is_active
"""


async def record_outcomes(
    conn: Connection, webhook_id: uuid.UUID, outcomes: list[AttemptOutcome], *, disable_after: int
) -> bool:
    """Record finished attempts of one webhook's deliveries (in the order they finished) in one
    statement, hence atomically: their attempt rows, their deliveries' new state (lease cleared),
    and the webhook's counters, as if each outcome had been applied in turn.
    Returns whether the webhook is still active (False when it is gone)."""
    # The counters after the outcomes in order: failed events before the first success add to
    # the current count; a success resets it; `disable_after` failed events in a row (counting
    # the current ones for the leading run) disable the webhook.
    lead = inner = run = 0
    last_success: datetime | None = None
    gone: str | None = None
    for outcome in outcomes:
        if outcome.succeeded:
            if last_success is None:
                lead = run
            else:
                inner = max(inner, run)
            run = 0
            last_success = max(last_success or outcome.finished_at, outcome.finished_at)
        elif outcome.state == "failed":
            run += 1
        if outcome.disable_now_reason is not None:
            gone = outcome.disable_now_reason
    if last_success is None:
        lead, trail = run, 0
    else:
        trail = run
    active: bool | None = await conn.fetchval(
        _RECORD_OUTCOMES,
        webhook_id,
        [o.delivery_id for o in outcomes],
        [o.attempt for o in outcomes],
        [o.started_at for o in outcomes],
        [o.finished_at for o in outcomes],
        [o.http_status for o in outcomes],
        [o.response_body for o in outcomes],
        [o.error for o in outcomes],
        [o.state for o in outcomes],
        [o.next_attempt_at for o in outcomes],
        max(o.finished_at for o in outcomes),
        last_success,
        lead,
        inner,
        trail,
        disable_after,
        gone,
    )
    return bool(active)


async def release(conn: Connection, delivery_ids: list[uuid.UUID], lease_until: datetime) -> None:
    """Give up claims not acted on (their webhook was disabled, or the worker is stopping): they
    wait, unleased, to be claimed again. Only this claim's leases (`lease_until`) are cleared;
    recorded deliveries hold none."""
    await conn.execute(
        "UPDATE webhook_deliveries SET lease_until = NULL "
        "WHERE id = ANY($1) AND lease_until = $2 AND state IN ('pending', 'retrying')",
        delivery_ids,
        lease_until,
    )


async def requeue_failed(
    conn: Connection, webhook_id: uuid.UUID, delivery_id: uuid.UUID, now: datetime
) -> Any:
    """Give a failed delivery one more round: it is due now, and the delivery loop sends it
    (with its attempt count going on). None when it is not this webhook's, or not failed."""
    return await conn.fetchrow(
        "UPDATE webhook_deliveries SET state = 'retrying', next_attempt_at = $3, "
        "lease_until = NULL WHERE id = $2 AND webhook_id = $1 AND state = 'failed' RETURNING id",
        webhook_id,
        delivery_id,
        now,
    )
