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
* `POST /voice/participant?call_id=` — a conference participant's leg changed (`CallStatus`).

This module checks the signature, turns Twilio's form into `sentd.domain.calls` values, calls one
action of `sentd.services.provider_calls` and renders TwiML. Repeated callbacks change nothing:
every step re-reads the call under its row lock.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from starlette.responses import Response

from sentd.api.routes.twilio import SIGNATURE_HEADER, _check_signature, url_to_sign
from sentd.domain.calls import AppCaller, ArrivingCall, LegAnswered, LegEnded, Party
from sentd.phones import InvalidPhoneNumber, normalize_e164
from sentd.pricing import price_list
from sentd.providers import twilio_voice
from sentd.services import provider_calls
from sentd.voice.tokens import parse_provider_identity

router = APIRouter(prefix="/providers/twilio/voice", tags=["providers"])
PROVIDER = "twilio"
# Twilio's statuses of a leg that ended unanswered, as the call's status and failure_reason.
UNANSWERED = {
    "busy": LegEnded(answered=False, status="REJECTED", reason="rejected"),
    "no-answer": LegEnded(answered=False, status="NO_ANSWER", reason="no_answer"),
    "canceled": LegEnded(answered=False, status="NO_ANSWER", reason="no_answer"),
    "failed": LegEnded(answered=False, status="FAILED"),
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


def _party(value: str) -> Party:
    """`client:<namespaced identity>` (an app user) or a phone number; anything else anonymous."""
    if value.startswith("client:"):
        parsed = parse_provider_identity(value)
        return Party("user", parsed[2]) if parsed else Party("anonymous")
    try:
        return Party("number", normalize_e164(value))
    except InvalidPhoneNumber:
        return Party("anonymous")


def _arriving(params: dict[str, str]) -> ArrivingCall:
    caller_raw, callee = params.get("From", ""), _party(params.get("To", ""))
    call_sid = params.get("CallSid", "")
    if not caller_raw.startswith("client:"):
        return ArrivingCall(PROVIDER, call_sid, _party(caller_raw), callee)
    parsed = parse_provider_identity(caller_raw)
    if parsed is None:
        return ArrivingCall(PROVIDER, call_sid, Party("anonymous"), callee, routable=False)
    return ArrivingCall(PROVIDER, call_sid, AppCaller(*parsed), callee)


def _duration(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _prices(request: Request) -> dict[str, Any]:
    return price_list(request.app.state.settings.pricing_file)


@router.post("")
async def incoming(request: Request) -> Response:
    params = await _params(request)
    state = request.app.state
    dial = await provider_calls.arrive(
        state.db,
        _arriving(params),
        clock=state.clock,
        prices=_prices(request),
        callback_timeout_s=state.settings.voice_callback_timeout_s,
        allow_private=state.settings.webhook_allow_private,
    )
    if dial is None:
        return _xml(twilio_voice.reject())
    return _xml(
        twilio_voice.dial(
            dial.answer,
            base_url=_base(request),
            call_id=str(dial.call_id),
            customer_id=dial.customer_id,
            livemode=dial.livemode,
        )
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
        event = LegAnswered(conference_ref=params.get("ConferenceSid") or None)
        await provider_calls.leg_answered(state.db, call_id, event, clock=state.clock)
    return Response(status_code=204)


@router.post("/dial")
async def dial_ended(request: Request) -> Response:
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    if call_id is None:
        return _xml(twilio_voice.hangup())
    status = params.get("DialCallStatus", "")
    if status in ("completed", "answered"):
        ended = LegEnded(answered=True, duration_s=_duration(params.get("DialCallDuration", "")))
    else:
        ended = UNANSWERED.get(status, UNANSWERED["failed"])
    await provider_calls.leg_ended(
        state.db, call_id, ended, clock=state.clock, prices=_prices(request)
    )
    return _xml(twilio_voice.hangup())


@router.post("/recording")
async def recording_ready(request: Request) -> Response:
    params = await _params(request)
    call_id = _call_id(request)
    state = request.app.state
    if call_id is None or params.get("RecordingStatus", "completed") != "completed":
        return Response(status_code=204)
    sid, media_url = params.get("RecordingSid", ""), params.get("RecordingUrl", "")
    await provider_calls.recording_ready(state.db, call_id, sid, media_url, clock=state.clock)
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
    if status == "in-progress":
        await provider_calls.leg_answered(state.db, call_id, LegAnswered(), clock=state.clock)
    elif status == "completed" or status in UNANSWERED:
        ended = UNANSWERED.get(status) or LegEnded(
            answered=True, duration_s=_duration(params.get("CallDuration", ""))
        )
        await provider_calls.leg_ended(
            state.db, call_id, ended, clock=state.clock, prices=_prices(request)
        )
    return Response(status_code=204)
