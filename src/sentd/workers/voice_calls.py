"""The simulator's call engine: every call whose next step is due is claimed with a lease and
moved on — ask the callback (no database connection held while it answers), ring, answer, end.
A process that dies mid-step leaves the lease to run out; another takes the call over, and each
step re-checks the call's status under the row lock, so nothing happens twice.

Magic numbers (the last four digits of the number a leg rings): `0001` fails (FAILED), `0002`
never answers (NO_ANSWER), `0003` declines (REJECTED); any other number, app user or conference
room answers after `SENTD_SIMULATOR_LATENCY_MS`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sentd.db.repos import calls as repo
from sentd.db.repos import voice_numbers
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.pricing import price_list
from sentd.services import calls
from sentd.voice import callback, contract
from sentd.workers.runner import WorkerContext

log = logging.getLogger("sentd.voice")
LEASE = timedelta(seconds=30)
BATCH = 20
FAILS, NO_ANSWER, DECLINES = "0001", "0002", "0003"


async def advance_calls(context: WorkerContext) -> None:
    now = context.clock.now()
    async with context.db.transaction() as conn:
        rows = await repo.claim_due(conn, now, now + LEASE, BATCH)
    for row in rows:
        try:
            await _step(context, row)
        except Exception:
            log.exception("call %s: step failed; retried when its lease runs out", row["id"])


async def _step(context: WorkerContext, row: Any) -> None:
    step = row["plan"].get("step")
    if step == "ask":
        await _ask(context, row)
    elif step == "ring":
        await _ring(context, row)
    elif step == "talk":
        async with context.db.transaction() as conn:
            locked = await repo.get_any(conn, row["id"], lock=True)
            if locked["status"] == "ANSWERED":
                await calls.end(conn, locked, context.clock.now(), _prices(context))


def _prices(context: WorkerContext) -> dict[str, Any]:
    return price_list(context.settings.pricing_file)


def _latency(context: WorkerContext) -> timedelta:
    return timedelta(milliseconds=context.settings.simulator_latency_ms)


async def _ask(context: WorkerContext, row: Any) -> None:
    scope = Scope(row["customer_id"], row["livemode"])
    async with context.db.connection() as conn:
        line = await voice_numbers.get(conn, scope, row["number"])
        own = frozenset(r["number"] for r in await voice_numbers.all_of(conn, scope))
    verdict: dict[str, Any] | contract.AnswerError | None = None
    if line is not None and line["callback_url"]:
        verdict = await callback.ask(
            row,
            line,
            own,
            context.clock.now(),
            timeout_s=context.settings.voice_callback_timeout_s,
            allow_private=context.settings.webhook_allow_private,
        )
    async with context.db.transaction() as conn:
        locked = await repo.get_any(conn, row["id"], lock=True)
        if locked["status"] != "INITIATED" or locked["plan"].get("step") != "ask":
            return
        await _apply(context, conn, locked, verdict)


async def _apply(
    context: WorkerContext,
    conn: Connection,
    row: Any,
    verdict: dict[str, Any] | contract.AnswerError | None,
) -> None:
    now = context.clock.now()
    if verdict is None:
        await calls.fail(conn, row, "REJECTED", "callback_not_configured", now)
        return
    plan = row["plan"]
    if isinstance(verdict, contract.AnswerError):
        log.info("call %s: unusable answer: %s", row["id"], verdict.message)
    elif verdict["action"]["action"] != "reject":
        action = verdict["action"]
        plan = plan | {
            "step": "ring",
            "target": action["to"],
            "record": action["record"],
            "caller_id": action["callerId"],
            "ring_s": action["timeoutSeconds"],
        }
    await calls.connect(
        conn,
        row,
        verdict,
        plan=plan,
        now=now,
        prices=_prices(context),
        next_step_at=now + _latency(context),
    )


async def _ring(context: WorkerContext, row: Any) -> None:
    async with context.db.transaction() as conn:
        locked = await repo.get_any(conn, row["id"], lock=True)
        now = context.clock.now()
        if locked["status"] == "INITIATED":
            await calls.ring(conn, locked, now, now + _latency(context))
            return
        if locked["status"] != "RINGING":
            return
        target = locked["plan"].get("target") or {}
        suffix = str(target.get("value", ""))[-4:] if target.get("kind") == "number" else ""
        if suffix == FAILS:
            await calls.fail(conn, locked, "FAILED", None, now)
        elif suffix == NO_ANSWER:
            await calls.fail(conn, locked, "NO_ANSWER", "no_answer", now)
        elif suffix == DECLINES:
            await calls.fail(conn, locked, "REJECTED", "rejected", now)
        else:
            seconds = await calls.affordable_seconds(conn, locked, _prices(context))
            ends = calls.next_talk_end(now, context.settings.voice_simulator_call_s, seconds)
            await calls.answer(conn, locked, now, ends)
