"""Contacts of a customer in one mode. Reads may widen to the organization's contacts for a
profile that inherits them (`inherited_from`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.params import Params
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id
from sentd.phones import PhoneInfo

COLUMNS = (
    "id, customer_id, livemode, phone_number, phone_e164, format_international, "
    "format_national, format_rfc, country_code, region_code, line_type, carrier_name, "
    "available_channels, default_channel, opt_out, opt_out_changed_at, created_at, updated_at"
)

# Rows visible to a scope: its own, plus (for a profile that inherits) its organization's.
_VISIBLE = "livemode = $2 AND deleted_at IS NULL AND (customer_id = $1 OR customer_id = $3::uuid)"


async def insert(
    conn: Connection,
    scope: Scope,
    phone_number: str,
    info: PhoneInfo,
    available_channels: list[str],
) -> Any:
    """The new contact, or None when the scope already has one with this number."""
    return await conn.fetchrow(
        f"""
        INSERT INTO contacts (id, customer_id, livemode, phone_number, phone_e164,
            format_international, format_national, format_rfc, country_code, region_code,
            line_type, carrier_name, available_channels)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (customer_id, livemode, phone_e164) WHERE deleted_at IS NULL DO NOTHING
        RETURNING {COLUMNS}
        """,
        new_id(),
        *scope.params(),
        phone_number,
        info.e164,
        info.international,
        info.national,
        info.rfc3966,
        info.country_code,
        info.region_code,
        info.line_type,
        info.carrier_name,
        ",".join(available_channels),
    )


async def get_visible(
    conn: Connection, scope: Scope, inherited_from: uuid.UUID | None, contact_id: uuid.UUID
) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM contacts WHERE {_VISIBLE} AND id = $4",
        *scope.params(),
        inherited_from,
        contact_id,
    )


async def get_many_by_phone(conn: Connection, scope: Scope, numbers: list[str]) -> dict[str, Any]:
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM contacts WHERE customer_id = $1 AND livemode = $2 "
        f"AND phone_e164 = ANY($3) AND deleted_at IS NULL",
        *scope.params(),
        numbers,
    )
    return {r["phone_e164"]: r for r in rows}


def insert_many_cte(p: Params) -> str:
    """A common table expression, `new_contacts (id, phone_e164)`, that creates contacts for
    numbers the scope does not have yet and gives the id of each — the existing contact's when
    a concurrent operation created it first. Its values (`insert_many_values`) are named
    `contact.*` in `p`."""
    arrays = ", ".join(p(f"contact.{name}", f"{cast}[]") for name, cast in _NEW_CONTACT)
    return f"""
        new_contacts AS (
            INSERT INTO contacts AS c (id, customer_id, livemode, phone_number, phone_e164,
                format_international, format_national, format_rfc, country_code, region_code,
                line_type, carrier_name, available_channels)
            SELECT n.id, {p("contact.customer_id", "uuid")}, {p("contact.livemode", "boolean")},
                n.e164, n.e164, n.international, n.national, n.rfc, n.country_code,
                n.region_code, n.line_type, n.carrier_name, n.channels
            FROM unnest({arrays})
                AS n({", ".join(name for name, _ in _NEW_CONTACT)})
            ON CONFLICT (customer_id, livemode, phone_e164) WHERE deleted_at IS NULL
                DO UPDATE SET updated_at = c.updated_at
            RETURNING c.id, c.phone_e164
        )"""


_NEW_CONTACT = (
    ("id", "uuid"),
    ("e164", "text"),
    ("international", "text"),
    ("national", "text"),
    ("rfc", "text"),
    ("country_code", "text"),
    ("region_code", "text"),
    ("line_type", "text"),
    ("carrier_name", "text"),
    ("channels", "text"),
)


def insert_many_values(
    scope: Scope, infos: list[PhoneInfo], channels: list[list[str]]
) -> dict[str, Any]:
    """The values of `insert_many_cte`: one new contact per number of `infos`."""
    return {
        "contact.customer_id": scope.customer_id,
        "contact.livemode": scope.livemode,
        "contact.id": [new_id() for _ in infos],
        "contact.e164": [i.e164 for i in infos],
        "contact.international": [i.international for i in infos],
        "contact.national": [i.national for i in infos],
        "contact.rfc": [i.rfc3966 for i in infos],
        "contact.country_code": [i.country_code for i in infos],
        "contact.region_code": [i.region_code for i in infos],
        "contact.line_type": [i.line_type for i in infos],
        "contact.carrier_name": [i.carrier_name for i in infos],
        "contact.channels": [",".join(c) for c in channels],
    }


async def get_by_phone(conn: Connection, scope: Scope, e164: str) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM contacts WHERE customer_id = $1 AND livemode = $2 "
        f"AND phone_e164 = $3 AND deleted_at IS NULL",
        *scope.params(),
        e164,
    )


async def page(
    conn: Connection,
    scope: Scope,
    inherited_from: uuid.UUID | None,
    *,
    search: str | None,
    channel: str | None,
    phone_prefix: str | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    where = (
        f"{_VISIBLE} "
        "AND ($4::text IS NULL OR phone_number ILIKE $4 OR phone_e164 ILIKE $4 "
        "     OR format_national ILIKE $4 OR format_international ILIKE $4) "
        "AND ($5::text IS NULL OR $5 = ANY(string_to_array(available_channels, ','))) "
        "AND ($6::text IS NULL OR phone_e164 LIKE $6)"
    )
    params = [
        *scope.params(),
        inherited_from,
        f"%{_escape_like(search)}%" if search else None,
        channel,
        f"{_escape_like(phone_prefix)}%" if phone_prefix else None,
    ]
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM contacts WHERE {where} ORDER BY created_at, id LIMIT $7 OFFSET $8",
        *params,
        limit,
        offset,
    )
    total: int = await conn.fetchval(f"SELECT count(*) FROM contacts WHERE {where}", *params)
    return rows, total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def update(
    conn: Connection,
    contact_id: uuid.UUID,
    *,
    default_channel: str | None,
    set_default_channel: bool,
    opt_out: bool | None,
    now: datetime,
) -> Any:
    return await conn.fetchrow(
        f"""
        UPDATE contacts SET
            default_channel = CASE WHEN $2 THEN $3 ELSE default_channel END,
            opt_out_changed_at = CASE WHEN $4::boolean IS NOT NULL AND $4 <> opt_out
                                      THEN $5 ELSE opt_out_changed_at END,
            opt_out = COALESCE($4, opt_out),
            updated_at = $5
        WHERE id = $1 RETURNING {COLUMNS}
        """,
        contact_id,
        set_default_channel,
        default_channel,
        opt_out,
        now,
    )


async def soft_delete(conn: Connection, contact_id: uuid.UUID, now: datetime) -> None:
    await conn.execute(
        "UPDATE contacts SET deleted_at = $2, updated_at = $2 WHERE id = $1", contact_id, now
    )


USAGE_SQL = (
    "SELECT count(*) FROM contacts c JOIN customers cu ON cu.id = c.customer_id "
    "WHERE COALESCE(cu.organization_id, cu.id) = $1 AND c.livemode = $2 AND c.deleted_at IS NULL"
)
