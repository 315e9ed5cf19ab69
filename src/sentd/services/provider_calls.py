"""Calls a voice provider carries (Twilio Voice): the steps its callbacks report, as domain
actions. The HTTP edge turns the provider's form into `sentd.domain.calls` values, calls one of
these, and renders the provider's answer (TwiML) from what it returns.

A provider's callbacks repeat and arrive out of order; every step re-reads the call under its
row lock and changes nothing when the call has moved on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.clock import Clock
from sentd.db.database import Database
from sentd.db.repos import calls as repo
from sentd.db.repos import customers, voice_numbers
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.domain.calls import AppCaller, ArrivingCall, LegAnswered, LegEnded
from sentd.services import calls
from sentd.voice import callback, contract

NOT_ANSWERED = ("INITIATED", "RINGING")


@dataclass(frozen=True, slots=True)
class Dial:
    """Connect the arriving call as the number's callback answered (`answer`, judged): the
    call is RINGING."""

    call_id: uuid.UUID
    customer_id: uuid.UUID
    livemode: bool
    answer: dict[str, Any]


async def arrive(
    db: Database,
    call: ArrivingCall,
    *,
    clock: Clock,
    prices: dict[str, Any],
    callback_timeout_s: float,
    allow_private: bool,
) -> Dial | None:
    """A call the provider reports: recorded (once per provider reference), the voice number's
    callback asked what to do (no connection held while it answers), and the answer applied.
    None: turn the call away (not routable, no callback, rejected, failed, or already handled)."""
    now = clock.now()
    async with db.transaction() as conn:
        row = await repo.by_provider_ref(conn, call.provider, call.provider_ref, lock=True)
        if row is None:
            row = await _place(conn, call, now)
            if row is None:
                return None
            row = await repo.update(
                conn, row["id"], {"provider_ref": call.provider_ref, "next_step_at": None}
            )
        scope = Scope(row["customer_id"], row["livemode"])
        line = await voice_numbers.get(conn, scope, row["number"])
        own = frozenset(r["number"] for r in await voice_numbers.all_of(conn, scope))
        if row["status"] == "INITIATED" and (line is None or not line["callback_url"]):
            await calls.fail(conn, row, "REJECTED", "callback_not_configured", now)
            return None
    if row["status"] != "INITIATED":
        return None
    verdict = await callback.ask(
        row, line, own, now, timeout_s=callback_timeout_s, allow_private=allow_private
    )
    async with db.transaction() as conn:
        row = await repo.get_any(conn, row["id"], lock=True)
        if row["status"] != "INITIATED":
            return None
        plan: dict[str, Any] = {}
        if (
            not isinstance(verdict, contract.AnswerError)
            and verdict["action"]["action"] != "reject"
        ):
            action = verdict["action"]
            plan = {"target": action["to"], "record": action["record"]}
        row = await calls.connect(
            conn, row, verdict, plan=plan, now=clock.now(), prices=prices, next_step_at=None
        )
    if row["status"] != "RINGING" or isinstance(verdict, contract.AnswerError):
        return None
    return Dial(row["id"], row["customer_id"], row["livemode"], verdict)


async def _place(conn: Connection, call: ArrivingCall, now: datetime) -> Any:
    """The call record for a new provider call, or None when sentd does not route it: an app
    user's call goes out through the active number its identity is bound to; any other call
    must ring an active voice number (live)."""
    if not call.routable:
        return None
    caller: tuple[str, str | None]
    if isinstance(call.caller, AppCaller):
        scope = Scope(call.caller.customer_id, call.caller.livemode)
        number = await voice_numbers.bound_number(conn, scope, call.caller.identity)
        line = await voice_numbers.get(conn, scope, number) if number else None
        if line is None or line["status"] != "ACTIVE" or call.callee.kind == "anonymous":
            return None
        direction, caller = "outbound", ("user", call.caller.identity)
    else:
        if call.callee.kind != "number" or call.callee.value is None:
            return None
        line = await voice_numbers.holder(conn, True, call.callee.value)
        if line is None or line["status"] != "ACTIVE":
            return None
        direction, caller = "inbound", (call.caller.kind, call.caller.value)
    customer = await customers.get(conn, line["customer_id"])
    if customer is None:
        return None
    return await calls.place(
        conn,
        customer=customer,
        livemode=line["livemode"],
        direction=direction,
        caller=caller,
        callee=(call.callee.kind, call.callee.value),
        number=line["number"],
        plan={},
        now=now,
        provider=call.provider,
    )


async def leg_answered(
    db: Database, call_id: uuid.UUID, event: LegAnswered, *, clock: Clock
) -> None:
    """The call's leg answered (or joined its room, whose provider id is kept): ANSWERED, once."""
    async with db.transaction() as conn:
        row = await repo.get_any(conn, call_id, lock=True)
        if row is None:
            return
        room = event.conference_ref
        if room and row["plan"].get("conference_sid") != room:
            row = await repo.update(
                conn, row["id"], {"plan": row["plan"] | {"conference_sid": room}}
            )
        if row["status"] in NOT_ANSWERED:
            await calls.answer(conn, row, clock.now(), None)


async def leg_ended(
    db: Database,
    call_id: uuid.UUID,
    ended: LegEnded,
    *,
    clock: Clock,
    prices: dict[str, Any],
) -> None:
    """The call's leg ended: a talking leg COMPLETED (priced, debited once; answered first if
    its answer was never reported), any other an unanswered end. A call already over stays."""
    async with db.transaction() as conn:
        row = await repo.get_any(conn, call_id, lock=True)
        now = clock.now()
        if row is None or row["status"] not in calls.LIVE:
            return
        if ended.answered:
            if row["status"] != "ANSWERED":
                row = await calls.answer(conn, row, now, None)
            await calls.end(conn, row, now, prices, ended.duration_s)
        else:
            await calls.fail(conn, row, ended.status, ended.reason, now)


async def recording_ready(
    db: Database, call_id: uuid.UUID, provider_ref: str, media_url: str, *, clock: Clock
) -> None:
    """The provider's recording of the call is ready (a repeat is ignored)."""
    async with db.transaction() as conn:
        row = await repo.get_any(conn, call_id, lock=True)
        if row is not None:
            await calls.recording_arrived(conn, row, provider_ref, media_url, clock.now())
