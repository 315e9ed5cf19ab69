"""The message state machine. Every change of status goes through `transition()`: it records the
status event, emits the `message.*` webhook event, and refunds a message that ends without having
been sent — all in the caller's transaction.

    SCHEDULED → QUEUED → ACCEPTED → SENT → DELIVERED → READ, or FAILED / CANCELLED

Transitions only go forward: a late or repeated provider callback that would move a message
backwards (or out of a final state) is ignored. READ without DELIVERED is accepted. FAILED and
CANCELLED end a message that was not yet delivered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sentd.auth.principal import Principal
from sentd.db.repos import balances, customers, early_receipts, messages
from sentd.db.repos.messages import Message as Message  # what the callers get
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.events.emit import emit, emit_many
from sentd.metrics import MESSAGE_TRANSITIONS

log = logging.getLogger("sentd.lifecycle")

ORDER = {"SCHEDULED": 0, "QUEUED": 1, "ACCEPTED": 2, "SENT": 3, "DELIVERED": 4, "READ": 5}
ENDINGS = frozenset({"FAILED", "CANCELLED"})
UNSENT = frozenset({"SCHEDULED", "QUEUED", "ACCEPTED"})


def may_move(current: str, new: str) -> bool:
    if current in ENDINGS or current == "RECEIVED":
        return False
    if new in ENDINGS:
        return current not in ("DELIVERED", "READ")
    return ORDER[new] > ORDER[current]


def message_payload(message: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The `message.*` event's payload; `message` is a row's columns (`Message.as_dict()`, or
    the dict the send path builds)."""
    payload: dict[str, Any] = {
        "message_status": message["status"],
        "message_id": str(message["id"]),
        "account_id": str(message["customer_id"]),
        "channel": message["channel"],
        "outbound_number": message["phone_e164"],
        "body": (message["body"] or {}).get("content"),
        "template_id": str(message["template_id"]) if message["template_id"] else None,
        "updated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if message["template_name"]:
        payload["template_name"] = message["template_name"]
    if message["status"] == "FAILED":
        payload["reason_code"] = message["reason_code"]
        payload["reason"] = message["reason"]
    if message["status"] in ("SCHEDULED", "CANCELLED") and message["scheduled_at"]:
        payload["scheduled_at"] = message["scheduled_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
    return payload


async def emit_status(
    conn: Connection, message: Message, organization_id: uuid.UUID, now: datetime
) -> None:
    await emit(
        conn,
        customer_id=message.customer_id,
        organization_id=organization_id,
        livemode=message.livemode,
        event_type=f"message.{message.status.lower()}",
        discriminator=message.status.lower(),
        payload=message_payload(message.as_dict(), now),
        now=now,
    )


async def emit_status_many(conn: Connection, rows: list[Message], now: datetime) -> None:
    """`emit_status` for many messages (of any customers) at once."""
    by_customer: dict[tuple[uuid.UUID, bool], list[Message]] = {}
    for row in rows:
        by_customer.setdefault((row.customer_id, row.livemode), []).append(row)
    for (customer_id, livemode), group in by_customer.items():
        await emit_many(
            conn,
            customer_id=customer_id,
            organization_id=await customers.organization_of(conn, customer_id),
            livemode=livemode,
            events=[
                (f"message.{r.status.lower()}", r.status.lower(), message_payload(r.as_dict(), now))
                for r in group
            ],
            now=now,
        )


async def transition(
    conn: Connection,
    message: Message,
    status: str,
    *,
    description: str,
    now: datetime,
    reason_code: str | None = None,
    reason: str | None = None,
    values: dict[str, Any] | None = None,
) -> Message | None:
    """Move `message` to `status`; None (and nothing written) when it may not move."""
    if not may_move(message.status, status):
        log.info("message %s: ignored %s -> %s", message.id, message.status, status)
        return None
    updates: dict[str, Any] = {"updated_at": now, **(values or {})}
    if status in ENDINGS:
        updates |= {
            "reason_code": reason_code,
            "reason": reason,
            "due_at": None,
            "lease_until": None,
            "simulated_next_at": None,
        }
    row = await messages.set_status(conn, message.id, message.status, status, updates)
    if row is None:
        return None
    await messages.add_events(conn, [(row.id, status, description, reason_code, reason, now)])
    if status in ENDINGS and message.status in UNSENT:
        row = await refund(conn, row, now)
    await emit_status(conn, row, await customers.organization_of(conn, row.customer_id), now)
    MESSAGE_TRANSITIONS.labels(status, row.channel).inc()
    return row


async def transition_many(
    conn: Connection,
    rows: list[Message],
    status: str,
    *,
    description: str,
    now: datetime,
    values: dict[str, list[Any]] | None = None,
) -> list[Message]:
    """`transition` for many messages at once, to a status that is not an ending (no
    refund): one UPDATE, one insert of status events, the webhook events batched per customer.
    `values` holds, per column, one value for each of `rows`. Returns the rows that moved, in the
    given order; a message that may not move (or had moved meanwhile) is left out."""
    if status in ENDINGS:
        raise ValueError("transition_many does not end messages; use transition()")
    movable: list[int] = []
    for i, message in enumerate(rows):
        if may_move(message.status, status):
            movable.append(i)
        else:
            log.info("message %s: ignored %s -> %s", message.id, message.status, status)
    if not movable:
        return []
    per_row: dict[str, list[Any]] = {"updated_at": [now] * len(movable)}
    for name, column in (values or {}).items():
        per_row[name] = [column[i] for i in movable]
    moved = await messages.set_status_many(
        conn,
        [rows[i].id for i in movable],
        [rows[i].status for i in movable],
        status,
        per_row,
    )
    by_id = {row.id: row for row in moved}
    ordered = [by_id[rows[i].id] for i in movable if rows[i].id in by_id]
    await messages.add_events_many(
        conn, [(row.id, status, description, None, None, now) for row in ordered]
    )
    await emit_status_many(conn, ordered, now)
    for row in ordered:
        MESSAGE_TRANSITIONS.labels(status, row.channel).inc()
    return ordered


async def refund(conn: Connection, message: Message, now: datetime) -> Message:
    """Give back what the message was charged, once (the message locked by the caller)."""
    if message.refunded or not message.charges:
        return message
    for charge in message.charges:
        await balances.apply(
            conn,
            Scope(charge["customer_id"], message.livemode),
            amount_micros=int(charge["micros"]),
            currency="USD",
            reason="refund",
            reference=str(message.id),
        )
    row = await messages.update(conn, message.id, {"refunded": True, "updated_at": now})
    assert row is not None  # locked: it is still there
    return row


async def record_provider_status(
    conn: Connection,
    *,
    provider: str,
    provider_message_id: str,
    status: str,
    now: datetime,
    reason_code: str | None = None,
    reason: str | None = None,
) -> bool:
    """A delivery receipt from a provider. False when no message has that id or the status
    would not move it forward (late, repeated or out-of-order receipts are ignored)."""
    message = await messages.get_by_provider_id(conn, provider, provider_message_id)
    if message is None:
        # The provider can answer faster than the dispatcher commits SENT: keep the receipt and
        # apply it when the message is recorded as sent (see `apply_early_receipts`).
        log.info("keeping an early %s receipt for %s", provider, provider_message_id)
        await early_receipts.keep(
            conn,
            provider=provider,
            provider_message_id=provider_message_id,
            status=status,
            reason_code=reason_code,
            reason=reason,
            received_at=now,
        )
        return False
    descriptions = {
        "SENT": "Handed to the carrier",
        "DELIVERED": "Delivered to the recipient",
        "READ": "Read by the recipient",
        "FAILED": "The provider reported a failure",
    }
    moved = await transition(
        conn,
        message,
        status,
        description=descriptions.get(status, status),
        now=now,
        reason_code=reason_code,
        reason=reason,
    )
    return moved is not None


async def apply_early_receipts(conn: Connection, message: Message, now: datetime) -> None:
    """Apply, in arrival order, the receipts that came before `message` was recorded as sent."""
    await apply_early_receipts_many(conn, [message], now)


async def apply_early_receipts_many(conn: Connection, rows: list[Message], now: datetime) -> None:
    """`apply_early_receipts` for many messages just recorded as sent: one look-up for all."""
    keys = [
        (r.provider, r.provider_message_id)
        for r in rows
        if r.provider is not None and r.provider_message_id is not None
    ]
    receipts = await early_receipts.take_many(conn, keys)
    for receipt in receipts:  # arrival order, per message too
        await record_provider_status(
            conn,
            provider=receipt["provider"],
            provider_message_id=receipt["provider_message_id"],
            status=receipt["status"],
            now=now,
            reason_code=receipt["reason_code"],
            reason=receipt["reason"],
        )


async def visible(
    conn: Connection, principal: Principal, message_id: uuid.UUID, lock: bool = False
) -> Message:
    """The message, when it is the principal's (customer and mode); else `RESOURCE_003`."""
    row = await messages.get(conn, message_id, lock=lock)
    if (
        row is None
        or row.customer_id != principal.customer_id
        or row.livemode != principal.livemode
    ):
        raise ApiError("RESOURCE_003", {"id": [f"No message {message_id}"]})
    return row


def cancellable(message: Message) -> bool:
    return message.status in UNSENT


async def cancel(conn: Connection, message: Message, now: datetime) -> Message:
    """Cancel a message not yet handed to a provider (the row locked by the caller);
    `BUSINESS_006` once it is past that point."""
    if not cancellable(message):
        raise ApiError(
            "BUSINESS_006", {"status": [f"The message is {message.status} and cannot change"]}
        )
    cancelled = await transition(conn, message, "CANCELLED", description="Cancelled", now=now)
    assert cancelled is not None  # locked and unsent: it moves
    return cancelled


async def message(conn: Connection, message_id: uuid.UUID) -> Message | None:
    """A message of any customer by id (what a provider's callback names), or None."""
    return await messages.get(conn, message_id)
