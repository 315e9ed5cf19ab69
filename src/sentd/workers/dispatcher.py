"""The dispatcher, the scheduler and the simulator's clock.

* **Scheduler:** SCHEDULED messages whose time has come become QUEUED.
* **Dispatcher:** claims due QUEUED messages (and ACCEPTED ones whose lease ran out — a worker
  died, or a retry is due) with `FOR UPDATE SKIP LOCKED`, marks them ACCEPTED with a lease,
  submits each to its provider with bounded concurrency, and records SENT with the provider's id.
  Outcomes are recorded in bulk: what has completed of a batch is recorded in one transaction
  (set-based statements; at most every `RECORD_EVERY_S` while slow submissions are pending).
  A provider error that may pass is retried with exponential backoff and jitter (each attempt
  recorded with reason `INTERNAL_003`) up to `SENTD_DISPATCH_MAX_ATTEMPTS`; then, or on a
  refusal, the message FAILS and is refunded.
* **Simulator:** moves simulated messages along SENT → DELIVERED → READ on their due times,
  a batch at a time.

A worker that is stopping (SIGTERM) claims no new batch and submits nothing more; the messages
of its batches it has not submitted get their lease cleared at once (and their claim's attempt
given back), so another worker dispatches them without waiting for the lease.

Submission is at least once: a worker killed after the provider accepted a message but before
SENT was committed leaves the lease to run out, and the message is submitted again. The
simulator is idempotent on the message id; for other providers that window is the duplicate
window (see docs/messages.md).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sentd.backoff import backoff
from sentd.db.repos import customers, messages
from sentd.db.repos import templates as templates_repo
from sentd.db.repos.messages import Message
from sentd.db.types import Connection
from sentd.metrics import DISPATCH_SECONDS, PROVIDER_SUBMISSIONS
from sentd.providers import simulator
from sentd.providers.base import OutboundMessage, Provider, ProviderError, Submission, TemplateRef
from sentd.services import inbound, lifecycle

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.dispatcher")
BATCH = 200
LANES = 2  # batches in flight at once in one process (each claim takes its own rows)
# While some submissions of a batch are slow, what has completed is recorded at least this often
# (so that a slow provider call neither holds the others' SENT back nor lets their lease run out).
RECORD_EVERY_S = 0.5


async def release_scheduled(context: WorkerContext) -> None:
    now = context.clock.now()
    async with context.db.transaction() as conn:
        rows = await messages.lock_scheduled_due(conn, now, BATCH)
        await lifecycle.transition_many(
            conn,
            list(rows),
            "QUEUED",
            description="Released at its time",
            now=now,
            values={"due_at": [now] * len(rows)},
        )


async def dispatch_due(context: WorkerContext) -> None:
    """Dispatch until nothing is due, in `LANES` concurrent lanes of claim → submit → record
    (while one lane waits on the database, another submits). `SENTD_WORKER_CONCURRENCY` bounds
    the submissions in flight across the lanes."""
    limit = asyncio.Semaphore(context.settings.worker_concurrency)
    lanes = (_lane(context, limit) for _ in range(LANES))
    results = await asyncio.gather(*lanes, return_exceptions=True)
    for result in results:  # a failed lane does not stop the others; its tick is logged
        if isinstance(result, BaseException):
            raise result


async def _lane(context: WorkerContext, limit: asyncio.Semaphore) -> None:
    while not context.stopping.is_set():
        claimed = await _claim(context)
        if not claimed:
            return
        await _dispatch(context, claimed, limit)
        if len(claimed) < BATCH:
            return


async def _claim(context: WorkerContext) -> list[Message]:
    """Take a batch in one statement; the messages that were QUEUED get their ACCEPTED event
    (and webhook events) in the same transaction, in bulk."""
    now = context.clock.now()
    lease_until = now + timedelta(seconds=context.settings.dispatch_lease_s)
    async with context.db.transaction() as conn:
        claimed = await messages.claim_due(conn, now, BATCH, lease_until)
        accepted = [row for row, was in claimed if was == "QUEUED"]
        if accepted:
            await messages.add_events_many(
                conn,
                [(r.id, "ACCEPTED", "Taken for dispatch", None, None, now) for r in accepted],
            )
            await lifecycle.emit_status_many(conn, accepted, now)
    return [row for row, _ in claimed]


@dataclass(slots=True)
class _Outcome:
    """One submission: its provider's answer (`submission`) or the error."""

    row: Message
    provider: Provider | None
    outbound: OutboundMessage
    submission: Submission | None = None
    error: ProviderError | None = None


