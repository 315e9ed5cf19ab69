"""Sender profiles: the profile-specific columns of `customers`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.types import Connection
from sentd.ids import new_id

COLUMNS = (
    "id, organization_id, name, short_name, description, icon, status, settings, "
    "billing_contact, brand, payment_card, whatsapp_account, sending_phone_number, "
    "whatsapp_phone_number, allow_number_change_during_onboarding, review_webhook_url, "
    "review_reason, created_at, updated_at"
)

# Columns an update may set; anything else is not updatable through the API.
UPDATABLE = frozenset(
    {
        "name",
        "short_name",
        "description",
        "icon",
        "settings",
        "billing_contact",
        "brand",
        "payment_card",
        "sending_phone_number",
        "whatsapp_phone_number",
        "allow_number_change_during_onboarding",
    }
)


async def insert(conn: Connection, organization_id: uuid.UUID, values: dict[str, Any]) -> Any:
    names = ["id", "kind", "organization_id", "status", *values]
    params = [new_id(), "profile", organization_id, "incomplete", *values.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    return await conn.fetchrow(
        f"INSERT INTO customers ({', '.join(names)}) VALUES ({placeholders}) RETURNING {COLUMNS}",
        *params,
    )


async def get(conn: Connection, organization_id: uuid.UUID, profile_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM customers WHERE id = $1 AND organization_id = $2 "
        f"AND kind = 'profile' AND deleted_at IS NULL",
        profile_id,
        organization_id,
    )


async def get_for_update(
    conn: Connection, organization_id: uuid.UUID, profile_id: uuid.UUID
) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM customers WHERE id = $1 AND organization_id = $2 "
        f"AND kind = 'profile' AND deleted_at IS NULL FOR UPDATE",
        profile_id,
        organization_id,
    )


async def page(
    conn: Connection, organization_id: uuid.UUID, only: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[Any], int]:
    where = (
        "organization_id = $1 AND kind = 'profile' AND deleted_at IS NULL "
        "AND ($2::uuid IS NULL OR id = $2)"
    )
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM customers WHERE {where} ORDER BY created_at, id LIMIT $3 OFFSET $4",
        organization_id,
        only,
        limit,
        offset,
    )
    total: int = await conn.fetchval(
        f"SELECT count(*) FROM customers WHERE {where}", organization_id, only
    )
    return rows, total


async def update(conn: Connection, profile_id: uuid.UUID, values: dict[str, Any]) -> Any:
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    return await conn.fetchrow(
        f"UPDATE customers SET {assignments}, updated_at = now() WHERE id = $1 RETURNING {COLUMNS}",
        profile_id,
        *values.values(),
    )


async def soft_delete(conn: Connection, profile_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE customers SET deleted_at = now(), updated_at = now() WHERE id = $1", profile_id
    )


async def submit_for_review(
    conn: Connection, profile_id: uuid.UUID, webhook_url: str, due_at: datetime | None
) -> Any:
    return await conn.fetchrow(
        f"UPDATE customers SET status = 'pending_review', review_webhook_url = $2, "
        f"review_due_at = $3, review_reason = NULL, updated_at = now() WHERE id = $1 "
        f"RETURNING {COLUMNS}",
        profile_id,
        webhook_url,
        due_at,
    )


async def set_review_webhook(conn: Connection, profile_id: uuid.UUID, webhook_url: str) -> None:
    await conn.execute(
        "UPDATE customers SET review_webhook_url = $2, updated_at = now() WHERE id = $1",
        profile_id,
        webhook_url,
    )


async def claim_due_reviews(conn: Connection, now: datetime, limit: int) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM customers WHERE kind = 'profile' AND status = 'pending_review' "
        f"AND review_due_at <= $1 AND deleted_at IS NULL ORDER BY review_due_at LIMIT $2 "
        f"FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return rows


async def decide(
    conn: Connection, profile_id: uuid.UUID, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """Record the review decision; schedule the callback when the customer gave a URL."""
    return await conn.fetchrow(
        f"UPDATE customers SET status = $2, review_reason = $3, review_due_at = NULL, "
        f"review_callback_due_at = "
        f"CASE WHEN review_webhook_url IS NULL THEN NULL ELSE $4::timestamptz END, "
        f"review_callback_attempts = 0, review_callback_id = gen_random_uuid(), "
        f"updated_at = now() WHERE id = $1 AND kind = 'profile' AND status = 'pending_review' "
        f"RETURNING {COLUMNS}",
        profile_id,
        "approved" if approved else "rejected",
        reason,
        now,
    )


async def claim_due_callbacks(
    conn: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Any]:
    """Take due review callbacks, pushing their due time to `lease_until` so that a process that
    dies mid-delivery leaves them to be retried."""
    rows: list[Any] = await conn.fetch(
        """
        UPDATE customers SET review_callback_due_at = $2
        WHERE id IN (
            SELECT id FROM customers WHERE review_callback_due_at <= $1
            ORDER BY review_callback_due_at LIMIT $3 FOR UPDATE SKIP LOCKED
        )
        RETURNING id, organization_id, status, review_reason, review_webhook_url,
                  review_callback_attempts, review_callback_id,
                  (SELECT o.callback_signing_secret FROM customers o
                   WHERE o.id = customers.organization_id) AS callback_signing_secret
        """,
        now,
        lease_until,
        limit,
    )
    return rows


async def callback_done(conn: Connection, profile_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE customers SET review_callback_due_at = NULL WHERE id = $1", profile_id
    )


async def callback_retry(conn: Connection, profile_id: uuid.UUID, due_at: datetime | None) -> None:
    await conn.execute(
        "UPDATE customers SET review_callback_due_at = $2, "
        "review_callback_attempts = review_callback_attempts + 1 WHERE id = $1",
        profile_id,
        due_at,
    )


async def callback_secret(conn: Connection, organization_id: uuid.UUID) -> str:
    """The organization's secret for signing its profile-completion callbacks."""
    secret: str = await conn.fetchval(
        "SELECT callback_signing_secret FROM customers WHERE id = $1", organization_id
    )
    return secret


async def set_callback_secret(conn: Connection, organization_id: uuid.UUID, secret: str) -> None:
    await conn.execute(
        "UPDATE customers SET callback_signing_secret = $2, updated_at = now() WHERE id = $1",
        organization_id,
        secret,
    )
