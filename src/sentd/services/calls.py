"""Calls: placing them, moving them through their statuses (with the timeline and the call.*
events), pricing and the debit, recordings, and the conference-room commands.

Every function takes the caller's connection (one transaction) and a locked call row where it
changes one. A call is debited once: only the move from ANSWERED to COMPLETED prices it, and
that move happens once under the row lock.
"""

from __future__ import annotations

import math
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import balances, customers, voice_numbers
from sentd.db.repos import calls as repo
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.events.emit import emit
from sentd.ids import new_id
from sentd.money import micros_to_units
from sentd.phones import InvalidPhoneNumber, describe
from sentd.pricing import price_micros
from sentd.services.billing import funding_scopes
from sentd.voice.contract import AnswerError

LIVE = repo.LIVE
BLOCKED_LINE_TYPES = frozenset({"premium_rate", "shared_cost"})
FAILED_STATUSES = ("FAILED", "NO_ANSWER", "REJECTED")


def not_found(call_id: object) -> ApiError:
    return ApiError("VOICE_002", {"id": [f"No call {call_id}"]})


def conflict(message: str) -> ApiError:
    return ApiError("VOICE_003", {"id": [message]})


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# --- placing and moving -------------------------------------------------------------------------


async def place(
    conn: Connection,
    *,
    customer: customers.Customer,
    livemode: bool,
    direction: str,
    caller: tuple[str, str | None],
    callee: tuple[str, str | None],
    number: str,
    plan: dict[str, Any],
    now: datetime,
    provider: str = "simulator",
    conference: str | None = None,
    host_call_id: uuid.UUID | None = None,
    next_step_at: datetime | None = None,
    call_id: uuid.UUID | None = None,
) -> Any:
    """A new call in INITIATED, with its call.initiated event."""
    phone_leg = caller[0] in ("number", "anonymous") or callee[0] == "number"
    row = await repo.insert(
        conn,
        {
            "id": call_id or new_id(),
            "customer_id": customer.id,
            "organization_id": customer.organization,
            "livemode": livemode,
            "direction": direction,
            "status": "INITIATED",
            "from_kind": caller[0],
            "from_value": caller[1],
            "to_kind": callee[0],
            "to_value": callee[1],
            "number": number,
            "conference": conference,
            "host_call_id": host_call_id,
            "phone_leg": phone_leg,
            "started_at": now,
            "timeline": [{"status": "INITIATED", "timestamp": stamp(now)}],
            "plan": plan,
            "next_step_at": next_step_at if next_step_at is not None else now,
            "provider": provider,
        },
    )
    await _event(conn, row, "call.initiated", now)
    return row


async def _event(conn: Connection, row: Any, event_type: str, now: datetime, **extra: Any) -> None:
    payload: dict[str, Any] = {
        "call_id": str(row["id"]),
        "account_id": str(row["customer_id"]),
        "channel": "voice",
        "number": row["number"],
        "updated_at": stamp(now),
    }
    payload |= {k: v for k, v in extra.items() if v is not None}
    await emit(
        conn,
        customer_id=row["customer_id"],
        organization_id=row["organization_id"],
        livemode=row["livemode"],
        event_type=event_type,
        discriminator=event_type.split(".", 1)[1],
        payload=payload,
        now=now,
    )


def _timeline(row: Any, status: str, now: datetime) -> list[dict[str, Any]]:
    return [*row["timeline"], {"status": status, "timestamp": stamp(now)}]


async def ring(conn: Connection, row: Any, now: datetime, next_step_at: datetime | None) -> Any:
    return await repo.update(
        conn,
        row["id"],
        {
            "status": "RINGING",
            "timeline": _timeline(row, "RINGING", now),
            "next_step_at": next_step_at,
            "lease_until": None,
        },
    )


async def answer(conn: Connection, row: Any, now: datetime, ends_at: datetime | None) -> Any:
    """ANSWERED (call.answered); recording starts now when the answer asked for it."""
    row = await repo.update(
        conn,
        row["id"],
        {
            "status": "ANSWERED",
            "answered_at": now,
            "timeline": _timeline(row, "ANSWERED", now),
            "plan": row["plan"] | {"step": "talk"},
            "next_step_at": ends_at,
            "lease_until": None,
        },
    )
    await _event(conn, row, "call.answered", now)
    if row["plan"].get("record") and row["phone_leg"]:
        row = await start_recording(conn, row, now)
    return row


