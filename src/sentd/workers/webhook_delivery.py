"""Webhook delivery: claim due deliveries, POST them signed, record every attempt, retry with
backoff, and keep each webhook's health counters.

Claims are leases (`SENTD_WEBHOOK_LEASE_S`): a worker killed mid-batch leaves its deliveries to
be claimed again when the lease ends, so every event is delivered at least once; receivers
dedupe on `X-Webhook-Event-ID`. Within a batch, up to `SENTD_WEBHOOK_MAX_IN_FLIGHT` of one
webhook's deliveries are in flight at once, started in the order their events happened (so they
may arrive out of order); different webhooks are served concurrently, and
`SENTD_WORKER_CONCURRENCY` bounds the requests in flight in all.

Bookkeeping is group-committed per webhook: the attempts that finish while an earlier write is
in progress are recorded together in one statement (attempt rows, delivery states, the webhook's
counters). A delivery counts as delivered only once that statement has committed; a worker that
dies before leaves the lease to run out, and the delivery is sent again. Senders do not wait for
successes to be recorded; after a failed event (which may disable the webhook) no new request
of that webhook starts until it is recorded.

A worker that is stopping (SIGTERM) claims no new batch and starts no new request; when its
senders are done (or cancelled at the end of the grace period) it clears the lease of every
delivery of the batch not yet recorded, so another worker sends them at once instead of after
the lease. A request that was in flight when cancelled may have reached the receiver: it is sent
again (at least once, as after a crash).

Isolation: whatever one attempt raises (in signing, in the HTTP client, anywhere before its
outcome) becomes that delivery's failed attempt, recorded with the reason, and follows the
normal retry and disable rules; the other deliveries of the batch go on untouched.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sentd import outbound
from sentd.backoff import backoff_s
from sentd.db.repos import webhooks
from sentd.events import sender
from sentd.metrics import WEBHOOK_DELIVERIES, WEBHOOK_SECONDS

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.webhooks")
BATCH = 200
DISABLE_AFTER_FAILED_EVENTS = 10


async def deliver_due(context: WorkerContext) -> None:
    """Deliver every due delivery (batch after batch, until none is due)."""
    settings = context.settings
    client = outbound.for_customers(settings.webhook_allow_private)
    while not context.stopping.is_set():
        now = context.clock.now()
        lease_until = now + timedelta(seconds=settings.webhook_lease_s)
        async with context.db.transaction() as conn:
            batch = await webhooks.claim_due(conn, now, lease_until, BATCH)
        if not batch:
            return
        limit = asyncio.Semaphore(settings.worker_concurrency)
        async with asyncio.TaskGroup() as tasks:
            for _, group in itertools.groupby(
                sorted(batch, key=lambda d: (d.webhook_id, d.seq)),
                key=lambda d: d.webhook_id,
            ):
                tasks.create_task(
                    _WebhookBatch(context, client, list(group), limit, lease_until).run()
                )
        if len(batch) < BATCH:
            return


class _WebhookBatch:
    """One webhook's deliveries of a claimed batch: up to `webhook_max_in_flight` at once (and
    within the process-wide `limit`), until done or until the webhook is disabled."""

    def __init__(
        self,
        context: WorkerContext,
        client: outbound.OutboundClient,
        deliveries: list[webhooks.ClaimedDelivery],
        limit: asyncio.Semaphore,
        lease_until: datetime,
    ) -> None:
        self._context = context
        self._client = client
        self._deliveries = deliveries
        self._webhook_id = deliveries[0].webhook_id
        self._limit = limit
        self._lease_until = lease_until
        self._next = iter(deliveries)  # shared by the senders: each delivery is taken once
        self._active = True
        # Finished attempts not yet recorded, with a future for those a sender waits on.
        self._unrecorded: list[tuple[webhooks.AttemptOutcome, asyncio.Future[None] | None]] = []
        self._wake = asyncio.Event()  # something to record
        self._senders_done = False
        self._risky = 0  # unrecorded failed events: recording one may disable the webhook
        self._clear = asyncio.Event()  # no risky outcome unrecorded: new requests may start
        self._clear.set()

    async def run(self) -> None:
        senders = min(self._context.settings.webhook_max_in_flight, len(self._deliveries))
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._record_finished())
                async with asyncio.TaskGroup() as sending:
                    for _ in range(senders):
                        sending.create_task(self._send_next())
                self._senders_done = True
                self._wake.set()
        finally:
            if not self._active or self._context.stopping.is_set():
                # Disabled (the rest waits for it to be enabled again) or stopping (another
                # worker takes the rest now). Recorded deliveries no longer hold this lease.
                async with self._context.db.transaction() as conn:
                    await webhooks.release(
                        conn, [d.id for d in self._deliveries], self._lease_until
                    )

    async def _send_next(self) -> None:
        for delivery in self._next:
            while True:  # a slot, with no failed event of this webhook awaiting its record
                await self._clear.wait()
                await self._limit.acquire()
                if self._clear.is_set():
                    break
                self._limit.release()
            try:
                if not self._active or self._context.stopping.is_set():
                    return
                outcome = await self._attempt(delivery)
            finally:
                self._limit.release()
            if outcome.state != "failed":
                # A success or a retry to come cannot disable the webhook: no need to wait.
                self._unrecorded.append((outcome, None))
                self._wake.set()
                continue
            # A failed event (or a 410) may disable it: start nothing more until it is recorded.
            recorded = asyncio.get_running_loop().create_future()
            self._risky += 1
            self._clear.clear()
            self._unrecorded.append((outcome, recorded))
            self._wake.set()
            await recorded

    async def _attempt(self, delivery: webhooks.ClaimedDelivery) -> webhooks.AttemptOutcome:
        settings = self._context.settings
        clock = self._context.clock
        started = clock.now()
        try:
            body, headers = sender.signed_request(
                secret=delivery.signing_secret,
                webhook_id=delivery.webhook_id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                envelope=delivery.envelope,
                now=started,
            )
            outcome = await sender.send(
                self._client,
                url=delivery.endpoint_url,
                body=body,
                headers=headers,
                timeout_s=delivery.timeout_seconds,
            )
        except Exception as exc:  # this delivery's failed attempt, never the batch's
            log.exception("webhook %s: delivery %s raised", self._webhook_id, delivery.id)
            outcome = sender.Outcome(None, None, f"sending failed: {type(exc).__name__}: {exc}")
        finished = clock.now()
        attempt = delivery.attempts + 1
        retries_left = attempt <= delivery.retry_count
        next_at: datetime | None = None
        if outcome.succeeded:
            state = "delivered"
        elif outcome.gone or not retries_left:
            state = "failed"
        else:
            delay = backoff_s(
                attempt, base_s=settings.webhook_retry_base_s, cap_s=settings.webhook_retry_cap_s
            )
            if outcome.retry_after_s is not None:
                delay = min(max(delay, outcome.retry_after_s), settings.webhook_retry_cap_s)
            state, next_at = "retrying", finished + timedelta(seconds=delay)
        WEBHOOK_DELIVERIES.labels(state).inc()
        WEBHOOK_SECONDS.observe((finished - started).total_seconds())
        if state == "failed":
            log.warning(
                "webhook %s: event %s failed after %d attempt(s): %s",
                delivery.webhook_id,
                delivery.event_id,
                attempt,
                outcome.describe(),
            )
        return webhooks.AttemptOutcome(
            delivery_id=delivery.id,
            attempt=attempt,
            state=state,
            next_attempt_at=next_at,
            started_at=started,
            finished_at=finished,
            http_status=outcome.status,
            response_body=outcome.body,
            error=outcome.error,
            succeeded=outcome.succeeded,
            disable_now_reason="the endpoint answered 410 Gone" if outcome.gone else None,
        )

    async def _record_finished(self) -> None:
        """Record finished attempts, all those that finished meanwhile in one statement, until
        the senders are done. A delivery is done only once recorded: until then its lease
        stands, and a worker that dies leaves it to be sent again."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._unrecorded:
                finished, self._unrecorded = self._unrecorded, []
                async with self._context.db.connection() as conn:
                    active = await webhooks.record_outcomes(
                        conn,
                        self._webhook_id,
                        [outcome for outcome, _ in finished],
                        disable_after=DISABLE_AFTER_FAILED_EVENTS,
                    )
                if not active:
                    self._active = False
                for _, recorded in finished:
                    if recorded is not None:
                        self._risky -= 1
                        recorded.set_result(None)
                if self._risky == 0:
                    self._clear.set()
            if self._senders_done:
                return
