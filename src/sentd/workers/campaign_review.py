"""The registry review of profile campaigns: submit the drafts of approved profiles, and let the
simulator decide the submissions that are due (the manual backend leaves that to an operator)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sentd.db.repos import campaigns as campaign_rows
from sentd.services import campaigns
from sentd.services.profiles import review_due_at

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.campaign_review")
BATCH = 50


async def submit_and_decide(context: WorkerContext) -> None:
    settings = context.settings
    async with context.db.transaction() as conn:
        now = context.clock.now()
        due_at = review_due_at(
            now, settings.profile_review_backend, settings.template_review_delay_s
        )
        for row in await campaigns.submit_ready(conn, now, due_at, BATCH):
            log.info("campaign %s submitted to the registry", row["id"])
    if settings.profile_review_backend != "simulator":
        return
    async with context.db.transaction() as conn:
        now = context.clock.now()
        for row in await campaign_rows.claim_due_reviews(conn, now, BATCH):
            approved, reason = campaigns.simulated_decision(row)
            await campaigns.decide(conn, row["id"], approved=approved, reason=reason, now=now)
            log.info("campaign %s %s", row["id"], "approved" if approved else "rejected")
