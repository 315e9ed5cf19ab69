"""The dispatcher, the scheduler and the simulator's clock.

* **Scheduler:** SCHEDULED messages whose time has come become QUEUED.
* **Dispatcher:** claims due QUEUED messages (and ACCEPTED ones whose lease ran out — a worker
  died, or a retry is due) with `FOR UPDATE SKIP LOCKED`, marks them ACCEPTED with a lease,
  submits each to its provider with bounded concurrency, and records SENT with the provider's id.
  A provider error that may pass is retried with exponential backoff and jitter (each attempt
  recorded with reason `INTERNAL_003`) up to `SENTD_DISPATCH_MAX_ATTEMPTS`; then, or on a
  refusal, the message FAILS and is refunded.
* **Simulator:** moves simulated messages along SENT → DELIVERED → READ on their due times.

Submission is at least once: a worker killed after the provider accepted a message but before
SENT was committed leaves the lease to run out, and the message is submitted again. The
simulator is idempotent on the message id; for other providers that window is the duplicate
window (see docs/messages.md).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sentd.db.repos import messages
from sentd.providers import simulator
from sentd.providers.base import OutboundMessage, ProviderError, TemplateRef
from sentd.services import inbound, lifecycle

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.dispatcher")
BATCH = 200

_CLAIM = f"""
    WITH due AS (
        SELECT id, status AS was FROM messages
        WHERE (status = 'QUEUED' AND due_at <= $1) OR (status = 'ACCEPTED' AND lease_until <= $1)
        ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
    )
    UPDATE messages m SET status = 'ACCEPTED', lease_until = $3, attempts = m.attempts + 1,
        updated_at = $1
    FROM due WHERE m.id = due.id
    RETURNING due.was, {", ".join("m." + c.strip() for c in messages.COLUMNS.split(","))}