async def fail(conn: Connection, row: Any, status: str, reason: str | None, now: datetime) -> Any:
    """An unanswered end: FAILED, NO_ANSWER or REJECTED, with call.failed."""
    assert status in FAILED_STATUSES
    row = await repo.update(
        conn,
        row["id"],
        {
            "status": status,
            "failure_reason": reason,
            "ended_at": now,
            "duration_seconds": 0,
            "timeline": _timeline(row, status, now),
            "next_step_at": None,
            "lease_until": None,
        },
    )
    await _event(conn, row, "call.failed", now, reason=reason)
    return row


async def end(
    conn: Connection, row: Any, now: datetime, prices: dict[str, Any], duration_s: int | None = None
) -> Any:
    """End a live call the way a disconnect does: an answered call COMPLETED (priced, debited
    once, call.completed, its open recording made ready), a ringing one NO_ANSWER. A provider
    that reports the duration (`duration_s`) is believed over the clock."""
    if row["status"] != "ANSWERED":
        return await fail(conn, row, "NO_ANSWER", "no_answer", now)
    row = await stop_recording(conn, row, now, emit_ready=False)
    duration = max(0, math.ceil((now - row["answered_at"]).total_seconds()))
    if duration_s is not None:
        duration = max(0, duration_s)
    price = rate_micros(row, prices) * math.ceil(duration / 60)
    if price:
        await debit(conn, row, price)
    row = await repo.update(
        conn,
        row["id"],
        {
            "status": "COMPLETED",
            "ended_at": row["answered_at"] + timedelta(seconds=duration),
            "duration_seconds": duration,
            "price_micros": price,
            "timeline": _timeline(row, "COMPLETED", now),
            "next_step_at": None,
            "lease_until": None,
        },
    )
    await _event(
        conn,
        row,
        "call.completed",
        now,
        duration_seconds=duration,
        price=micros_to_units(price),
    )
    for recording in await repo.ready_recordings(conn, row["id"]):
        if recording["ended_at"] == now:
            await _event(conn, row, "call.recording_ready", now, recording_id=str(recording["id"]))
    return row


async def connect(
    conn: Connection,
    row: Any,
    verdict: dict[str, Any] | AnswerError,
    *,
    plan: dict[str, Any],
    now: datetime,
    prices: dict[str, Any],
    next_step_at: datetime | None,
) -> Any:
    """Move an INITIATED call on by its callback's verdict: FAILED when the answer was unusable,
    REJECTED when it rejects; a connect answer records `plan` and its target, then the call
    rings — unless the destination is blocked or the balances cannot pay one minute (FAILED)."""
    if isinstance(verdict, AnswerError):
        return await fail(conn, row, "FAILED", verdict.failure_reason, now)
    action = verdict["action"]
    if action["action"] == "reject":
        return await fail(conn, row, "REJECTED", "rejected", now)
    target = action["to"]
    values: dict[str, Any] = {
        "plan": plan,
        "phone_leg": row["phone_leg"] or target["kind"] == "number",
    }
    if target["kind"] == "conference":
        values["conference"] = target["value"]
    row = await repo.update(conn, row["id"], values)
    refused = await refusal(conn, row, prices)
    if refused is not None:
        return await fail(conn, row, "FAILED", refused, now)
    return await ring(conn, row, now, next_step_at)


async def refusal(conn: Connection, row: Any, prices: dict[str, Any]) -> str | None:
    """Why a leg about to ring (its plan names the target) must not: its phone destination is
    blocked, or the balances that pay for it cannot afford one minute. None: it may ring."""
    target = row["plan"].get("target") or {}
    if target.get("kind") == "number" and blocked_destination(str(target["value"])):
        return "destination_blocked"
    seconds = await affordable_seconds(conn, row, prices)
    if seconds is not None and seconds < 60:
        return "insufficient_balance"
    return None


def blocked_destination(number: str) -> bool:
    """Legs to premium-rate and shared-cost numbers are never placed (toll fraud)."""
    try:
        return describe(number).line_type in BLOCKED_LINE_TYPES
    except InvalidPhoneNumber:
        return True


# --- money --------------------------------------------------------------------------------------


def billed_number(row: Any) -> str:
    """The phone number whose country prices the call: the far phone party of the leg, else the
    owning number."""
    target = row["plan"].get("target") or {}
    if target.get("kind") == "number":
        return str(target["value"])
    if row["direction"] == "outbound" and row["to_kind"] == "number":
        return str(row["to_value"])
    if row["from_kind"] == "number" and row["from_value"]:
        return str(row["from_value"])
    return str(row["number"])


