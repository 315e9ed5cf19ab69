"""Message templates.

Visibility: a customer sees its own templates in its mode; a profile whose settings have
`inherit_templates` (default true) also sees its organization's. Queries that read "what the
principal sees" take the acting customer, its organization and the mode, and return
`is_inherited` with each row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id

# The templates quota's usage (`services.quotas`): $1 the organization, $2 the mode.
USAGE_SQL = (
    "SELECT count(*) FROM templates WHERE organization_id = $1 AND livemode = $2 "
    "AND deleted_at IS NULL"
)

COLUMNS = (
    "id, customer_id, organization_id, livemode, name, category, language, status, definition, "
    "channels, variables, is_published, creation_source, rejection_reason, review_backend, "
    "review_state, review_due_at, review_attempts, submitted_at, reviewed_at, "
    "whatsapp_template_id, whatsapp_name, whatsapp_waba_id, created_at, updated_at, deleted_at"
)
_T_COLUMNS = ", ".join(f"t.{c.strip()}" for c in COLUMNS.split(","))

# $1 the acting customer, $2 the mode, $3 its organization.
_VISIBLE = """
    t.livemode = $2 AND t.deleted_at IS NULL AND (
        t.customer_id = $1
        OR ($1 <> $3 AND t.customer_id = $3 AND coalesce(
            (SELECT (c.settings ->> 'inherit_templates')::boolean FROM customers c WHERE c.id = $1),
            true))
    )
"""

# For statements of other repositories that read a template the principal sees (the send's
# context, `sends.context`): the columns with alias `t`, and the rule with $1 the acting
# customer, $2 the mode, $3 its organization.
T_COLUMNS = _T_COLUMNS
VISIBLE = _VISIBLE

# Columns a content update may set.
UPDATABLE = frozenset({"name", "category", "language", "definition", "channels", "variables"})


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def lock_names(conn: Connection, scope: Scope) -> None:
    """Serialise name choices of one customer and mode (names are unique there)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        f"template-names:{scope.customer_id}:{scope.mode}",
    )


async def name_taken(
    conn: Connection, scope: Scope, name: str, exclude: uuid.UUID | None = None
) -> bool:
    taken: bool = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM templates WHERE customer_id = $1 AND livemode = $2 "
        "AND name = $3 AND deleted_at IS NULL AND ($4::uuid IS NULL OR id <> $4))",
        *scope.params(),
        name,
        exclude,
    )
    return taken


async def names_starting(conn: Connection, scope: Scope, prefix: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT name FROM templates WHERE customer_id = $1 AND livemode = $2 "
        "AND deleted_at IS NULL AND name LIKE $3 ESCAPE '\\'",
        *scope.params(),
        _like(prefix)[1:],  # prefix%, not %prefix%
    )
    return {r["name"] for r in rows}


