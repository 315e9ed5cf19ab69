"""`/v3/voice`: tokens for app users, calls and their recordings and conference participants."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.voice import (
    Body,
    ParticipantAdd,
    ParticipantUpdate,
    RecordBody,
    TokenCreate,
)
from sentd.api.views.voice import call, participant, recording
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.errors.exceptions import ApiError
from sentd.pricing import price_list
from sentd.providers import twilio_voice
from sentd.providers.twilio_voice import VOICE_PATH
from sentd.services import calls, voice_tokens
from sentd.services.voice_numbers import parse_number
from sentd.voice import recordings
from sentd.voice.tokens import provider_identity

router = APIRouter(prefix="/v3/voice", tags=["voice"])

CallStatus = Literal[
    "initiated", "ringing", "answered", "completed", "failed", "no_answer", "rejected"
]


def _prices(request: Request) -> dict[str, Any]:
    return price_list(request.app.state.settings.pricing_file)


def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock.now()
    return now


def _base(request: Request) -> str:
    public: str | None = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


async def _on_provider(
    request: Request,
    m: Mutation,
    call_id: uuid.UUID,
    command: Callable[[twilio_voice.TwilioVoice, str], Awaitable[None]],
) -> None:
    """Send a command to the provider of a live call, before (and without holding) the
    transaction that records it; a simulator call, or a sandbox request, sends nothing."""
    db: Database = request.app.state.db
    async with db.connection() as conn:
        row = await calls.get(conn, m.principal.scope, call_id)
    calls.check_live_phone_call(row)
    if m.sandbox or row["provider"] != "twilio" or not row["provider_ref"]:
        return
    twilio = twilio_voice.from_settings(request.app.state.settings)
    if twilio is None:
        raise ApiError("PROVIDER_003", {"channel": ["voice"]})
    try:
        await command(twilio, row["provider_ref"])
    except twilio_voice.TwilioVoiceError as exc:
        raise ApiError("INTERNAL_003", {"provider": [str(exc)]}) from exc


def _twilio(request: Request) -> twilio_voice.TwilioVoice:
    twilio = twilio_voice.from_settings(request.app.state.settings)
    if twilio is None:
        raise ApiError("PROVIDER_003", {"channel": ["voice"]})
    return twilio


def _room_sid(host: Any) -> str:
    room = host["plan"].get("conference_sid")
    if not room:
        raise calls.conflict("The conference room has not started yet")
    return str(room)


async def _dial_participant(
    request: Request, m: Mutation, call_id: uuid.UUID, body: ParticipantAdd
) -> tuple[uuid.UUID | None, str | None]:
    """On a Twilio call: validate, then have Twilio dial the new leg into the room (no database
    connection held), under the id the leg will be recorded with."""
    db: Database = request.app.state.db
    async with db.connection() as conn:
        host, value, shown = await calls.check_participant(
            conn,
            m.principal,
            call_id,
            kind=body.to.kind,
            value=body.to.value,
            caller_id=body.caller_id,
            lock=False,
        )
        if m.sandbox or host["provider"] != "twilio":
            return None, None
        may_ring = await calls.participant_can_ring(
            conn, host, kind=body.to.kind, value=value, shown=shown, prices=_prices(request)
        )
    if not may_ring:
        return None, None  # recorded as FAILED, never dialled
    leg_id = uuid.uuid4()
    callee = value
    if body.to.kind == "user":
        callee = "client:" + provider_identity(host["customer_id"], host["livemode"], value)
    callback = f"{_base(request)}{VOICE_PATH}/participant?call_id={leg_id}"
    try:
        sid = await _twilio(request).add_participant(_room_sid(host), shown, callee, callback)
    except twilio_voice.TwilioVoiceError as exc:
        raise ApiError("INTERNAL_003", {"provider": [str(exc)]}) from exc
    return leg_id, sid


async def _in_room(
    request: Request,
    m: Mutation,
    call_id: uuid.UUID,
    participant_ids: list[uuid.UUID] | None,
    command: Callable[[twilio_voice.TwilioVoice, str, str], Awaitable[None]],
) -> None:
    """On a Twilio call: send a participant command for the named legs (None: everyone in the
    room) before the transaction that records it."""
    db: Database = request.app.state.db
    async with db.connection() as conn:
        if participant_ids is None:
            host, legs = await calls.participants(conn, m.principal, call_id, lock=False)
        else:
            legs = [
                await calls.participant(conn, m.principal, call_id, pid, lock=False)
                for pid in participant_ids
            ]
            host = await calls.conference_call(conn, m.principal, call_id, lock=False)
    if m.sandbox or host["provider"] != "twilio":
        return
    twilio, room = _twilio(request), _room_sid(host)
    try:
        for leg in legs:
            if leg["provider_ref"]:
                await command(twilio, room, leg["provider_ref"])
    except twilio_voice.TwilioVoiceError as exc:
        raise ApiError("INTERNAL_003", {"provider": [str(exc)]}) from exc


@router.post("/tokens")
async def create_token(
    request: Request, body: TokenCreate, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    state = request.app.state
    async with m.transaction() as conn:
        token = await voice_tokens.mint(
            conn,
            m.principal,
            identity=body.identity,
            number=body.number,
            ttl=body.ttl,
            settings=state.settings,
            now=_now(request),
        )
        return await m.respond(token)


@router.get("/calls")
async def list_calls(
    request: Request,
    page: PageParams,
    direction: Literal["outbound", "inbound"] | None = None,
    status: CallStatus | None = None,
    number: str | None = None,
    since: Annotated[datetime | None, Query(alias="from")] = None,
    until: Annotated[datetime | None, Query(alias="to")] = None,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    e164 = parse_number(number) if number is not None else None
    async with db.connection() as conn:
        rows, total = await calls.page(
            conn,
            principal.scope,
            direction=direction,
            status=status.upper() if status else None,
            number=e164,
            since=since,
            until=until,
            limit=page.page_size,
            offset=page.offset,
        )
    return ok(request, {"calls": [call(r) for r in rows], "pagination": page.meta(total)})


@router.get("/calls/{call_id}")
async def retrieve_call(
    request: Request,
    call_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        return ok(request, call(await calls.get(conn, principal.scope, call_id), timeline=True))


@router.post("/calls/{call_id}/hangup")
async def hangup_call(
    request: Request,
    call_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    await _on_provider(request, m, call_id, lambda twilio, sid: twilio.hangup(sid))
    async with m.transaction() as conn:
        await calls.hangup(conn, m.principal, call_id, _now(request), _prices(request))
        return await m.no_content()


@router.get("/calls/{call_id}/recordings")
async def list_recordings(
    request: Request,
    call_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url)
    now = _now(request)
    async with db.connection() as conn:
        rows = await calls.ready_recordings(conn, principal.scope, call_id)
    ttl = settings.voice_recording_url_ttl_s
    return ok(request, {"recordings": [recording(r, base, now, ttl) for r in rows]})


@router.post("/calls/{call_id}/recordings")
async def record_call(
    request: Request,
    call_id: uuid.UUID,
    body: RecordBody,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    callback = f"{_base(request)}{VOICE_PATH}/recording?call_id={call_id}"
    await _on_provider(
        request, m, call_id, lambda twilio, sid: twilio.record(sid, body.action, callback)
    )
    async with m.transaction() as conn:
        await calls.record(conn, m.principal, call_id, body.action, _now(request))
        return await m.no_content()


@router.get("/recordings/{recording_id}/download")
async def download_recording(
    request: Request,
    recording_id: uuid.UUID,
    expires: int,
    signature: Annotated[str, Query(max_length=128)],
    db: Database = Depends(get_db),
) -> Response:
    """The pre-signed link of a recording: no API key, the signature is the permission."""
    async with db.connection() as conn:
        row = await calls.recording(conn, recording_id)
    now = _now(request).timestamp()
    if row is None or not recordings.valid(row["url_key"], row["id"], expires, signature, now):
        return Response("The link is invalid or has expired", 403, media_type="text/plain")
    if row["ready_at"] is None:
        return Response("The recording is not ready", 404, media_type="text/plain")
    audio = recordings.simulated_mp3(row["duration_seconds"] or 0)
    if row["media_url"]:
        twilio = twilio_voice.from_settings(request.app.state.settings)
        if twilio is None:
            return Response("The recording's provider is not configured", 502)
        try:
            audio = await twilio.recording_audio(row["media_url"])
        except twilio_voice.TwilioVoiceError:
            return Response("The provider did not hand over the recording", 502)
    return Response(
        audio,
        media_type="audio/mpeg",
        headers={"content-disposition": f'attachment; filename="{row["id"]}.mp3"'},
    )


@router.get("/calls/{call_id}/participants")
async def list_participants(
    request: Request,
    call_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.transaction() as conn:
        _, legs = await calls.participants(conn, principal, call_id)
    now = _now(request)
    return ok(request, [participant(leg, now) for leg in legs])


@router.post("/calls/{call_id}/participants")
async def add_participant(
    request: Request,
    call_id: uuid.UUID,
    body: ParticipantAdd,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    leg_id, provider_ref = await _dial_participant(request, m, call_id, body)
    async with m.transaction() as conn:
        row = await calls.add_participant(
            conn,
            m.principal,
            call_id,
            kind=body.to.kind,
            value=body.to.value,
            caller_id=body.caller_id,
            now=_now(request),
            prices=_prices(request),
            leg_id=leg_id,
            provider_ref=provider_ref,
        )
        return await m.respond(call(row, timeline=True), 202 if m.sandbox else 201)


@router.patch("/calls/{call_id}/participants/{participant_id}")
async def update_participant(
    request: Request,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: ParticipantUpdate,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    await _in_room(
        request, m, call_id, [participant_id], lambda t, room, sid: t.mute(room, sid, body.muted)
    )
    async with m.transaction() as conn:
        await calls.mute(conn, m.principal, call_id, participant_id, body.muted)
        return await m.no_content()


@router.delete("/calls/{call_id}/participants/{participant_id}")
async def remove_participant(
    request: Request,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    await _in_room(request, m, call_id, [participant_id], lambda t, room, sid: t.kick(room, sid))
    async with m.transaction() as conn:
        await calls.remove(
            conn, m.principal, call_id, participant_id, _now(request), _prices(request)
        )
        return await m.no_content()


@router.delete("/calls/{call_id}/participants")
async def remove_all_participants(
    request: Request,
    call_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    await _in_room(request, m, call_id, None, lambda t, room, sid: t.kick(room, sid))
    async with m.transaction() as conn:
        await calls.remove_all(conn, m.principal, call_id, _now(request), _prices(request))
        return await m.no_content()
