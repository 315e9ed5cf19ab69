"""Messages and their status history."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sentd.db.types import Connection, Record


@dataclass(frozen=True, slots=True)
class Message:
    """A message, as its lookups return it (`COLUMNS`)."""

    id: uuid.UUID
    customer_id: uuid.UUID
    livemode: bool
    contact_id: uuid.UUID
    direction: str  # 'OUTBOUND' | 'INBOUND'
    channel: str
    status: str
    phone_e164: str
    phone_international: str
    region_code: str | None
    template_id: uuid.UUID | None
    template_name: str | None
    template_category: str | None
    template_parameters: dict[str, Any] | None
    body: dict[str, Any]  # the rendered message (MessageBody)
    media_urls: list[str] | None
    subject: str | None
    price_micros: int
    charges: list[dict[str, Any]]  # [{customer_id, micros}]
    refunded: bool
    provider: str | None
    provider_message_id: str | None
    from_number: str | None
    attempts: int
    due_at: datetime | None  # when the dispatcher may take it
    lease_until: datetime | None  # a dispatcher's claim (also the retry time)
    simulated_next_at: datetime | None  # the simulator's next lifecycle step
    scheduled_at: datetime | None
    reason_code: str | None
    reason: str | None
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        """Column → value (for the code that also takes the send path's dicts)."""
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(Message))
# The columns a message's lookups select, in the order of `Message`'s fields (`_message`).
COLUMNS = ", ".join(_FIELDS)
_M_COLUMNS = ", ".join(f"m.{name}" for name in _FIELDS)  # COLUMNS of `messages m`


def _message(row: Record) -> Message:
    """The message of a row of `COLUMNS` (by position: three times faster than by name, and
    the dispatcher reads a few rows per message)."""
    return Message(*row.values())


def _maybe(row: Record | None) -> Message | None:
    return None if row is None else _message(row)


async def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    await conn.executemany(
        f"INSERT INTO messages ({', '.join(names)}) VALUES ({placeholders})",
        [tuple(row[n] for n in names) for row in rows],
    )


EventRow = tuple[uuid.UUID, str, str, str | None, str | None, datetime]


async def add_events(conn: Connection, events: Sequence[EventRow]) -> None:
    await conn.executemany(
        "INSERT INTO message_events (message_id, status, description, reason_code, reason, "
        "occurred_at) VALUES ($1, $2, $3, $4, $5, $6)",
        events,
    )


async def get(conn: Connection, message_id: uuid.UUID, *, lock: bool = False) -> Message | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM messages WHERE id = $1" + (" FOR UPDATE" if lock else ""),
        message_id,
    )
    return _maybe(row)


async def get_by_provider_id(
    conn: Connection, provider: str, provider_message_id: str
) -> Message | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM messages WHERE provider = $1 AND provider_message_id = $2 "
        f"FOR UPDATE",
        provider,
        provider_message_id,
    )
    return _maybe(row)


async def set_status(
    conn: Connection, message_id: uuid.UUID, expected: str, status: str, values: dict[str, Any]
) -> Message | None:
    """Move a message from `expected` to `status` (and set `values`); None if it had moved."""
    assignments = "".join(f", {name} = ${i}" for i, name in enumerate(values, start=4))
    row = await conn.fetchrow(
        f"UPDATE messages SET status = $3{assignments} "
        f"WHERE id = $1 AND status = $2 RETURNING {COLUMNS}",
        message_id,
        expected,
        status,
        *values.values(),
    )
    return _maybe(row)


async def update(conn: Connection, message_id: uuid.UUID, values: dict[str, Any]) -> Message | None:
    """Set `values` on a message; None when there is no such message."""
    assignments = ", ".join(f"{name} = ${i}" for i, name in enumerate(values, start=2))
    row = await conn.fetchrow(
        f"UPDATE messages SET {assignments} WHERE id = $1 RETURNING {COLUMNS}",
        message_id,
        *values.values(),
    )
    return _maybe(row)


async def events_of(conn: Connection, message_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT status, description, reason_code, reason, occurred_at FROM message_events "
        "WHERE message_id = $1 ORDER BY id",
        message_id,
    )
    return rows


