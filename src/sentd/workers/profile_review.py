"""Sender-profile review: decide due reviews (simulator backend) and call the customer's
`webHookUrl` with the outcome, retrying with backoff until it answers 2xx.

The callback is signed like a webhook delivery (Standard Webhooks: `x-webhook-id` is the
profile's id, `x-webhook-timestamp`, `x-webhook-signature`, plus `x-webhook-event-id`, the same
on every retry of one decision, and `x-webhook-event-type: profile`), with the organization's
callback signing secret (`GET /v3/profiles/callback-secret`, rotated with
`POST /v3/profiles/callback-secret/rotate`). Callbacks are claimed with a lease in one
transaction, sent with no database connection held, and their outcome recorded in another.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from standardwebhooks import Webhook

from sentd import outbound
from sentd.backoff import backoff
from sentd.db.repos import profiles
from sentd.services.profiles import simulated_decision

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.profile_review")
BATCH = 50
CALLBACK_TIMEOUT_S = 10.0
CALLBACK_LEASE = timedelta(seconds=60)
MAX_CALLBACK_ATTEMPTS = 8
CALLBACK_RETRY_BASE_S = 2.0  # then doubling (with jitter: `sentd.backoff`)
CALLBACK_RETRY_CAP_S = 300.0
EVENT = "profile.review_completed"


async def decide_due_reviews(context: WorkerContext) -> None:
    if context.settings.profile_review_backend != "simulator":
        return
    async with context.db.transaction() as conn:
        now = context.clock.now()
        for row in await profiles.claim_due_reviews(conn, now, BATCH):
            approved, reason = simulated_decision(row)
            await profiles.decide(conn, row["id"], approved=approved, reason=reason, now=now)
            log.info("profile %s %s", row["id"], "approved" if approved else "rejected")


async def deliver_review_callbacks(context: WorkerContext) -> None:
    now = context.clock.now()
    async with context.db.transaction() as conn:
        due = await profiles.claim_due_callbacks(conn, now, now + CALLBACK_LEASE, BATCH)
    if not due:
        return
    client = outbound.for_customers(context.settings.webhook_allow_private)

    async def one(row: Any) -> None:  # concurrently: a slow receiver delays no other
        delivered = await _post(client, row, context)
        async with context.db.transaction() as conn:
            if delivered:
                await profiles.callback_done(conn, row["id"])
                return
            attempts = row["review_callback_attempts"] + 1
            next_due = (
                context.clock.now()
                + backoff(attempts, base_s=CALLBACK_RETRY_BASE_S, cap_s=CALLBACK_RETRY_CAP_S)
                if attempts < MAX_CALLBACK_ATTEMPTS
                else None
            )
            await profiles.callback_retry(conn, row["id"], next_due)

    await asyncio.gather(*(one(row) for row in due))


def signed_callback(row: Any, now: Any) -> tuple[bytes, dict[str, str]]:
    """The callback's body and headers, signed with the organization's callback secret."""
    payload = {
        "event": EVENT,
        "profile_id": str(row["id"]),
        "organization_id": str(row["organization_id"]),
        "status": row["status"],
        "reason": row["review_reason"],
        "timestamp": now.isoformat(),
    }
    body = orjson.dumps(payload)
    msg_id = str(row["id"])
    timestamp = now.astimezone(UTC)
    signature = Webhook(row["callback_signing_secret"]).sign(msg_id, timestamp, body.decode())
    headers = {
        "content-type": "application/json",
        "x-webhook-id": msg_id,
        "x-webhook-timestamp": str(int(timestamp.timestamp())),
        "x-webhook-signature": signature,
        "x-webhook-event-id": str(row["review_callback_id"] or row["id"]),
        "x-webhook-event-type": "profile",
    }
    return body, headers


async def _post(client: outbound.OutboundClient, row: Any, context: WorkerContext) -> bool:
    url = row["review_webhook_url"]
    try:
        body, headers = signed_callback(row, context.clock.now())
        answer = await client.request(
            "POST", url, data=body, headers=headers, timeout_s=CALLBACK_TIMEOUT_S
        )
    except Exception as exc:  # one customer's callback never stops the others'
        log.warning("review callback to %s failed: %s", url, exc)
        return False
    if answer.ok:
        return True
    log.warning("review callback to %s answered %d", url, answer.status)
    return False
