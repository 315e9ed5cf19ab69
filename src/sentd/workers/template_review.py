"""Template review: the loop that moves templates from PENDING to APPROVED or REJECTED.

One tick does three things:

* decides due simulator reviews (any worker: the rule needs nothing but the row);
* with `SENTD_TEMPLATE_REVIEW_BACKEND=whatsapp`, submits due templates to the WhatsApp Cloud API
  (the verdict arrives later through Meta's webhook) and removes deleted ones there when the
  client asked for it (`delete_from_meta`).

Calls to WhatsApp happen outside any transaction: the rows are claimed with a lease (their due
time pushed a minute ahead), so a worker that dies mid-call leaves them to be taken again.
Failures to reach WhatsApp are retried with `sentd.backoff` (2 s, 4 s, … at most 5 minutes); a
refusal (4xx) rejects the template with WhatsApp's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sentd import outbound
from sentd.backoff import backoff
from sentd.db.repos import templates as repo
from sentd.db.types import Connection
from sentd.providers.whatsapp_templates import (
    WhatsAppConfig,
    WhatsAppRefused,
    WhatsAppTemplates,
    WhatsAppUnavailable,
    components,
    meta_name,
)
from sentd.services import templates
from sentd.templating import parse_definition

if TYPE_CHECKING:
    from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.workers.template_review")
BATCH = 50
LEASE = timedelta(seconds=60)
RETRY_BASE_S = 2.0  # then doubling (with jitter: `sentd.backoff`)
RETRY_CAP_S = 300.0
NOT_CONFIGURED = (
    "WhatsApp is not configured for this customer: no WABA id and access token "
    "(SENTD_WHATSAPP_WABA_ID, SENTD_WHATSAPP_ACCESS_TOKEN or the profile's WhatsApp account)"
)


async def decide_due_reviews(context: WorkerContext) -> None:
    await decide_simulated(context)
    if context.settings.template_review_backend == "whatsapp":
        config = WhatsAppConfig.from_settings(context.settings)
        await _with_leased(context, "submitting", lambda c, r: _submit(context, c, config, r))
        await _with_leased(context, "deleting", lambda c, r: _remove(c, config, r))


async def decide_simulated(context: WorkerContext) -> None:
    async with context.db.transaction() as conn:
        now = context.clock.now()
        for row in await repo.claim_scheduled(conn, now, BATCH):
            approved, reason = templates.simulated_decision(row)
            await templates.decide(conn, row, approved=approved, reason=reason, now=now)


def _retry_in(attempts: int) -> timedelta:
    return backoff(attempts, base_s=RETRY_BASE_S, cap_s=RETRY_CAP_S)


Work = Callable[[WhatsAppTemplates, Any], Awaitable[Callable[[Any], Awaitable[None]] | None]]


async def _with_leased(context: WorkerContext, state: str, work: Work) -> None:
    """Claim due rows in `state`, do `work` for each (outside a transaction); `work` returns what
    to record (run in a transaction), or None to retry later with backoff."""
    now = context.clock.now()
    async with context.db.transaction() as conn:
        rows = await repo.claim_with_lease(conn, state, now, now + LEASE, BATCH)
    if not rows:
        return
    api_base = WhatsAppConfig.from_settings(context.settings).api_base
    client = WhatsAppTemplates(outbound.for_providers(), api_base)
    for row in rows:
        try:
            record = await work(client, row)
        except WhatsAppUnavailable as exc:
            log.warning("WhatsApp unavailable for template %s: %s", row["id"], exc)
            record = None
        async with context.db.transaction() as conn:
            if record is None:
                attempts = row["review_attempts"] + 1
                await repo.retry_at(conn, row["id"], context.clock.now() + _retry_in(attempts))
            else:
                await record(conn)


async def _submit(
    context: WorkerContext, client: WhatsAppTemplates, config: WhatsAppConfig, row: Any
) -> Callable[[Any], Awaitable[None]]:
    """Send the template to WhatsApp: a new one, or an edit of the one WhatsApp already has."""
    credentials = config.credentials_for(row["whatsapp_account"])
    if credentials is None:
        return _verdict(context, row, approved=False, reason=NOT_CONFIGURED)
    definition = parse_definition(row["definition"])
    parts = components(definition, row["category"])
    try:
        if row["whatsapp_template_id"]:
            submission = await client.edit(
                credentials,
                row["whatsapp_template_id"],
                category=row["category"],
                components=parts,
            )
            name = row["whatsapp_name"]
        else:
            name = meta_name(row["name"], row["id"])
            async with context.db.transaction() as conn:  # so that an early verdict finds it
                await repo.set_whatsapp_name(conn, row["id"], name)
            submission = await client.create(
                credentials,
                name=name,
                language=row["language"],
                category=row["category"],
                components=parts,
            )
    except WhatsAppRefused as exc:
        reason = f"WhatsApp refused the template: {exc.reason}"
        return _verdict(context, row, approved=False, reason=reason)

    async def record(conn: Connection) -> None:
        current = await repo.get_for_update(conn, row["id"])
        if not _still_submitting(current):
            if current is not None and not current["whatsapp_template_id"]:
                await repo.set_whatsapp_id(conn, row["id"], submission.whatsapp_template_id)
            return
        updated = await repo.mark_submitted(
            conn,
            row["id"],
            whatsapp_id=submission.whatsapp_template_id,
            whatsapp_name=name,
            waba_id=credentials.waba_id,
        )
        log.info("template %s submitted to WhatsApp as %s", row["id"], name)
        if submission.status in ("APPROVED", "REJECTED"):  # decided on the spot
            await templates.decide(
                conn,
                updated,
                approved=submission.status == "APPROVED",
                reason="Rejected by WhatsApp",
                now=context.clock.now(),
            )

    return record


def _still_submitting(row: Any) -> bool:
    return (
        row is not None
        and row["deleted_at"] is None
        and row["status"] == "PENDING"
        and row["review_state"] == "submitting"
    )


def _verdict(
    context: WorkerContext, row: Any, *, approved: bool, reason: str
) -> Callable[[Any], Awaitable[None]]:
    async def record(conn: Connection) -> None:
        current = await repo.get_for_update(conn, row["id"])
        if _still_submitting(current):
            now = context.clock.now()
            await templates.decide(conn, current, approved=approved, reason=reason, now=now)

    return record


async def _remove(
    client: WhatsAppTemplates, config: WhatsAppConfig, row: Any
) -> Callable[[Any], Awaitable[None]]:
    """Remove a deleted template from its WhatsApp Business Account."""
    credentials = config.credentials_for(row["whatsapp_account"])
    if credentials is None:
        log.warning("template %s: cannot remove it from WhatsApp: %s", row["id"], NOT_CONFIGURED)
    else:
        try:
            await client.delete(
                credentials,
                name=row["whatsapp_name"] or "",
                whatsapp_template_id=row["whatsapp_template_id"],
            )
            log.info("template %s removed from WhatsApp", row["id"])
        except WhatsAppRefused as exc:
            log.warning("template %s: WhatsApp refused its removal: %s", row["id"], exc.reason)

    async def record(conn: Connection) -> None:
        await repo.finish_removal(conn, row["id"])

    return record