async def page(
    conn: Connection,
    customer_id: uuid.UUID,
    livemode: bool,
    *,
    limit: int,
    offset: int,
    contact_id: uuid.UUID | None = None,
    status: str | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    phone_e164: str | None = None,
    template_name: str | None = None,
) -> tuple[list[Message], int]:
    """Newest first; every filter is optional."""
    where = (
        "customer_id = $1 AND livemode = $2 AND ($3::uuid IS NULL OR contact_id = $3) "
        "AND ($4::text IS NULL OR status = $4) AND ($5::text IS NULL OR channel = $5) "
        "AND ($6::timestamptz IS NULL OR created_at >= $6) "
        "AND ($7::timestamptz IS NULL OR created_at <= $7) "
        "AND ($8::text IS NULL OR phone_e164 = $8) "
        "AND ($9::text IS NULL OR template_name = $9)"
    )
    params = [customer_id, livemode, contact_id, status, channel, since, until]
    params += [phone_e164, template_name]
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM messages WHERE {where} ORDER BY created_at DESC, id DESC "
        f"LIMIT $10 OFFSET $11",
        *params,
        limit,
        offset,
    )
    total: int = await conn.fetchval(f"SELECT count(*) FROM messages WHERE {where}", *params)
    return [_message(r) for r in rows], total


