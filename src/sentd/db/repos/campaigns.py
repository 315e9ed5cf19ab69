"""Profile campaigns (`profile_campaigns`) and their registry review."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.types import Connection
from sentd.ids import new_id

COLUMNS = (
    "id, customer_id, name, description, type, use_cases, help_keywords, help_message, "
    "message_flow, optin_keywords, optin_message, optout_keywords, optout_message, "
    "privacy_policy_link, terms_and_conditions_link, volume, status, registry_state, "
    "review_due_at, submitted_at, tcr_campaign_id, tcr_sync_error, dca_elections_completed_at, "
    "created_at, updated_at"
)

# The columns a create or update writes: the campaign as the customer describes it.
WRITABLE = (
    "name",
    "description",
    "type",
    "use_cases",
    "help_keywords",
    "help_message",
    "message_flow",
    "optin_keywords",
    "optin_message",
    "optout_keywords",
    "optout_message",
    "privacy_policy_link",
    "terms_and_conditions_link",
    "volume",
)


def _check(values: dict[str, Any]) -> None:
    if set(values) != set(WRITABLE):
        raise ValueError(f"a campaign is written whole: {sorted(set(values) ^ set(WRITABLE))}")


async def insert(
    conn: Connection, customer_id: uuid.UUID, values: dict[str, Any], now: datetime
) -> Any:
    _check(values)
    names = ["id", "customer_id", "created_at", "updated_at", *values]
    params = [new_id(), customer_id, now, now, *values.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    return await conn.fetchrow(
        f"INSERT INTO profile_campaigns ({', '.join(names)}) VALUES ({placeholders}) "
        f"RETURNING {COLUMNS}",
        *params,
    )


async def list_for(conn: Connection, customer_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM profile_campaigns WHERE customer_id = $1 AND deleted_at IS NULL "
        f"ORDER BY created_at, id",
        customer_id,
    )
    return rows


async def get_for_update(conn: Connection, customer_id: uuid.UUID, campaign_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM profile_campaigns WHERE id = $1 AND customer_id = $2 "
        f"AND deleted_at IS NULL FOR UPDATE",
        campaign_id,
        customer_id,
    )


async def replace(
    conn: Connection, campaign_id: uuid.UUID, values: dict[str, Any], now: datetime
) -> Any:
    """Write the campaign anew; it goes back to draft (a rejection's reason is cleared)."""
    _check(values)
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=3))
    return await conn.fetchrow(
        f"UPDATE profile_campaigns SET {assignments}, registry_state = 'draft', "
        f"submitted_at = NULL, tcr_sync_error = NULL, updated_at = $2 WHERE id = $1 "
        f"RETURNING {COLUMNS}",
        campaign_id,
        now,
        *values.values(),
    )


async def soft_delete(conn: Connection, campaign_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE profile_campaigns SET deleted_at = $2, updated_at = $2, review_due_at = NULL "
        "WHERE id = $1",
        campaign_id,
        now,
    )


async def submit_ready(
    conn: Connection, now: datetime, due_at: datetime | None, limit: int
) -> list[Any]:
    """Submit the draft campaigns of approved profiles to the registry."""
    rows: list[Any] = await conn.fetch(
        f"""
        UPDATE profile_campaigns SET registry_state = 'in_review', submitted_at = $1,
               review_due_at = $2, updated_at = $1
        WHERE id IN (
            SELECT c.id FROM profile_campaigns c JOIN customers p ON p.id = c.customer_id
            WHERE c.registry_state = 'draft' AND c.deleted_at IS NULL
              AND p.status = 'approved' AND p.deleted_at IS NULL
            ORDER BY c.created_at LIMIT $3 FOR UPDATE OF c SKIP LOCKED
        )
        RETURNING {COLUMNS}
        """,
        now,
        due_at,
        limit,
    )
    return rows


async def claim_due_reviews(conn: Connection, now: datetime, limit: int) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM profile_campaigns WHERE registry_state = 'in_review' "
        f"AND review_due_at <= $1 AND deleted_at IS NULL ORDER BY review_due_at LIMIT $2 "
        f"FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return rows


async def approve(
    conn: Connection, campaign_id: uuid.UUID, *, tcr_campaign_id: str, now: datetime
) -> Any:
    """The registry accepted the campaign; None unless it awaited review."""
    return await conn.fetchrow(
        f"UPDATE profile_campaigns SET registry_state = 'approved', status = 'ACTIVE', "
        f"tcr_campaign_id = $2, tcr_sync_error = NULL, dca_elections_completed_at = $3, "
        f"review_due_at = NULL, updated_at = $3 "
        f"WHERE id = $1 AND registry_state = 'in_review' AND deleted_at IS NULL "
        f"RETURNING {COLUMNS}",
        campaign_id,
        tcr_campaign_id,
        now,
    )


async def reject(conn: Connection, campaign_id: uuid.UUID, *, reason: str, now: datetime) -> Any:
    """The registry refused the campaign; None unless it awaited review."""
    return await conn.fetchrow(
        f"UPDATE profile_campaigns SET registry_state = 'rejected', tcr_sync_error = $2, "
        f"review_due_at = NULL, updated_at = $3 "
        f"WHERE id = $1 AND registry_state = 'in_review' AND deleted_at IS NULL "
        f"RETURNING {COLUMNS}",
        campaign_id,
        reason,
        now,
    )
