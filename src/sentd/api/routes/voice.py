"""`/v3/voice`: tokens for app users, calls and their recordings and conference participants."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.timestamps import Timestamp
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
from sentd.pricing import price_list
from sentd.services import calls, voice_tokens
from sentd.services.call_commands import CallCommands, RecordingUnavailable
from sentd.services.voice_numbers import parse_number
from sentd.voice import recordings

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


def _commands(request: Request) -> CallCommands:
    commands: CallCommands = request.app.state.call_commands
    return commands


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
    since: Annotated[Timestamp | None, Query(alias="from")] = None,
    until: Annotated[Timestamp | None, Query(alias="to")] = None,
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
    async with _commands(request).hang_up(m, call_id, prices=_prices(request)):
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
    async with _commands(request).record(m, call_id, body.action, base_url=_base(request)):
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
    try:
        audio = await _commands(request).recording_audio(row)
    except RecordingUnavailable as exc:
        return Response(str(exc), 502)
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
    adding = _commands(request).add_participant(
        m, call_id, body.to_input(), prices=_prices(request), base_url=_base(request)
    )
    async with adding as row:
        return await m.respond(call(row, timeline=True), 202 if m.sandbox else 201)


@router.patch("/calls/{call_id}/participants/{participant_id}")
async def update_participant(
    request: Request,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: ParticipantUpdate,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with _commands(request).mute(m, call_id, participant_id, body.muted):
        return await m.no_content()


@router.delete("/calls/{call_id}/participants/{participant_id}")
async def remove_participant(
    request: Request,
    call_id: uuid.UUID,
    participant_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with _commands(request).remove(m, call_id, participant_id, prices=_prices(request)):
        return await m.no_content()


@router.delete("/calls/{call_id}/participants")
async def remove_all_participants(
    request: Request,
    call_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with _commands(request).remove_all(m, call_id, prices=_prices(request)):
        return await m.no_content()