"""


async def release_scheduled(context: WorkerContext) -> None:
    now = context.clock.now()
    async with context.db.transaction() as conn:
        rows = await conn.fetch(
            f"SELECT {messages.COLUMNS} FROM messages WHERE status = 'SCHEDULED' "
            f"AND scheduled_at <= $1 ORDER BY scheduled_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            BATCH,
        )
        for row in rows:
            await lifecycle.transition(
                conn,
                row,
                "QUEUED",
                description="Released at its time",
                now=now,
                values={"due_at": now},
            )


async def dispatch_due(context: WorkerContext) -> None:
    limit = asyncio.Semaphore(context.settings.worker_concurrency)

    async def one(row: Any) -> None:
        async with limit:
            await _submit(context, row)

    while True:
        claimed = await _claim(context)
        if not claimed:
            return
        await asyncio.gather(*(one(row) for row in claimed))
        if len(claimed) < BATCH:
            return


async def _claim(context: WorkerContext) -> list[Any]:
    """Take a batch in one statement; the messages that were QUEUED get their ACCEPTED event
    (and webhook events) in the same transaction, in bulk."""
    now = context.clock.now()
    lease_until = now + timedelta(seconds=context.settings.dispatch_lease_s)
    async with context.db.transaction() as conn:
        claimed = list(await conn.fetch(_CLAIM, now, BATCH, lease_until))
        accepted = [row for row in claimed if row["was"] == "QUEUED"]
        if accepted:
            await messages.add_events(
                conn,
                [(r["id"], "ACCEPTED", "Taken for dispatch", None, None, now) for r in accepted],
            )
            await lifecycle.emit_status_many(conn, accepted, now)
    return claimed


async def _outbound(conn: Any, row: Any) -> OutboundMessage:
    template = None
    if row["template_id"] is not None:
        t = await conn.fetchrow(
            "SELECT name, language, whatsapp_name, variables FROM templates WHERE id = $1",
            row["template_id"],
        )
        given = row["template_parameters"] or {}
        values = [given.get(v, given.get(str(i), "")) for i, v in enumerate(t["variables"])]
        template = TemplateRef(
            row["template_id"], t["name"], t["language"], t["whatsapp_name"], values
        )
    customer = await conn.fetchrow(
        "SELECT whatsapp_account, sending_phone_number, whatsapp_phone_number FROM customers "
        "WHERE id = $1",
        row["customer_id"],
    )
    sender = (
        customer["whatsapp_phone_number"]
        if row["channel"] == "whatsapp"
        else (customer["sending_phone_number"])
    )
    return OutboundMessage(
        id=row["id"],
        channel=row["channel"],
        to=row["phone_e164"],
        text=(row["body"] or {}).get("content") or "",
        template=template,
        media_urls=list(row["media_urls"] or []),
        subject=row["subject"],
        from_number=row["from_number"] or sender,
        livemode=row["livemode"],
        customer_id=row["customer_id"],
        attempt=row["attempts"],
        account=customer["whatsapp_account"] if row["channel"] == "whatsapp" else None,
    )


async def _submit(context: WorkerContext, row: Any) -> None:
    settings = context.settings
    provider = context.providers.for_channel(row["channel"], row["livemode"])
    async with context.db.connection() as conn:
        outbound = await _outbound(conn, row)
    error: ProviderError | None = None
    submission = None
    if provider is None:
        error = ProviderError(
            f"No provider for {row['channel']}", transient=False, reason_code="BUSINESS_007"
        )
    else:
        try:
            submission = await provider.submit(outbound)
        except ProviderError as exc:
            error = exc
        except Exception as exc:  # a bug or an unexpected answer: treat as passing
            log.exception("provider %s failed on message %s", provider.name, row["id"])
            error = ProviderError(str(exc), transient=True, reason_code="INTERNAL_003")
    now = context.clock.now()
    async with context.db.transaction() as conn:
        current = await messages.get(conn, row["id"], lock=True)
        if current is None or current["status"] != "ACCEPTED":
            return  # cancelled meanwhile, or another worker finished it
        if submission is not None and provider is not None:
            next_at = None
            if provider.name == "simulator":
                latency = timedelta(milliseconds=settings.simulator_latency_ms)
                next_at = simulator.next_step(
                    "SENT", row["channel"], row["phone_e164"], now, latency
                )
            sent = await lifecycle.transition(
                conn,
                current,
                "SENT",
                description=f"Submitted to {provider.name}",
                now=now,
                values={
                    "provider": provider.name,
                    "provider_message_id": submission.provider_message_id,
                    "from_number": outbound.from_number,
                    "lease_until": None,
                    "due_at": None,
                    "simulated_next_at": next_at,
                },
            )
            if sent is not None:
                await lifecycle.apply_early_receipts(conn, sent, now)
            return
        assert error is not None
        if error.transient and current["attempts"] < settings.dispatch_max_attempts:
            delay = min(
                settings.dispatch_retry_base_s * 2 ** (current["attempts"] - 1),
                settings.dispatch_retry_cap_s,
            ) * (0.75 + random.random() / 2)
            retry_at = now + timedelta(seconds=delay)
            await messages.update(conn, current["id"], {"lease_until": retry_at, "updated_at": now})
            await messages.add_events(
                conn,
                [
                    (
                        current["id"],
                        "ACCEPTED",
                        f"Provider error on attempt {current['attempts']}; retrying",
                        "INTERNAL_003",
                        str(error),
                        now,
                    )
                ],
            )
            return
        await lifecycle.transition(
            conn,
            current,
            "FAILED",
            description="The provider could not send it",
            now=now,
            reason_code=error.reason_code,
            reason=str(error),
        )


async def advance_simulated(context: WorkerContext) -> None:
    """The simulator's receipts: SENT → DELIVERED → READ (WhatsApp); `…0005` replies STOP."""
    now = context.clock.now()
    latency = timedelta(milliseconds=context.settings.simulator_latency_ms)
    async with context.db.transaction() as conn:
        rows = await conn.fetch(
            f"SELECT {messages.COLUMNS} FROM messages WHERE simulated_next_at <= $1 "
            f"ORDER BY simulated_next_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            BATCH,
        )
        for row in rows:
            await _advance(conn, row, now, latency)


async def _advance(conn: Any, row: Any, now: Any, latency: timedelta) -> None:
    if row["status"] == "SENT":
        next_at = simulator.next_step("DELIVERED", row["channel"], row["phone_e164"], now, latency)
        await lifecycle.transition(
            conn,
            row,
            "DELIVERED",
            description="Delivered (simulated)",
            now=now,
            values={"simulated_next_at": next_at},
        )
        return
    await messages.update(conn, row["id"], {"simulated_next_at": None})
    if row["status"] != "DELIVERED":
        return
    if simulator.magic(row["phone_e164"]) == simulator.REPLIES_STOP:
        org = await conn.fetchval(
            "SELECT COALESCE(organization_id, id) FROM customers WHERE id = $1", row["customer_id"]
        )
        await inbound.receive(
            conn,
            customer_id=row["customer_id"],
            organization_id=org,
            livemode=row["livemode"],
            channel=row["channel"],
            from_number=row["phone_e164"],
            to_number=row["from_number"],
            text="STOP",
            provider="simulator",
            provider_message_id=f"sim_in_{row['id']}",
            received_at=now,
        )
    elif row["channel"] == "whatsapp":
        await lifecycle.transition(conn, row, "READ", description="Read (simulated)", now=now)