async def _dispatch(
    context: WorkerContext, claimed: list[Message], limit: asyncio.Semaphore
) -> None:
    """Submit a claimed batch with bounded concurrency and record the outcomes in bulk."""
    async with context.db.connection() as conn:
        outbounds = await _outbounds(conn, claimed)

    started: set[uuid.UUID] = set()

    async def one(row: Message, outbound: OutboundMessage) -> _Outcome | None:
        async with limit:
            if context.stopping.is_set():
                return None  # not started: released below
            started.add(row.id)
            return await _submit(context, row, outbound)

    pending = {
        asyncio.create_task(one(row, outbounds[row.id])) for row in claimed if row.id in outbounds
    }
    try:
        while pending:
            done, pending = await asyncio.wait(pending, timeout=RECORD_EVERY_S)
            finished = [outcome for task in done if (outcome := task.result()) is not None]
            if finished:
                await _record(context, finished)
    finally:
        # Cancelled submissions may have reached the provider: their lease runs out and they are
        # claimed again. Those never started are handed back at once when stopping.
        for task in pending:
            task.cancel()
        unstarted = [row for row in claimed if row.id in outbounds and row.id not in started]
        if unstarted and context.stopping.is_set():
            lease_until = unstarted[0].lease_until  # the claim's (the same for its batch)
            assert lease_until is not None
            async with context.db.transaction() as conn:
                await messages.release_claims(
                    conn, [row.id for row in unstarted], lease_until, context.clock.now()
                )


async def _outbounds(conn: Connection, rows: list[Message]) -> dict[uuid.UUID, OutboundMessage]:
    """What each claimed message is submitted as; its templates and senders in two queries. A
    message that cannot be built is logged and left to its lease (claimed again later)."""
    template_ids = list({r.template_id for r in rows if r.template_id is not None})
    templates = {t.id: t for t in await templates_repo.dispatch_info_many(conn, template_ids)}
    senders = {
        c.id: c for c in await customers.senders_many(conn, list({r.customer_id for r in rows}))
    }
    out: dict[uuid.UUID, OutboundMessage] = {}
    for row in rows:
        try:
            out[row.id] = _outbound(row, templates, senders)
        except Exception:
            log.exception("message %s: cannot build its submission", row.id)
    return out


def _outbound(
    row: Message,
    templates: dict[uuid.UUID, templates_repo.DispatchTemplate],
    senders: dict[uuid.UUID, customers.Senders],
) -> OutboundMessage:
    template = None
    if row.template_id is not None:
        t = templates[row.template_id]
        given = row.template_parameters or {}
        values = [given.get(v, given.get(str(i), "")) for i, v in enumerate(t.variables)]
        template = TemplateRef(row.template_id, t.name, t.language, t.whatsapp_name, values)
    customer = senders[row.customer_id]
    whatsapp = row.channel == "whatsapp"
    sender = customer.whatsapp_phone_number if whatsapp else customer.sending_phone_number
    return OutboundMessage(
        id=row.id,
        channel=row.channel,
        to=row.phone_e164,
        text=(row.body or {}).get("content") or "",
        template=template,
        media_urls=list(row.media_urls or []),
        subject=row.subject,
        from_number=row.from_number or sender,
        livemode=row.livemode,
        customer_id=row.customer_id,
        attempt=row.attempts,
        account=customer.whatsapp_account if whatsapp else None,
    )


async def _submit(context: WorkerContext, row: Message, outbound: OutboundMessage) -> _Outcome:
    provider = context.providers.for_channel(row.channel, row.livemode)
    outcome = _Outcome(row, provider, outbound)
    if provider is None:
        # Accepted while a provider was configured, dispatched after it was taken away.
        reason = context.providers.why_none(row.channel) if row.livemode else "No provider"
        outcome.error = ProviderError(reason, transient=False, reason_code="PROVIDER_003")
        return outcome
    started = time.perf_counter()
    try:
        outcome.submission = await provider.submit(outbound)
    except ProviderError as exc:
        outcome.error = exc
    except Exception as exc:  # a bug or an unexpected answer: treat as passing
        log.exception("provider %s failed on message %s", provider.name, row.id)
        outcome.error = ProviderError(str(exc), transient=True, reason_code="INTERNAL_003")
    DISPATCH_SECONDS.labels(provider.name).observe(time.perf_counter() - started)
    result = "sent" if outcome.error is None else "retry" if outcome.error.transient else "failed"
    PROVIDER_SUBMISSIONS.labels(provider.name, result).inc()
    return outcome


async def _record(context: WorkerContext, outcomes: list[_Outcome]) -> None:
    """Record the outcomes of submissions in one transaction: SENT (with the provider's id, then
    any early receipts), a retry with backoff, or FAILED. A message that is no longer ACCEPTED
    (cancelled meanwhile, or another worker finished it) is left alone: SENT is one UPDATE
    guarded by `status = 'ACCEPTED'`; the others are locked and checked first."""
    settings = context.settings
    now = context.clock.now()
    sent: dict[str, list[_Outcome]] = {}  # by provider
    unsent: list[_Outcome] = []
    for outcome in outcomes:
        if outcome.submission is not None and outcome.provider is not None:
            sent.setdefault(outcome.provider.name, []).append(outcome)
        else:
            unsent.append(outcome)
    async with context.db.transaction() as conn:
        for name, group in sent.items():
            await _record_sent(context, conn, name, group, now)
        if not unsent:
            return
        current = {r.id: r for r in await messages.lock_many(conn, [o.row.id for o in unsent])}
        retries: list[tuple[Message, ProviderError]] = []
        failures: list[tuple[Message, ProviderError]] = []
        for outcome in unsent:
            row = current.get(outcome.row.id)
            if row is None or row.status != "ACCEPTED":
                continue
            error = outcome.error
            assert error is not None
            if error.transient and row.attempts < settings.dispatch_max_attempts:
                retries.append((row, error))
            else:
                failures.append((row, error))
        if retries:
            await _record_retries(context, conn, retries, now)
        for row, error in failures:
            await lifecycle.transition(
                conn,
                row,
                "FAILED",
                description="The provider could not send it",
                now=now,
                reason_code=error.reason_code,
                reason=str(error),
            )


