"""The dashboard's own rows: sessions, passwords, the sign-in throttle, and the reads its pages
draw (daily message counts, ledger pages, webhook attempts)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id

# What a session's request needs, in one query: the session, its user and the organization.
_SESSION = """
    SELECT s.id, s.user_id, s.csrf_token, s.livemode, s.expires_at,
           u.email, u.name, u.role, u.operator, u.organization_id,
           o.name AS organization_name, o.plan, o.limits, o.suspended_at,
           p.id AS profile_id, p.name AS profile_name
    FROM dashboard_sessions s
    JOIN users u ON u.id = s.user_id
    JOIN customers o ON o.id = u.organization_id
    -- The profile acted as: only one of the user's organization, and not deleted.
    LEFT JOIN customers p ON p.id = s.profile_id AND p.kind = 'profile'
         AND p.organization_id = u.organization_id AND p.deleted_at IS NULL
    WHERE s.token_hash = $1 AND s.expires_at > $2
      AND u.status = 'active' AND u.removed_at IS NULL AND o.deleted_at IS NULL
"""


async def session_by_token(conn: Connection, token_hash: bytes, now: datetime) -> Any:
    return await conn.fetchrow(_SESSION, token_hash, now)


async def insert_session(
    conn: Connection,
    *,
    token_hash: bytes,
    user_id: uuid.UUID,
    csrf_token: str,
    livemode: bool,
    now: datetime,
    expires_at: datetime,
) -> uuid.UUID:
    session_id = new_id()
    await conn.execute(
        "INSERT INTO dashboard_sessions (id, token_hash, user_id, csrf_token, livemode, "
        "created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        session_id,
        token_hash,
        user_id,
        csrf_token,
        livemode,
        now,
        expires_at,
    )
    return session_id


async def delete_session(conn: Connection, token_hash: bytes) -> None:
    await conn.execute("DELETE FROM dashboard_sessions WHERE token_hash = $1", token_hash)


async def delete_sessions_of_user(conn: Connection, user_id: uuid.UUID) -> None:
    await conn.execute("DELETE FROM dashboard_sessions WHERE user_id = $1", user_id)


async def delete_expired_sessions(conn: Connection, now: datetime) -> None:
    await conn.execute("DELETE FROM dashboard_sessions WHERE expires_at <= $1", now)


async def set_session_mode(conn: Connection, session_id: uuid.UUID, livemode: bool) -> None:
    await conn.execute(
        "UPDATE dashboard_sessions SET livemode = $2 WHERE id = $1", session_id, livemode
    )


async def set_session_profile(
    conn: Connection, session_id: uuid.UUID, profile_id: uuid.UUID | None
) -> None:
    await conn.execute(
        "UPDATE dashboard_sessions SET profile_id = $2 WHERE id = $1", session_id, profile_id
    )


async def active_users_by_email(conn: Connection, email: str) -> list[Any]:
    """Every active user with this email (any case), oldest first, with their password hash."""
    rows: list[Any] = await conn.fetch(
        "SELECT u.id, u.organization_id, u.email, u.password_hash FROM users u "
        "JOIN customers o ON o.id = u.organization_id "
        "WHERE lower(u.email) = lower($1) AND u.status = 'active' AND u.removed_at IS NULL "
        "AND o.deleted_at IS NULL ORDER BY u.created_at, u.id",
        email,
    )
    return rows


async def stamp_login(conn: Connection, user_id: uuid.UUID, now: datetime) -> None:
    await conn.execute("UPDATE users SET last_login_at = $2 WHERE id = $1", user_id, now)


async def set_password(conn: Connection, user_id: uuid.UUID, password_hash: str) -> None:
    """Set the password; any pending password-set link dies with it."""
    await conn.execute(
        "UPDATE users SET password_hash = $2, password_token_hash = NULL, "
        "password_token_expires_at = NULL, updated_at = now() WHERE id = $1",
        user_id,
        password_hash,
    )


async def set_password_token(
    conn: Connection, user_id: uuid.UUID, token_hash: bytes, expires_at: datetime
) -> None:
    await conn.execute(
        "UPDATE users SET password_token_hash = $2, password_token_expires_at = $3 WHERE id = $1",
        user_id,
        token_hash,
        expires_at,
    )


async def user_by_password_token(conn: Connection, token_hash: bytes) -> Any:
    return await conn.fetchrow(
        "SELECT id, organization_id, email, status, removed_at, password_token_expires_at "
        "FROM users WHERE password_token_hash = $1 FOR UPDATE",
        token_hash,
    )


async def user_by_email_in(
    conn: Connection, organization_id: uuid.UUID | None, email: str
) -> list[Any]:
    """Users (not removed) with this email, in one organization or all of them."""
    rows: list[Any] = await conn.fetch(
        "SELECT id, organization_id, email, role, status, password_hash, operator FROM users "
        "WHERE lower(email) = lower($1) AND removed_at IS NULL "
        "AND ($2::uuid IS NULL OR organization_id = $2) ORDER BY created_at, id",
        email,
        organization_id,
    )
    return rows


async def set_operator(conn: Connection, user_id: uuid.UUID, operator: bool) -> None:
    await conn.execute(
        "UPDATE users SET operator = $2, updated_at = now() WHERE id = $1", user_id, operator
    )


async def operators(conn: Connection) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT id, organization_id, email FROM users WHERE operator AND removed_at IS NULL "
        "ORDER BY email"
    )
    return rows


# -- the sign-in throttle -------------------------------------------------------------------


async def recent_failures(conn: Connection, email: str, since: datetime) -> list[datetime]:
    rows = await conn.fetch(
        "SELECT failed_at FROM dashboard_signin_failures WHERE email = $1 AND failed_at > $2 "
        "ORDER BY failed_at",
        email,
        since,
    )
    return [r["failed_at"] for r in rows]


async def record_failure(
    conn: Connection, email: str, now: datetime, forget_before: datetime
) -> None:
    await conn.execute(
        "DELETE FROM dashboard_signin_failures WHERE email = $1 AND failed_at <= $2",
        email,
        forget_before,
    )
    await conn.execute(
        "INSERT INTO dashboard_signin_failures (email, failed_at) VALUES ($1, $2)", email, now
    )


async def forget_failures(conn: Connection, email: str) -> None:
    await conn.execute("DELETE FROM dashboard_signin_failures WHERE email = $1", email)


# -- reads for the pages ---------------------------------------------------------------------


async def daily_final_counts(conn: Connection, scope: Scope, since: datetime) -> list[Any]:
    """Messages created since `since`, per UTC day and status."""
    rows: list[Any] = await conn.fetch(
        "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, count(*) AS n "
        "FROM messages WHERE customer_id = $1 AND livemode = $2 AND created_at >= $3 "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        scope.customer_id,
        scope.livemode,
        since,
    )
    return rows


async def ledger_page(conn: Connection, scope: Scope, *, limit: int, offset: int) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT * FROM ledger_entries WHERE customer_id = $1 AND livemode = $2 "
        "ORDER BY created_at DESC LIMIT $3 OFFSET $4",
        scope.customer_id,
        scope.livemode,
        limit,
        offset,
    )
    return rows


async def attempts_of(conn: Connection, delivery_ids: list[uuid.UUID]) -> list[Any]:
    rows: list[Any] = await conn.fetch(
        "SELECT delivery_id, attempt, started_at, finished_at, http_status, response_body, error "
        "FROM webhook_attempts WHERE delivery_id = ANY($1::uuid[]) ORDER BY delivery_id, attempt",
        delivery_ids,
    )
    return rows


async def deliveries_of_message(conn: Connection, scope: Scope, message_id: uuid.UUID) -> list[Any]:
    """Webhook deliveries of the events about one message (the event payload names it)."""
    rows: list[Any] = await conn.fetch(
        "SELECT d.id, d.webhook_id, d.event_type, d.state, d.attempts, d.http_status_code, "
        "d.created_at, w.endpoint_url FROM webhook_deliveries d "
        "JOIN events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id "
        "WHERE w.customer_id = $1 AND w.livemode = $2 "
        "AND e.envelope -> 'payload' ->> 'message_id' = $3 ORDER BY d.seq",
        scope.customer_id,
        scope.livemode,
        str(message_id),
    )
    return rows


async def templates_awaiting_operator(conn: Connection, limit: int) -> list[Any]:
    """Templates under manual review (every organization), the longest waiting first."""
    rows: list[Any] = await conn.fetch(
        "SELECT t.id, t.name, t.category, t.language, t.livemode, t.definition, t.submitted_at, "
        "t.customer_id, o.name AS organization_name FROM templates t "
        "JOIN customers o ON o.id = t.organization_id "
        "WHERE t.status = 'PENDING' AND t.review_state = 'awaiting_operator' "
        "AND t.deleted_at IS NULL ORDER BY t.submitted_at NULLS FIRST, t.id LIMIT $1",
        limit,
    )
    return rows


async def profiles_awaiting_review(conn: Connection, limit: int) -> list[Any]:
    """Sender profiles awaiting a review decision (every organization), oldest change first."""
    rows: list[Any] = await conn.fetch(
        "SELECT p.id, p.name, p.updated_at, p.organization_id, o.name AS organization_name "
        "FROM customers p JOIN customers o ON o.id = p.organization_id "
        "WHERE p.kind = 'profile' AND p.status = 'pending_review' AND p.deleted_at IS NULL "
        "ORDER BY p.updated_at, p.id LIMIT $1",
        limit,
    )
    return rows


async def memberships(conn: Connection, email: str) -> list[Any]:
    """The organizations an email belongs to (active users with it, any case), oldest first."""
    rows: list[Any] = await conn.fetch(
        "SELECT u.id AS user_id, u.organization_id, u.role, "
        "u.password_hash IS NOT NULL AS has_password, o.name AS organization_name, "
        "o.suspended_at FROM users u JOIN customers o ON o.id = u.organization_id "
        "WHERE lower(u.email) = lower($1) AND u.status = 'active' AND u.removed_at IS NULL "
        "AND o.deleted_at IS NULL ORDER BY u.created_at, u.id",
        email,
    )
    return rows
