"""The reads the dashboard's pages draw that no other service offers (the contract
`routes-no-repos`: views call services, not repositories). Each takes the connection given."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.repos import dashboard, messages, webhooks
from sentd.db.scope import Scope
from sentd.db.types import Connection


async def daily_counts(conn: Connection, scope: Scope, since: datetime) -> list[Any]:
    return await dashboard.daily_final_counts(conn, scope, since)


async def ledger(conn: Connection, scope: Scope, *, limit: int, offset: int) -> list[Any]:
    return await dashboard.ledger_page(conn, scope, limit=limit, offset=offset)


async def attempts(conn: Connection, delivery_ids: list[uuid.UUID]) -> list[Any]:
    return await dashboard.attempts_of(conn, delivery_ids)


async def deliveries_of_message(conn: Connection, scope: Scope, message_id: uuid.UUID) -> list[Any]:
    return await dashboard.deliveries_of_message(conn, scope, message_id)


async def message_page(
    conn: Connection, scope: Scope, **filters: Any
) -> tuple[list[messages.Message], int]:
    return await messages.page(conn, scope.customer_id, scope.livemode, **filters)


async def message_events(conn: Connection, message_id: uuid.UUID) -> list[Any]:
    return await messages.events_of(conn, message_id)


async def webhook_list(conn: Connection, scope: Scope) -> list[webhooks.Webhook]:
    rows, _ = await webhooks.page(conn, scope, search=None, is_active=None, limit=100, offset=0)
    return rows


async def delivery_log(
    conn: Connection, webhook_id: uuid.UUID, *, limit: int, offset: int
) -> tuple[list[Any], int]:
    return await webhooks.delivery_log(conn, webhook_id, search=None, limit=limit, offset=offset)


async def awaiting_review(conn: Connection, limit: int = 200) -> tuple[list[Any], list[Any]]:
    """What waits for an operator's review decision: templates, sender profiles."""
    return (
        await dashboard.templates_awaiting_operator(conn, limit),
        await dashboard.profiles_awaiting_review(conn, limit),
    )