async def _record_sent(
    context: WorkerContext, conn: Connection, provider: str, group: list[_Outcome], now: datetime
) -> None:
    """ACCEPTED → SENT for the messages one provider took (the claimed rows are ACCEPTED; the
    UPDATE moves only those still ACCEPTED), then the receipts that came before."""
    next_at: list[datetime | None] = [None] * len(group)
    if provider == "simulator":
        latency = timedelta(milliseconds=context.settings.simulator_latency_ms)
        next_at = [
            simulator.next_step("SENT", o.row.channel, o.row.phone_e164, now, latency)
            for o in group
        ]
    sent = await lifecycle.transition_many(
        conn,
        [o.row for o in group],
        "SENT",
        description=f"Submitted to {provider}",
        now=now,
        values={
            "provider": [provider] * len(group),
            "provider_message_id": [
                o.submission.provider_message_id if o.submission else None for o in group
            ],
            "from_number": [o.outbound.from_number for o in group],
            "lease_until": [None] * len(group),
            "due_at": [None] * len(group),
            "simulated_next_at": next_at,
        },
    )
    await lifecycle.apply_early_receipts_many(conn, sent, now)


async def _record_retries(
    context: WorkerContext,
    conn: Connection,
    retries: list[tuple[Message, ProviderError]],
    now: datetime,
) -> None:
    """A provider error that may pass: try again later, with exponential backoff and jitter."""
    settings = context.settings
    retry_at = [
        now
        + backoff(
            row.attempts,
            base_s=settings.dispatch_retry_base_s,
            cap_s=settings.dispatch_retry_cap_s,
        )
        for row, _ in retries
    ]
    await messages.update_many(
        conn,
        [row.id for row, _ in retries],
        {"lease_until": retry_at, "updated_at": [now] * len(retries)},
        status="ACCEPTED",
    )
    await messages.add_events_many(
        conn,
        [
            (
                row.id,
                "ACCEPTED",
                f"Provider error on attempt {row.attempts}; retrying",
                "INTERNAL_003",
                str(error),
                now,
            )
            for row, error in retries
        ],
    )


async def advance_simulated(context: WorkerContext) -> None:
    """The simulator's receipts: SENT → DELIVERED → READ (WhatsApp); `…0005` replies STOP.
    A batch at a time, in bulk."""
    now = context.clock.now()
    latency = timedelta(milliseconds=context.settings.simulator_latency_ms)
    keywords = inbound.Keywords.from_settings(context.settings)
    async with context.db.transaction() as conn:
        rows = await messages.lock_simulated_due(conn, now, BATCH)
        sent = [r for r in rows if r.status == "SENT"]
        await lifecycle.transition_many(
            conn,
            sent,
            "DELIVERED",
            description="Delivered (simulated)",
            now=now,
            values={
                "simulated_next_at": [
                    simulator.next_step("DELIVERED", r.channel, r.phone_e164, now, latency)
                    for r in sent
                ]
            },
        )
        later = [r for r in rows if r.status != "SENT"]
        await messages.update_many(
            conn, [r.id for r in later], {"simulated_next_at": [None] * len(later)}
        )
        delivered = [r for r in later if r.status == "DELIVERED"]
        stops = [r for r in delivered if simulator.magic(r.phone_e164) == simulator.REPLIES_STOP]
        for row in stops:
            await _reply_stop(conn, row, now, keywords)
        stopped = {r.id for r in stops}
        read = [r for r in delivered if r.channel == "whatsapp" and r.id not in stopped]
        await lifecycle.transition_many(conn, read, "READ", description="Read (simulated)", now=now)


async def _reply_stop(
    conn: Connection, row: Message, now: datetime, keywords: inbound.Keywords
) -> None:
    org = await customers.organization_of(conn, row.customer_id)
    await inbound.receive(
        conn,
        customer_id=row.customer_id,
        organization_id=org,
        livemode=row.livemode,
        channel=row.channel,
        from_number=row.phone_e164,
        to_number=row.from_number,
        text="STOP",
        provider="simulator",
        provider_message_id=f"sim_in_{row.id}",
        received_at=now,
        keywords=keywords,
    )
