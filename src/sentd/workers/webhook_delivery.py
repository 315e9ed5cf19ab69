"""Webhook delivery: claim due deliveries, POST them signed, record every attempt, retry with
backoff, and keep each webhook's health counters.

Claims are leases (`SENTD_WEBHOOK_LEASE_S`): a worker killed mid-batch leaves its deliveries to
be claimed again when the lease ends, so every event is delivered at least once; receivers
dedupe on `X-Webhook-Event-ID`. Within a batch, one webhook's deliveries go out one at a time,
in the order their events happened; different webhooks are served concurrently.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from sentd.db.repos import webhooks
from sentd.events import sender

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.webhooks")
BATCH = 200
DISABLE_AFTER_FAILED_EVENTS = 10


def backoff_s(attempt: int, base_s: float, cap_s: float) -> float:
    """Delay before retry number `attempt` (1, 2, …): base, doubling, capped."""
    return float(min(base_s * 2 ** (attempt - 1), cap_s))


async def deliver_due(context: WorkerContext) -> None:
    """Deliver every due delivery (batch after batch, until none is due)."""
    async with httpx.AsyncClient(http2=False) as client:
        while True:
            now = context.clock.now()
            lease = timedelta(seconds=context.settings.webhook_lease_s)
            async with context.db.transaction() as conn:
                batch = await webhooks.claim_due(conn, now, now + lease, BATCH)
            if not batch:
                return
            limit = asyncio.Semaphore(context.settings.worker_concurrency)
            groups = [
                list(group)
                for _, group in itertools.groupby(
                    sorted(batch, key=lambda d: (d["webhook_id"], d["seq"])),
                    key=lambda d: d["webhook_id"],
                )
            ]
            await asyncio.gather(*(_deliver_group(context, client, g, limit) for g in groups))
            if len(batch) < BATCH:
                return


async def _deliver_group(
    context: WorkerContext,
    client: httpx.AsyncClient,
    deliveries: list[Any],
    limit: asyncio.Semaphore,
) -> None:
    async with limit:
        for delivery in deliveries:
            if not await _deliver(context, client, delivery):
                # The webhook was disabled: leave the rest for when it is enabled again.
                async with context.db.transaction() as conn:
                    await conn.execute(
                        "UPDATE webhook_deliveries SET lease_until = NULL WHERE id = ANY($1)",
                        [d["id"] for d in deliveries],
                    )
                return


async def _deliver(context: WorkerContext, client: httpx.AsyncClient, delivery: Any) -> bool:
    """One attempt. False when the webhook is now disabled."""
    settings = context.settings
    started = context.clock.now()
    body, headers = sender.signed_request(
        secret=delivery["signing_secret"],
        webhook_id=delivery["webhook_id"],
        event_id=delivery["event_id"],
        event_type=delivery["event_type"],
        envelope=delivery["envelope"],
        now=started,
    )
    outcome = await sender.send(
        client,
        url=delivery["endpoint_url"],
        body=body,
        headers=headers,
        timeout_s=delivery["timeout_seconds"],
        allow_private=settings.webhook_allow_private,
    )
    finished = context.clock.now()
    attempt = delivery["attempts"] + 1
    retries_left = attempt <= delivery["retry_count"]
    if outcome.succeeded:
        state, next_at = "delivered", None
    elif outcome.gone or not retries_left:
        state, next_at = "failed", None
    else:
        delay = backoff_s(attempt, settings.webhook_retry_base_s, settings.webhook_retry_cap_s)
        if outcome.retry_after_s is not None:
            delay = min(max(delay, outcome.retry_after_s), settings.webhook_retry_cap_s)
        state, next_at = "retrying", finished + timedelta(seconds=delay)
    async with context.db.transaction() as conn:
        await webhooks.record_attempt(
            conn,
            delivery["id"],
            attempt,
            started_at=started,
            finished_at=finished,
            http_status=outcome.status,
            response_body=outcome.body,
            error=outcome.error,
        )
        await webhooks.finish_delivery(
            conn,
            delivery["id"],
            state=state,
            attempts=attempt,
            next_attempt_at=next_at,
            http_status=outcome.status,
            response_body=outcome.body,
            error=outcome.error,
            finished_at=finished,
        )
        await webhooks.note_outcome(
            conn,
            delivery["webhook_id"],
            at=finished,
            succeeded=outcome.succeeded,
            event_failed=state == "failed",
            disable_after=DISABLE_AFTER_FAILED_EVENTS,
            disable_now_reason="the endpoint answered 410 Gone" if outcome.gone else None,
        )
        active: bool = await conn.fetchval(
            "SELECT is_active FROM webhooks WHERE id = $1", delivery["webhook_id"]
        )
    if state == "failed":
        log.warning(
            "webhook %s: event %s failed after %d attempt(s): %s",
            delivery["webhook_id"],
            delivery["event_id"],
            attempt,
            outcome.describe(),
        )
    return active
