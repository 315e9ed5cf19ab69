"""`/providers/twilio/voice…`: Twilio Programmable Voice's webhooks, signed like the SMS ones
(`X-Twilio-Signature`, checked with `SENTD_TWILIO_AUTH_TOKEN`; a bad one is 401 `PROVIDER_001`).

* `POST /voice` — a call arrives at a voice number (`To`), or an app user dials through the TwiML
  app (`From` = `client:<namespaced identity>`). sentd records the call, asks the number's
  callback (no database connection held while it waits) and answers TwiML: `<Dial>` for a
  connect answer, `<Reject/>` otherwise.
* `POST /voice/answered?call_id=` — the dialled leg answered (or joined the room): ANSWERED.
* `POST /voice/dial?call_id=` — the `<Dial>` ended (`DialCallStatus`, `DialCallDuration`):
  COMPLETED (priced, debited once) or an unanswered end.
* `POST /voice/recording?call_id=` — a recording is ready (`RecordingSid`, `RecordingUrl`):
  `call.recording_ready`.

Repeated callbacks change nothing: every step re-reads the call under its row lock.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from sentd.api.routes.twilio import SIGNATURE_HEADER, _check_signature, url_to_sign
from sentd.db.database import Database
from sentd.db.repos import calls as calls_repo
from sentd.db.repos import customers, voice_numbers
from sentd.db.scope import Scope
from sentd.phones import InvalidPhoneNumber, normalize_e164
from sentd.pricing import price_list
from sentd.providers import twilio_voice
from sentd.services import calls
from sentd.voice import callback, contract
from sentd.voice.tokens import parse_provider_identity

router = APIRouter(prefix="/providers/twilio/voice", tags=["providers"])
PROVIDER = "twilio"
DIAL_ENDS = {
    "busy": ("REJECTED", "rejected"),
    "no-answer": ("NO_ANSWER", "no_answer"),
    "canceled": ("NO_ANSWER", "no_answer"),
    "failed": ("FAILED", None),
}


def _xml(body: str) -> Response:
    return Response(body, media_type="text/xml")


async def _params(request: Request) -> dict[str, str]:
    settings = request.app.state.settings
    form = parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    _check_signature(
        settings.twilio_auth_token,
        request.headers.get(SIGNATURE_HEADER),
        url_to_sign(request, settings.public_url),
        form,
    )
    return dict(form)


def _base(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


def _party(value: str) -> tuple[str, str | None]:
    if value.startswith("client:"):
        parsed = parse_provider_identity(value)
        return ("user", parsed[2]) if parsed else ("anonymous", None)
    try:
        return "number", normalize_e164(value)
    except InvalidPhoneNumber:
        return "anonymous", None


@router.post("")
async def incoming(request: Request) -> Response:
    params = await _params(request)
    state = request.app.state
    db: Database = state.db
    call_sid = params.get("CallSid", "")
    caller_raw, callee_raw = params.get("From", ""), params.get("To", "")
    now = state.clock.now()
    async with db.transaction() as conn:
        row = await calls_repo.by_provider_ref(conn, PROVIDER, call_sid, lock=True)
        if row is None:
            row = await _place(conn, caller_raw, callee_raw, now)
            if row is None:
                return _xml(twilio_voice.reject())
            row = await calls_repo.update(
                conn, row["id"], {"provider_ref": call_sid, "next_step_at": None}
            )
        scope = Scope(row["customer_id"], row["livemode"])
        line = await voice_numbers.get(conn, scope, row["number"])
        own = frozenset(r["number"] for r in await voice_numbers.all_of(conn, scope))
        if row["status"] == "INITIATED" and (line is None or not line["callback_url"]):
            await calls.fail(conn, row, "REJECTED", "callback_not_configured", now)
            return _xml(twilio_voice.reject())
    if row["status"] != "INITIATED":
        return _xml(twilio_voice.reject())
    question = contract.Question(
        call_id=row["id"],
        account_id=row["customer_id"],
        number=row["number"],
        direction=row["direction"],
        caller=contract.Party(row["from_kind"], row["from_value"]),
        callee=contract.Party(row["to_kind"], row["to_value"]),
    )
    body, headers = contract.signed_question(question, line["callback_secret"], now)
    reply = await callback.post_question(
        line["callback_url"],
        body,
        headers,
        timeout_s=state.settings.voice_callback_timeout_s,
        allow_private=state.settings.webhook_allow_private,
    )
    verdict = contract.judge(reply, number=row["number"], own_numbers=own)
    prices = price_list(state.settings.pricing_file)
    async with db.transaction() as conn:
        row = await calls_repo.get_any(conn, row["id"], lock=True)
        now = state.clock.now()
        if row["status"] != "INITIATED":
            return _xml(twilio_voice.reject())
        if isinstance(verdict, contract.AnswerError):
            await calls.fail(conn, row, "FAILED", verdict.failure_reason, now)
            return _xml(twilio_voice.reject())
        action = verdict["action"]
        if action["action"] == "reject":
            await calls.fail(conn, row, "REJECTED", "rejected", now)
            return _xml(twilio_voice.reject())
        target = action["to"]
        values: dict[str, Any] = {
            "plan": {"target": target, "record": action["record"]},
            "phone_leg": row["phone_leg"] or target["kind"] == "number",
        }
        if target["kind"] == "conference":
            values["conference"] = target["value"]
        row = await calls_repo.update(conn, row["id"], values)
        if target["kind"] == "number" and calls.blocked_destination(target["value"]):
            await calls.fail(conn, row, "FAILED", "destination_blocked", now)
            return _xml(twilio_voice.reject())
        seconds = await calls.affordable_seconds(conn, row, prices)
        if seconds is not None and seconds < 60:
            await calls.fail(conn, row, "FAILED", "insufficient_balance", now)
            return _xml(twilio_voice.reject())
        await calls.ring(conn, row, now, None)
    return _xml(
        twilio_voice.dial(
            verdict,
            base_url=_base(request),
            call_id=str(row["id"]),
            customer_id=row["customer_id"],
            livemode=row["livemode"],
        )
    )


async def _place(conn: Any, caller_raw: str, callee_raw: str, now: Any) -> Any:
    """The call record for a new Twilio call, or None when sentd does not route it."""
    caller: tuple[str, str | None]
    if caller_raw.startswith("client:"):
        parsed = parse_provider_identity(caller_raw)
        if parsed is None:
            return None
        customer_id, livemode, identity = parsed
        scope = Scope(customer_id, livemode)
        number = await voice_numbers.bound_number(conn, scope, identity)
        line = await voice_numbers.get(conn, scope, number) if number else None
        callee = _party(callee_raw)
        if line is None or line["status"] != "ACTIVE" or callee[0] == "anonymous":
            return None
        direction, caller = "outbound", ("user", identity)
    else:
        callee = _party(callee_raw)
        if callee[0] != "number" or callee[1] is None:
            return None
        line = await voice_numbers.holder(conn, True, callee[1])
        if line is None or line["status"] != "ACTIVE":
            return None
        direction, caller = "inbound", _party(caller_raw)
    customer = await customers.get(conn, line["customer_id"])
    return await calls.place(
        conn,
        customer=customer,
        livemode=line["livemode"],
        direction=direction,
        caller=caller,
        callee=callee,
        number=line["number"],
        plan={},
        now=now,
        provider=PROVIDER,
    )


def _call_id(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.query_params.get("call_id", ""))
    except ValueError:
        return None


@router.post("/answered")
async def answered(request: Request) -> Response:
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    joined = params.get("StatusCallbackEvent") in ("participant-join", "conference-start")
    if call_id is not None and (params.get("CallStatus") == "in-progress" or joined):
        async with state.db.transaction() as conn:
            row = await calls_repo.get_any(conn, call_id, lock=True)
            room = params.get("ConferenceSid")
            if row is not None and room and row["plan"].get("conference_sid") != room:
                plan = row["plan"] | {"conference_sid": room}
                row = await calls_repo.update(conn, row["id"], {"plan": plan})
            if row is not None and row["status"] == "RINGING":
                await calls.answer(conn, row, state.clock.now(), None)
    return Response(status_code=204)


@router.post("/dial")
async def dial_ended(request: Request) -> Response:
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    if call_id is None:
        return _xml(twilio_voice.hangup())
    status = params.get("DialCallStatus", "")
    prices = price_list(state.settings.pricing_file)
    async with state.db.transaction() as conn:
        row = await calls_repo.get_any(conn, call_id, lock=True)
        now = state.clock.now()
        if row is None or row["status"] not in calls.LIVE:
            return _xml(twilio_voice.hangup())
        if status in ("completed", "answered"):
            if row["status"] != "ANSWERED":
                row = await calls.answer(conn, row, now, None)
            duration = params.get("DialCallDuration", "")
            reported = int(duration) if duration.isdigit() else None
            await calls.end(conn, row, now, prices, reported)
        else:
            status_name, reason = DIAL_ENDS.get(status, ("FAILED", None))
            await calls.fail(conn, row, status_name, reason, now)
    return _xml(twilio_voice.hangup())


@router.post("/recording")
async def recording_ready(request: Request) -> Response:
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    if call_id is None or params.get("RecordingStatus", "completed") != "completed":
        return Response(status_code=204)
    sid, media_url = params.get("RecordingSid", ""), params.get("RecordingUrl", "")
    async with state.db.transaction() as conn:
        row = await calls_repo.get_any(conn, call_id, lock=True)
        if row is not None:
            await calls.recording_arrived(conn, row, sid, media_url, state.clock.now())
    return Response(status_code=204)


@router.post("/participant")
async def participant_status(request: Request) -> Response:
    """A conference participant's leg (dialled through the Participants API) changed."""
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    status = params.get("CallStatus", "")
    if call_id is None:
        return Response(status_code=204)
    prices = price_list(state.settings.pricing_file)
    async with state.db.transaction() as conn:
        row = await calls_repo.get_any(conn, call_id, lock=True)
        now = state.clock.now()
        if row is None or row["status"] not in calls.LIVE:
            return Response(status_code=204)
        if status == "in-progress" and row["status"] != "ANSWERED":
            await calls.answer(conn, row, now, None)
        elif status == "completed":
            if row["status"] != "ANSWERED":
                row = await calls.answer(conn, row, now, None)
            duration = params.get("CallDuration", "")
            await calls.end(conn, row, now, prices, int(duration) if duration.isdigit() else None)
        elif status in DIAL_ENDS:
            status_name, reason = DIAL_ENDS[status]
            await calls.fail(conn, row, status_name, reason, now)
    return Response(status_code=204)
