"""Sender-profile review: decide due reviews (simulator backend) and call the customer's
`webHookUrl` with the outcome, retrying with backoff until it answers 2xx."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import httpx

from sentd.db.repos import profiles
from sentd.net import ForbiddenDestination, check_resolved
from sentd.services.profiles import simulated_decision

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.profile_review")
BATCH = 50
CALLBACK_TIMEOUT_S = 10.0
CALLBACK_LEASE = timedelta(seconds=60)
MAX_CALLBACK_ATTEMPTS = 8


async def decide_due_reviews(context: WorkerContext) -> None:
    if context.settings.profile_review_backend != "simulator":
        return
    async with context.db.transaction() as conn:
        now = context.clock.now()
        for row in await profiles.claim_due_reviews(conn, now, BATCH):
            approved, reason = simulated_decision(row)
            await profiles.decide(conn, row["id"], approved=approved, reason=reason, now=now)
            log.info("profile %s %s", row["id"], "approved" if approved else "rejected")


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2**attempts, 300))


async def deliver_review_callbacks(context: WorkerContext) -> None:
    now = context.clock.now()
    async with context.db.transaction() as conn:
        due = await profiles.claim_due_callbacks(conn, now, now + CALLBACK_LEASE, BATCH)
    if not due:
        return
    async with httpx.AsyncClient(timeout=CALLBACK_TIMEOUT_S) as client:
        for row in due:
            delivered = await _post(client, row, context)
            async with context.db.transaction() as conn:
                if delivered:
                    await profiles.callback_done(conn, row["id"])
                    continue
                attempts = row["review_callback_attempts"] + 1
                next_due = (
                    context.clock.now() + _backoff(attempts)
                    if attempts < MAX_CALLBACK_ATTEMPTS
                    else None
                )
                await profiles.callback_retry(conn, row["id"], next_due)


async def _post(client: httpx.AsyncClient, row: Any, context: WorkerContext) -> bool:
    url = row["review_webhook_url"]
    payload = {
        "event": "profile.review_completed",
        "profile_id": str(row["id"]),
        "organization_id": str(row["organization_id"]),
        "status": row["status"],
        "reason": row["review_reason"],
        "timestamp": context.clock.now().isoformat(),
    }
    try:
        await check_resolved(url, context.settings.webhook_allow_private)
        response = await client.post(url, json=payload)
    except (httpx.HTTPError, OSError, ForbiddenDestination) as exc:
        log.warning("review callback to %s failed: %s", url, exc)
        return False
    if response.is_success:
        return True
    log.warning("review callback to %s answered %d", url, response.status_code)
    return False
