"""Calls, their timeline and the simulator engine's schedule; recordings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection

COLUMNS = (
    "id, customer_id, organization_id, livemode, direction, status, from_kind, from_value, "
    "to_kind, to_value, number, conference, host_call_id, muted, phone_leg, recording, "
    "record_started_at, started_at, answered_at, ended_at, duration_seconds, price_micros, "
    "failure_reason, timeline, plan, next_step_at, lease_until, provider, provider_ref, "
    "EXISTS (SELECT 1 FROM call_recordings r WHERE r.call_id = calls.id "
    "AND r.ready_at IS NOT NULL) AS recording_available"
)
LIVE = ("INITIATED", "RINGING", "ANSWERED")
_MINE = "customer_id = $1 AND livemode = $2"


async def insert(conn: Connection, values: dict[str, Any]) -> Any:
    names = sorted(values)
    placeholders = ", ".join(f"${i + 1}" for i in range(len(names)))
    return await conn.fetchrow(
        f"INSERT INTO calls ({', '.join(names)}) VALUES ({placeholders}) RETURNING {COLUMNS}",
        *(values[n] for n in names),
    )


async def get(conn: Connection, scope: Scope, call_id: uuid.UUID, *, lock: bool = False) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM calls WHERE {_MINE} AND id = $3" + (" FOR UPDATE" if lock else ""),
        *scope.params(),
        call_id,
    )


async def get_any(conn: Connection, call_id: uuid.UUID, *, lock: bool = False) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM calls WHERE id = $1" + (" FOR UPDATE" if lock else ""), call_id
    )


async def by_provider_ref(conn: Connection, provider: str, ref: str, *, lock: bool = False) -> Any:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM calls WHERE provider = $1 AND provider_ref = $2"
        + (" FOR UPDATE" if lock else ""),
        provider,
        ref,
    )


_UPDATABLE = frozenset(
    {
        "status",
        "to_kind",
        "to_value",
        "conference",
        "muted",
        "phone_leg",
        "recording",
        "record_started_at",
        "answered_at",
        "ended_at",
        "duration_seconds",
        "price_micros",
        "failure_reason",
        "timeline",
        "plan",
        "next_step_at",
        "lease_until",
        "provider_ref",
    }
)


async def update(conn: Connection, call_id: uuid.UUID, values: dict[str, Any]) -> Any:
    assert values and set(values) <= _UPDATABLE
    names = sorted(values)
    sets = ", ".join(f"{n} = ${i + 2}" for i, n in enumerate(names))
    return await conn.fetchrow(
        f"UPDATE calls SET {sets} WHERE id = $1 RETURNING {COLUMNS}",
        call_id,
        *(values[n] for n in names),
    )


async def page(
    conn: Connection,
    scope: Scope,
    *,
    direction: str | None,
    status: str | None,
    number: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    offset: int,
) -> tuple[list[Any], int]:
    """A page of the calls of `scope` (each filter None: any), newest first, and how many
    match."""
    where = (
        f"{_MINE} AND ($3::text IS NULL OR direction = $3) AND ($4::text IS NULL OR status = $4) "
        "AND ($5::text IS NULL OR number = $5) AND ($6::timestamptz IS NULL OR started_at >= $6) "
        "AND ($7::timestamptz IS NULL OR started_at <= $7)"
    )
    params = (*scope.params(), direction, status, number, since, until)
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM calls WHERE {where} "
        "ORDER BY started_at DESC, id DESC LIMIT $8 OFFSET $9",
        *params,
        limit,
        offset,
    )
    total: int = await conn.fetchval(f"SELECT count(*) FROM calls WHERE {where}", *params)
    return rows, total


async def room(conn: Connection, scope: Scope, conference: str) -> list[Any]:
    """The legs connected to a conference room now, oldest first."""
    rows: list[Any] = await conn.fetch(
        f"SELECT {COLUMNS} FROM calls WHERE {_MINE} AND conference = $3 AND status = 'ANSWERED' "
        "ORDER BY answered_at, id",
        *scope.params(),
        conference,
    )
    return rows


async def claim_due(
    conn: Connection, now: datetime, lease_until: datetime, limit: int
) -> list[Any]:
    """Calls whose next simulated step is due and which no engine holds, leased to the caller."""
    rows: list[Any] = await conn.fetch(
        f"""
        UPDATE calls SET lease_until = $2
        WHERE id IN (
            SELECT id FROM calls
            WHERE next_step_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
            ORDER BY next_step_at LIMIT $3 FOR UPDATE SKIP LOCKED
        )
        RETURNING {COLUMNS}
        """,
        now,
        lease_until,
        limit,
    )
    return rows


# --- recordings -------------------------------------------------------------------------------

RECORDING_COLUMNS = (
    "id, call_id, started_at, ended_at, duration_seconds, ready_at, media_url, url_key, "
    "provider_ref"
)


async def start_recording(
    conn: Connection, recording_id: uuid.UUID, call_id: uuid.UUID, url_key: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO call_recordings (id, call_id, started_at, url_key) VALUES ($1, $2, $3, $4)",
        recording_id,
        call_id,
        now,
        url_key,
    )


async def open_recordings(conn: Connection, call_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {RECORDING_COLUMNS} FROM call_recordings WHERE call_id = $1 AND ended_at IS NULL",
        call_id,
    )
    return rows


async def finish_recording(
    conn: Connection,
    recording_id: uuid.UUID,
    now: datetime,
    *,
    ready: bool,
    media_url: str | None = None,
    provider_ref: str | None = None,
) -> Any:
    return await conn.fetchrow(
        f"""
        UPDATE call_recordings SET ended_at = coalesce(ended_at, $2),
            duration_seconds = coalesce(duration_seconds,
                greatest(0, ceil(extract(epoch FROM $2 - started_at)))::integer),
            ready_at = CASE WHEN $3 THEN $2 ELSE ready_at END,
            media_url = coalesce($4, media_url), provider_ref = coalesce($5, provider_ref)
        WHERE id = $1 RETURNING {RECORDING_COLUMNS}
        """,
        recording_id,
        now,
        ready,
        media_url,
        provider_ref,
    )


async def ready_recordings(conn: Connection, call_id: uuid.UUID) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        f"SELECT {RECORDING_COLUMNS} FROM call_recordings "
        "WHERE call_id = $1 AND ready_at IS NOT NULL ORDER BY started_at, id",
        call_id,
    )
    return rows


async def recording(conn: Connection, recording_id: uuid.UUID) -> Any:
    return await conn.fetchrow(
        f"SELECT {RECORDING_COLUMNS} FROM call_recordings WHERE id = $1", recording_id
    )


async def recording_by_ref(conn: Connection, provider_ref: str) -> Any:
    return await conn.fetchrow(
        f"SELECT {RECORDING_COLUMNS} FROM call_recordings WHERE provider_ref = $1", provider_ref
    )


async def unready_recording(conn: Connection, call_id: uuid.UUID) -> Any:
    """The oldest recording of the call the provider has not delivered yet."""
    return await conn.fetchrow(
        f"SELECT {RECORDING_COLUMNS} FROM call_recordings WHERE call_id = $1 "
        "AND ready_at IS NULL ORDER BY started_at, id LIMIT 1 FOR UPDATE",
        call_id,
    )


async def provider_of(conn: Connection, call_id: uuid.UUID) -> str | None:
    """The provider that carries (or carried) a call, of any customer."""
    provider: str | None = await conn.fetchval("SELECT provider FROM calls WHERE id = $1", call_id)
    return provider