def rate_micros(row: Any, prices: dict[str, Any]) -> int:
    """The price of one started minute of this call."""
    try:
        region = describe(billed_number(row)).region_code
    except InvalidPhoneNumber:
        region = None
    if "voice" not in prices.get("default", {}):
        prices = {"default": {"voice": 0.014}}
    return price_micros(prices, "voice", region, None)


async def _customer(conn: Connection, customer_id: uuid.UUID) -> customers.Customer:
    """The (not deleted) customer: a call's, a voice number's, a principal's."""
    customer = await customers.get(conn, customer_id)
    if customer is None:
        raise LookupError(f"no customer {customer_id}")
    return customer


async def affordable_seconds(conn: Connection, row: Any, prices: dict[str, Any]) -> int | None:
    """How long the call may run on the balances that pay for it (None: it costs nothing)."""
    rate = rate_micros(row, prices)
    if rate == 0:
        return None
    customer = await _customer(conn, row["customer_id"])
    total = 0
    for scope in funding_scopes(customer, row["livemode"]):
        balance = await balances.get(conn, scope)
        total = max(total, int(balance["amount_micros"]) if balance else 0)
    return (total // rate) * 60


async def debit(conn: Connection, row: Any, amount: int) -> None:
    """Take the price from the first paying balance that covers it (a profile's own balance
    first, per its billing model); when none does — it was spent elsewhere during the call —
    whatever the first one holds."""
    customer = await _customer(conn, row["customer_id"])
    scopes = funding_scopes(customer, row["livemode"])
    for scope in scopes:
        if await _apply(conn, scope, -amount, row) is not None:
            return
    first = await balances.get(conn, scopes[0])
    held = int(first["amount_micros"]) if first else 0
    if held:
        await _apply(conn, scopes[0], -held, row)


async def _apply(conn: Connection, scope: Scope, amount: int, row: Any) -> Any:
    current = await balances.get(conn, scope)
    currency = current["currency"] if current else "USD"
    return await balances.apply(
        conn,
        scope,
        amount_micros=amount,
        currency=currency,
        reason="call",
        reference=str(row["id"]),
    )


# --- recordings ---------------------------------------------------------------------------------


async def start_recording(conn: Connection, row: Any, now: datetime) -> Any:
    if row["recording"]:
        return row
    await repo.start_recording(conn, new_id(), row["id"], secrets.token_urlsafe(24), now)
    return await repo.update(conn, row["id"], {"recording": True, "record_started_at": now})


async def stop_recording(
    conn: Connection, row: Any, now: datetime, *, emit_ready: bool = True
) -> Any:
    """Close the open recording; the simulator has it ready at once (call.recording_ready)."""
    for recording in await repo.open_recordings(conn, row["id"]):
        await repo.finish_recording(
            conn, recording["id"], now, ready=row["provider"] == "simulator"
        )
        if emit_ready and row["provider"] == "simulator":
            await _event(conn, row, "call.recording_ready", now, recording_id=str(recording["id"]))
    if not row["recording"] and not row["plan"].get("record"):
        return row
    return await repo.update(
        conn, row["id"], {"recording": False, "plan": row["plan"] | {"record": False}}
    )


# --- commands of the API ------------------------------------------------------------------------


async def get(conn: Connection, scope: Scope, call_id: uuid.UUID, *, lock: bool = False) -> Any:
    row = await repo.get(conn, scope, call_id, lock=lock)
    if row is None:
        raise not_found(call_id)
    return row


# A page of the calls of `scope`, newest first, and how many match: the repository's read as is.
page = repo.page


async def ready_recordings(conn: Connection, scope: Scope, call_id: uuid.UUID) -> list[Any]:
    """The finished recordings of one call of `scope`."""
    await get(conn, scope, call_id)
    return await repo.ready_recordings(conn, call_id)


async def recording(conn: Connection, recording_id: uuid.UUID) -> Any:
    """A recording by id, of any customer (its pre-signed link is the permission), or None."""
    return await repo.recording(conn, recording_id)


def check_live_phone_call(row: Any) -> None:
    if row["status"] not in LIVE:
        raise conflict(f"The call has already ended ({row['status']})")
    if not row["phone_leg"]:
        raise conflict("The call has no phone leg (it is between two app users)")


async def hangup(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    now: datetime,
    prices: dict[str, Any],
) -> Any:
    row = await get(conn, principal.scope, call_id, lock=True)
    check_live_phone_call(row)
    return await end(conn, row, now, prices)


async def record(
    conn: Connection, principal: Principal, call_id: uuid.UUID, action: str, now: datetime
) -> Any:
    row = await get(conn, principal.scope, call_id, lock=True)
    check_live_phone_call(row)
    if action == "stop":
        return await stop_recording(conn, row, now)
    if row["status"] == "ANSWERED":
        return await start_recording(conn, row, now)
    return await repo.update(conn, row["id"], {"plan": row["plan"] | {"record": True}})


def far_party(row: Any) -> tuple[str, str | None]:
    """Who is on the other end of this leg: the caller of an inbound call, the callee of one
    sentd placed."""
    if row["direction"] == "inbound":
        return row["from_kind"], row["from_value"]
    return row["to_kind"], row["to_value"]


async def conference_call(
    conn: Connection, principal: Principal, call_id: uuid.UUID, *, lock: bool = True
) -> Any:
    row = await get(conn, principal.scope, call_id, lock=lock)
    if row["status"] not in LIVE:
        raise conflict(f"The call has already ended ({row['status']})")
    if row["conference"] is None:
        raise conflict("The call is not in a conference room")
    return row


async def participants(
    conn: Connection, principal: Principal, call_id: uuid.UUID, *, lock: bool = True
) -> tuple[Any, list[Any]]:
    row = await conference_call(conn, principal, call_id, lock=lock)
    return row, await repo.room(conn, principal.scope, row["conference"])


async def participant(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    *,
    lock: bool = True,
) -> Any:
    host = await conference_call(conn, principal, call_id, lock=lock)
    leg = await repo.get(conn, principal.scope, participant_id, lock=lock)
    if leg is None or leg["conference"] != host["conference"] or leg["status"] != "ANSWERED":
        raise ApiError(
            "VOICE_002", {"participant_id": [f"{participant_id} is not in this call's room"]}
        )
    return leg


async def mute(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    muted: bool,
) -> None:
    leg = await participant(conn, principal, call_id, participant_id)
    await repo.update(conn, leg["id"], {"muted": muted})


async def remove(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    now: datetime,
    prices: dict[str, Any],
) -> None:
    leg = await participant(conn, principal, call_id, participant_id)
    await end(conn, leg, now, prices)


async def remove_all(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    now: datetime,
    prices: dict[str, Any],
) -> None:
    host = await conference_call(conn, principal, call_id)
    for leg in await repo.room(conn, principal.scope, host["conference"]):
        locked = await repo.get(conn, principal.scope, leg["id"], lock=True)
        if locked["status"] in LIVE:
            await end(conn, locked, now, prices)


async def check_participant(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    *,
    kind: str,
    value: str,
    caller_id: str | None,
    lock: bool = True,
) -> tuple[Any, str, str]:
    """The host call, the target's normalized value and the caller id shown, once the request is
    known to be acceptable (read before a provider is asked to dial)."""
    from sentd.services.voice_numbers import parse_number
    from sentd.voice.contract import IDENTITY

    host = await conference_call(conn, principal, call_id, lock=lock)
    if kind == "number":
        value = parse_number(value, "to.value")
    elif not IDENTITY.fullmatch(value):
        raise ApiError("VALIDATION_001", {"to.value": ["Letters, digits, - and _ only"]})
    shown = parse_number(caller_id, "caller_id") if caller_id is not None else host["number"]
    line = await voice_numbers.get(conn, principal.scope, shown)
    if line is None or line["status"] != "ACTIVE":
        raise ApiError("VALIDATION_001", {"caller_id": [f"{shown} is not an active voice number"]})
    return host, value, shown


async def add_participant(
    conn: Connection,
    principal: Principal,
    call_id: uuid.UUID,
    *,
    kind: str,
    value: str,
    caller_id: str | None,
    now: datetime,
    prices: dict[str, Any],
    leg_id: uuid.UUID | None = None,
    provider_ref: str | None = None,
) -> Any:
    """A new leg dialled into the call's room: its own call, billed like any other. A leg a
    provider already dials comes with its id and the provider's reference, and no engine step."""
    host, value, shown = await check_participant(
        conn, principal, call_id, kind=kind, value=value, caller_id=caller_id
    )
    scope = principal.scope
    customer = await _customer(conn, scope.customer_id)
    row = await place(
        conn,
        customer=customer,
        livemode=scope.livemode,
        direction="outbound",
        caller=("number", _leg_caller(host, kind, shown)),
        callee=(kind, value),
        number=host["number"],
        plan={"step": "ring", "target": {"kind": kind, "value": value}},
        now=now,
        provider=host["provider"],
        conference=host["conference"],
        host_call_id=host["id"],
        call_id=leg_id,
    )
    if provider_ref is not None:
        row = await repo.update(
            conn, row["id"], {"provider_ref": provider_ref, "next_step_at": None}
        )
    refused = await refusal(conn, row, prices)
    if refused is not None:
        row = await fail(conn, row, "FAILED", refused, now)
    return row


def _leg_caller(host: Any, kind: str, shown: str) -> str:
    """The number a new leg calls from: the caller id shown to a phone, else the host's."""
    return shown if kind == "number" else str(host["number"])


async def participant_can_ring(
    conn: Connection, host: Any, *, kind: str, value: str, shown: str, prices: dict[str, Any]
) -> bool:
    """Whether `add_participant` would let this leg ring (no `refusal`), judged before a
    provider is asked to dial it; a leg that may not is recorded FAILED and never dialled."""
    leg = {
        "plan": {"target": {"kind": kind, "value": value}},
        "direction": "outbound",
        "to_kind": kind,
        "to_value": value,
        "from_kind": "number",
        "from_value": _leg_caller(host, kind, shown),
        "number": host["number"],
        "customer_id": host["customer_id"],
        "livemode": host["livemode"],
    }
    return await refusal(conn, leg, prices) is None


def next_talk_end(now: datetime, call_s: float, affordable_s: int | None) -> datetime:
    """When a simulated answered call ends by itself: its length, or what the balance affords."""
    limit = call_s if affordable_s is None else min(call_s, affordable_s)
    return now + timedelta(seconds=limit)


class NotAVoiceNumber(Exception):
    pass


async def place_inbound(
    db: Database, *, livemode: bool, to: str, caller: str | None, now: datetime
) -> Any:
    """A simulated call from `caller` (None: a withheld number) to the voice number `to`; the
    engine asks the number's callback what to do with it."""
    async with db.transaction() as conn:
        line = await voice_numbers.holder(conn, livemode, to)
        if line is None or line["status"] != "ACTIVE":
            raise NotAVoiceNumber(to)
        customer = await _customer(conn, line["customer_id"])
        party: tuple[str, str | None] = ("number", caller) if caller else ("anonymous", None)
        return await place(
            conn,
            customer=customer,
            livemode=livemode,
            direction="inbound",
            caller=party,
            callee=("number", to),
            number=to,
            plan={"step": "ask"},
            now=now,
        )


class InvalidToken(Exception):
    pass


async def place_outbound(
    db: Database, *, token: str, callee: tuple[str, str], now: datetime
) -> Any:
    """A simulated call placed from an app by the holder of a simulator voice token: through
    the number the token's identity is bound to, routed by that number's callback."""
    from sentd.voice.tokens import digest

    async with db.transaction() as conn:
        held = await voice_numbers.token(conn, digest(token), now)
        if held is None:
            raise InvalidToken("unknown or expired token")
        line = await voice_numbers.holder(conn, held["livemode"], held["number"])
        if line is None or line["customer_id"] != held["customer_id"] or line["status"] != "ACTIVE":
            raise NotAVoiceNumber(held["number"])
        customer = await _customer(conn, held["customer_id"])
        return await place(
            conn,
            customer=customer,
            livemode=held["livemode"],
            direction="outbound",
            caller=("user", held["identity"]),
            callee=callee,
            number=held["number"],
            plan={"step": "ask"},
            now=now,
        )


async def recording_arrived(
    conn: Connection, row: Any, provider_ref: str, media_url: str, now: datetime
) -> None:
    """A provider's recording of the call is ready (once per recording: a repeat is ignored)."""
    if await repo.recording_by_ref(conn, provider_ref) is not None:
        return
    pending = await repo.unready_recording(conn, row["id"])
    recording_id = pending["id"] if pending is not None else new_id()
    if pending is None:
        await repo.start_recording(conn, recording_id, row["id"], secrets.token_urlsafe(24), now)
    await repo.finish_recording(
        conn, recording_id, now, ready=True, media_url=media_url, provider_ref=provider_ref
    )
    await _event(conn, row, "call.recording_ready", now, recording_id=str(recording_id))
