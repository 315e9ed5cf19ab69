"""`emit()`: record an event in the caller's transaction and queue a delivery for every active
webhook that subscribes to it. A rolled-back (or sandbox) operation therefore emits nothing, and
a committed one cannot lose its events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sentd.db.repos import events as events_repo
from sentd.db.repos import webhooks as webhooks_repo
from sentd.db.types import Connection
from sentd.events.catalog import family_of, matches
from sentd.ids import new_id


def envelope(event_type: str, payload: dict[str, Any], now: datetime) -> dict[str, Any]:
    family = family_of(event_type)
    body: dict[str, Any] = {"field": family.field}
    if event_type != family.field:  # template events carry no "event"
        body["event"] = event_type
    body["timestamp"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    body["payload"] = payload
    return body


def prepare(
    subscribers: list[Any],
    *,
    customer_id: uuid.UUID,
    livemode: bool,
    events: list[tuple[str, str, dict[str, Any]]],
    now: datetime,
) -> events_repo.EventBatch:
    """The rows that record `events` of one customer, (event_type, discriminator, payload), and
    their deliveries to the `subscribers` (`webhooks.subscribers`) that take them."""
    batch = events_repo.EventBatch(customer_id, livemode, now)
    for event_type, discriminator, payload in events:
        event_id = new_id()
        batch.events.append((event_id, event_type, envelope(event_type, payload, now)))
        batch.deliveries.extend(
            (event_id, w["id"])
            for w in subscribers
            if _takes(w, customer_id, event_type, discriminator)
        )
    return batch


async def emit_many(
    conn: Connection,
    *,
    customer_id: uuid.UUID,
    organization_id: uuid.UUID,
    livemode: bool,
    events: list[tuple[str, str, dict[str, Any]]],
    now: datetime,
) -> list[uuid.UUID]:
    """`emit` for many events of one customer at once: one subscription lookup, then one
    statement for the events and their deliveries. `events` holds (event_type, discriminator,
    payload); returns the events' ids, in that order."""
    if not events:
        return []
    subscribers = await webhooks_repo.subscribers(conn, customer_id, organization_id, livemode)
    batch = prepare(subscribers, customer_id=customer_id, livemode=livemode, events=events, now=now)
    await events_repo.insert(conn, batch)
    return [event[0] for event in batch.events]


async def emit(
    conn: Connection,
    *,
    customer_id: uuid.UUID,
    organization_id: uuid.UUID,
    livemode: bool,
    event_type: str,
    discriminator: str,
    payload: dict[str, Any],
    now: datetime,
) -> uuid.UUID:
    """Write the event and its deliveries; returns the event id (the receivers' dedupe key)."""
    [event_id] = await emit_many(
        conn,
        customer_id=customer_id,
        organization_id=organization_id,
        livemode=livemode,
        events=[(event_type, discriminator, payload)],
        now=now,
    )
    return event_id


def _takes(webhook: Any, customer_id: uuid.UUID, event_type: str, discriminator: str) -> bool:
    if webhook["customer_id"] == customer_id:
        return matches(event_type, discriminator, webhook["event_types"], webhook["event_filters"])
    # An organization's webhook and one of its profiles' events: per its `sender_profile`.
    profile_rules = webhook["sender_profile"]
    if not profile_rules:
        return False
    return matches(
        event_type,
        discriminator,
        profile_rules.get("event_types") or [],
        profile_rules.get("event_filters"),
    )