async def insert(
    conn: Connection, scope: Scope, organization_id: uuid.UUID, values: dict[str, Any]
) -> Any:
    names = ["id", "customer_id", "livemode", "organization_id", *values]
    params = [new_id(), scope.customer_id, scope.livemode, organization_id, *values.values()]
    placeholders = ", ".join(f"${i}" for i in range(1, len(params) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO templates ({', '.join(names)}) VALUES ({placeholders}) "
        f"RETURNING {COLUMNS}, false AS is_inherited",
        *params,
    )
    return row


async def get_visible(
    conn: Connection, scope: Scope, organization_id: uuid.UUID, template_id: uuid.UUID
) -> Any:
    return await conn.fetchrow(
        f"SELECT {_T_COLUMNS}, t.customer_id <> $1 AS is_inherited FROM templates t "
        f"WHERE t.id = $4 AND {_VISIBLE}",
        *scope.params(),
        organization_id,
        template_id,
    )


async def find_visible_by_name(
    conn: Connection, scope: Scope, organization_id: uuid.UUID, name: str
) -> Any:
    """The template called `name`: the customer's own before its organization's."""
    return await conn.fetchrow(
        f"SELECT {_T_COLUMNS}, t.customer_id <> $1 AS is_inherited FROM templates t "
        f"WHERE t.name = $4 AND {_VISIBLE} ORDER BY t.customer_id <> $1 LIMIT 1",
        *scope.params(),
        organization_id,
        name,
    )


async def get_own_for_update(conn: Connection, scope: Scope, template_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, false AS is_inherited FROM templates WHERE id = $3 "
        f"AND customer_id = $1 AND livemode = $2 AND deleted_at IS NULL FOR UPDATE",
        *scope.params(),
        template_id,
    )


async def page(
    conn: Connection,
    scope: Scope,
    organization_id: uuid.UUID,
    *,
    search: str | None,
    status: str | None,
    category: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    where = (
        f"{_VISIBLE} AND ($4::text IS NULL OR t.search_text ILIKE $4 ESCAPE '\\') "
        f"AND ($5::text IS NULL OR t.status = $5) AND ($6::text IS NULL OR t.category = $6)"
    )
    params = [*scope.params(), organization_id, _like(search) if search else None, status, category]
    rows: list[Any] = await conn.fetch(
        f"SELECT {_T_COLUMNS}, t.customer_id <> $1 AS is_inherited FROM templates t "
        f"WHERE {where} ORDER BY t.created_at, t.id LIMIT $7 OFFSET $8",
        *params,
        limit,
        offset,
    )
    total: int = await conn.fetchval(f"SELECT count(*) FROM templates t WHERE {where}", *params)
    return rows, total


async def update_content(conn: Connection, template_id: uuid.UUID, values: dict[str, Any]) -> Any:
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    return await conn.fetchrow(
        f"UPDATE templates SET {assignments}, updated_at = now() WHERE id = $1 "
        f"RETURNING {COLUMNS}, false AS is_inherited",
        template_id,
        *values.values(),
    )


async def set_status(
    conn: Connection,
    template_id: uuid.UUID,
    *,
    expected: str,
    status: str,
    reason: str | None,
    review_backend: str | None,
    review_state: str | None,
    review_due_at: datetime | None,
    now: datetime,
) -> Any:
    """Move the template from `expected` to `status` (None when it is no longer `expected`).
    Entering PENDING starts a review (backend, state, due time); any other status ends it."""
    return await conn.fetchrow(
        f"""
        UPDATE templates SET
            status = $3,
            rejection_reason = $4,
            is_published = ($3 = 'APPROVED'),
            review_backend = $5,
            review_state = $6,
            review_due_at = $7,
            review_attempts = 0,
            submitted_at = CASE WHEN $3 = 'PENDING' THEN $8 ELSE submitted_at END,
            reviewed_at = CASE WHEN $3 IN ('APPROVED', 'REJECTED') THEN $8 ELSE reviewed_at END,
            updated_at = now()
        WHERE id = $1 AND status = $2 AND deleted_at IS NULL
        RETURNING {COLUMNS}, false AS is_inherited
        """,
        template_id,
        expected,
        status,
        reason,
        review_backend,
        review_state,
        review_due_at,
        now,
    )


async def soft_delete(
    conn: Connection, template_id: uuid.UUID, *, remove_at_whatsapp_at: Any
) -> None:
    """Hide the template from the API (the row stays for the messages that used it). With
    `remove_at_whatsapp_at`, the worker removes it from the WhatsApp Business Account then."""
    await conn.execute(
        """
        UPDATE templates SET deleted_at = now(), updated_at = now(),
            review_backend = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE 'whatsapp' END,
            review_state = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE 'deleting' END,
            review_due_at = $2, review_attempts = 0
        WHERE id = $1
        """,
        template_id,
        remove_at_whatsapp_at,
    )


# -- review work --------------------------------------------------------------------------


async def claim_scheduled(conn: Connection, now: datetime, limit: int) -> list[Any]:
    """Simulator reviews that are due, locked for this transaction."""
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS}, false AS is_inherited FROM templates "
        f"WHERE review_state = 'scheduled' AND review_due_at <= $1 AND status = 'PENDING' "
        f"AND deleted_at IS NULL ORDER BY review_due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return rows


async def claim_with_lease(
    conn: Connection, state: str, now: datetime, lease_until: datetime, limit: int
) -> list[Any]:
    """Due rows in `state` (WhatsApp work), their due time pushed to `lease_until` so that a
    process that dies mid-call leaves them to be taken again. Each row comes with the owning
    customer's `whatsapp_account`."""
    rows: list[Any] = await conn.fetch(
        f"""
        WITH due AS (
            SELECT id FROM templates WHERE review_state = $1 AND review_due_at <= $2
            ORDER BY review_due_at LIMIT $4 FOR UPDATE SKIP LOCKED
        )
        UPDATE templates t SET review_due_at = $3 FROM due, customers c
        WHERE t.id = due.id AND c.id = t.customer_id
        RETURNING {_T_COLUMNS}, false AS is_inherited, c.whatsapp_account
        """,
        state,
        now,
        lease_until,
        limit,
    )
    return rows


async def get_for_update(conn: Connection, template_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, false AS is_inherited FROM templates WHERE id = $1 FOR UPDATE",
        template_id,
    )


async def mark_submitted(
    conn: Connection, template_id: uuid.UUID, *, whatsapp_id: str, whatsapp_name: str, waba_id: str
) -> Any:
    return await conn.fetchrow(
        f"UPDATE templates SET review_state = 'submitted', review_due_at = NULL, "
        f"whatsapp_template_id = $2, whatsapp_name = $3, whatsapp_waba_id = $4, "
        f"updated_at = now() WHERE id = $1 RETURNING {COLUMNS}, false AS is_inherited",
        template_id,
        whatsapp_id,
        whatsapp_name,
        waba_id,
    )


async def retry_at(conn: Connection, template_id: uuid.UUID, due_at: datetime) -> None:
    await conn.execute(
        "UPDATE templates SET review_due_at = $2, review_attempts = review_attempts + 1 "
        "WHERE id = $1",
        template_id,
        due_at,
    )


async def finish_removal(conn: Connection, template_id: uuid.UUID) -> None:
    await conn.execute(
        "UPDATE templates SET review_backend = NULL, review_state = NULL, review_due_at = NULL "
        "WHERE id = $1 AND review_state = 'deleting'",
        template_id,
    )


async def set_whatsapp_name(conn: Connection, template_id: uuid.UUID, whatsapp_name: str) -> None:
    await conn.execute(
        "UPDATE templates SET whatsapp_name = $2 WHERE id = $1", template_id, whatsapp_name
    )


async def get_submitting_by_whatsapp_name_for_update(conn: Connection, whatsapp_name: str) -> Any:
    """A template being submitted under `whatsapp_name` whose id WhatsApp's answer has not yet
    brought (its webhook can overtake the answer)."""
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, false AS is_inherited FROM templates "
        f"WHERE whatsapp_name = $1 AND whatsapp_template_id IS NULL "
        f"AND review_state = 'submitting' AND status = 'PENDING' AND deleted_at IS NULL "
        f"FOR UPDATE",
        whatsapp_name,
    )


async def set_whatsapp_id(conn: Connection, template_id: uuid.UUID, whatsapp_id: str) -> None:
    await conn.execute(
        "UPDATE templates SET whatsapp_template_id = $2 WHERE id = $1", template_id, whatsapp_id
    )


async def get_by_whatsapp_id_for_update(conn: Connection, whatsapp_id: str) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS}, false AS is_inherited FROM templates "
        f"WHERE whatsapp_template_id = $1 AND deleted_at IS NULL "
        f"ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
        whatsapp_id,
    )


@dataclass(frozen=True, slots=True)
class DispatchTemplate:
    """What the dispatcher sends of a template: its names and its variables, in order."""

    id: uuid.UUID
    name: str
    language: str
    whatsapp_name: str | None
    variables: list[str]


async def dispatch_info_many(
    conn: Connection, template_ids: list[uuid.UUID]
) -> list[DispatchTemplate]:
    """The templates with these ids (deleted ones included: messages already accepted with them
    are sent)."""
    if not template_ids:
        return []
    rows = await conn.fetch(
        "SELECT id, name, language, whatsapp_name, variables FROM templates "
        "WHERE id = ANY($1::uuid[])",
        template_ids,
    )
    return [DispatchTemplate(**dict(row.items())) for row in rows]