async def events_of_many(
    conn: Connection, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    rows = await conn.fetch(
        "SELECT message_id, status, description, reason_code, reason, occurred_at "
        "FROM message_events WHERE message_id = ANY($1) ORDER BY id",
        message_ids,
    )
    out: dict[uuid.UUID, list[Any]] = {m: [] for m in message_ids}
    for row in rows:
        out[row["message_id"]].append(row)
    return out


async def summary(conn: Connection, contact_id: uuid.UUID) -> list[Any]:
    """Per channel: messages, first and last time, successes and failures."""
    rows: list[Any] = await conn.fetch(
        """
        SELECT channel, count(*) AS total, min(created_at) AS first_at, max(created_at) AS last_at,
               count(*) FILTER (WHERE status IN ('SENT', 'DELIVERED', 'READ', 'RECEIVED')) AS ok,
               count(*) FILTER (WHERE status = 'FAILED') AS failed
        FROM messages WHERE contact_id = $1 GROUP BY channel ORDER BY channel
        """,
        contact_id,
    )
    return rows


# Set-based statements for the workers: one statement for many messages.

# The SQL type of each column `set_status_many` and `update_many` may set (for `unnest`).
_COLUMN_TYPES = {
    "provider": "text",
    "provider_message_id": "text",
    "from_number": "text",
    "due_at": "timestamptz",
    "lease_until": "timestamptz",
    "simulated_next_at": "timestamptz",
    "updated_at": "timestamptz",
    "reason_code": "text",
    "reason": "text",
}


def _per_row_columns(values: dict[str, list[Any]], first: int) -> tuple[str, str, str, list[Any]]:
    """(SET list, unnest arguments, column aliases, arguments) for per-row `values`."""
    names = list(values)
    for name in names:
        if name not in _COLUMN_TYPES:
            raise ValueError(f"no SQL type known for messages.{name}")
    sets = "".join(f", {n} = u.{n}" for n in names)
    args = "".join(f", ${i}::{_COLUMN_TYPES[n]}[]" for i, n in enumerate(names, start=first))
    aliases = "".join(f", {n}" for n in names)
    return sets, args, aliases, [values[n] for n in names]


async def lock_many(conn: Connection, message_ids: list[uuid.UUID]) -> list[Message]:
    """The messages with these ids, locked (in id order, so that two lockers cannot deadlock)."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM messages WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
        message_ids,
    )
    return [_message(r) for r in rows]


async def set_status_many(
    conn: Connection,
    message_ids: list[uuid.UUID],
    expected: list[str],
    status: str,
    values: dict[str, list[Any]],
) -> list[Message]:
    """`set_status` for many messages: each moves from its `expected` status to `status` and
    takes its own `values` (column → one value per message). Returns the rows that moved."""
    if not message_ids:
        return []
    sets, args, aliases, arguments = _per_row_columns(values, 4)
    rows = await conn.fetch(
        f"UPDATE messages m SET status = $1{sets} "
        f"FROM unnest($2::uuid[], $3::text[]{args}) AS u(id, expected{aliases}) "
        f"WHERE m.id = u.id AND m.status = u.expected "
        f"RETURNING {_M_COLUMNS}",
        status,
        message_ids,
        expected,
        *arguments,
    )
    return [_message(r) for r in rows]


async def update_many(
    conn: Connection,
    message_ids: list[uuid.UUID],
    values: dict[str, list[Any]],
    *,
    status: str | None = None,
) -> list[uuid.UUID]:
    """`update` for many messages, each with its own `values` (column → one value per message);
    with `status`, only those still in it. Returns the ids updated."""
    if not message_ids:
        return []
    sets, args, aliases, arguments = _per_row_columns(values, 3)
    rows = await conn.fetch(
        f"UPDATE messages m SET {sets.removeprefix(', ')} "
        f"FROM unnest($1::uuid[]{args}) AS u(id{aliases}) "
        f"WHERE m.id = u.id AND ($2::text IS NULL OR m.status = $2) RETURNING m.id",
        message_ids,
        status,
        *arguments,
    )
    return [r["id"] for r in rows]


async def add_events_many(conn: Connection, events: Sequence[EventRow]) -> None:
    """`add_events` in one statement (kept in the given order)."""
    if not events:
        return
    columns: list[list[Any]] = [[], [], [], [], [], []]
    for event in events:
        for column, value in zip(columns, event, strict=True):
            column.append(value)
    await conn.execute(
        "INSERT INTO message_events (message_id, status, description, reason_code, reason, "
        "occurred_at) SELECT m, s, d, rc, r, o FROM unnest($1::uuid[], $2::text[], $3::text[], "
        "$4::text[], $5::text[], $6::timestamptz[]) WITH ORDINALITY AS e(m, s, d, rc, r, o, n) "
        "ORDER BY n",
        *columns,
    )


async def claim_due(
    conn: Connection, now: datetime, limit: int, lease_until: datetime
) -> list[tuple[Message, str]]:
    """The dispatcher's claim, in one statement: up to `limit` due QUEUED messages and ACCEPTED
    ones whose lease ran out (a worker died, or a retry is due), oldest due first, skipping rows
    another worker holds. Each becomes ACCEPTED with the lease `lease_until` and one more attempt;
    each comes back with `was`, the status it had."""
    rows = await conn.fetch(
        f"""
        WITH due AS (
            SELECT id, status AS was FROM messages
            WHERE (status = 'QUEUED' AND due_at <= $1)
               OR (status = 'ACCEPTED' AND lease_until <= $1)
            ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
        )
        UPDATE messages m SET status = 'ACCEPTED', lease_until = $3, attempts = m.attempts + 1,
            updated_at = $1
        FROM due WHERE m.id = due.id
        RETURNING due.was, {_M_COLUMNS}
        """,
        now,
        limit,
        lease_until,
    )
    claimed = []
    for row in rows:
        was, *values = row.values()
        claimed.append((Message(*values), was))
    return claimed


async def lock_scheduled_due(conn: Connection, now: datetime, limit: int) -> list[Message]:
    """SCHEDULED messages whose time has come (oldest first), locked; rows other workers hold are
    skipped."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM messages WHERE status = 'SCHEDULED' AND scheduled_at <= $1 "
        f"ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_message(r) for r in rows]


async def lock_simulated_due(conn: Connection, now: datetime, limit: int) -> list[Message]:
    """Messages whose next simulated receipt is due (oldest first), locked; rows other workers
    hold are skipped."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM messages WHERE simulated_next_at <= $1 "
        f"ORDER BY simulated_next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [_message(r) for r in rows]


async def release_claims(
    conn: Connection, message_ids: list[uuid.UUID], lease_until: datetime, now: datetime
) -> None:
    """Hand back claimed messages a stopping worker did not submit: due at once (`lease_until =
    now`) and their claim's attempt given back. Only rows still held by that claim change."""
    await conn.execute(
        "UPDATE messages SET lease_until = $3, attempts = attempts - 1, updated_at = $3 "
        "WHERE id = ANY($1::uuid[]) AND status = 'ACCEPTED' AND lease_until = $2",
        message_ids,
        lease_until,
        now,
    )
