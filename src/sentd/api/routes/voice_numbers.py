"""`/v3/channels/voice`: the numbers that carry calls. The SDK sends the `+` of a number in the
path URL-encoded (`%2B`); a literal `+` works too."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.schemas.voice import Body, VoiceNumberCreate, VoiceNumberUpdate
from sentd.api.views.voice import voice_number
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.guards.rate_limits import RateClass
from sentd.services import voice_numbers

router = APIRouter(prefix="/v3/channels/voice", tags=["voice"])


def _allow_private(request: Request) -> bool:
    allowed: bool = request.app.state.settings.webhook_allow_private
    return allowed


@router.post("")
async def enable_voice(
    request: Request, body: VoiceNumberCreate, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    settings = request.app.state.settings
    lines = voice_numbers.lines_for(settings, m.principal.livemode, m.sandbox)
    # DNS and the provider first: no pooled connection waits on either.
    await voice_numbers.check_destination(body.callback_url, _allow_private(request))
    line = await voice_numbers.provision(
        lines, number=body.number, area_code=body.area_code, taken=frozenset()
    )
    async with m.transaction() as conn:
        enabled = await voice_numbers.enable(
            conn,
            m.principal,
            callback_url=body.callback_url,
            line=line,
            own_number=body.number is not None,
            make_default=body.default_for_app_calls,
            now=request.app.state.clock.now(),
        )
        status = 202 if m.sandbox else 201 if enabled.created else 200
        return await m.respond(voice_number(enabled.row, reveal_secret=True), status)


@router.get("")
async def list_voice_numbers(
    request: Request,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows = await voice_numbers.all_of(conn, principal.scope)
    return ok(request, [voice_number(r) for r in rows])


@router.get("/{number}")
async def retrieve_voice_number(
    request: Request,
    number: str,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    e164 = voice_numbers.parse_number(number)
    async with db.connection() as conn:
        return ok(request, voice_number(await voice_numbers.get(conn, principal.scope, e164)))


@router.patch("/{number}")
async def update_voice_number(
    request: Request,
    number: str,
    body: VoiceNumberUpdate,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    e164 = voice_numbers.parse_number(number)
    changes = body.to_changes()
    if changes.callback_url is not None:
        await voice_numbers.check_destination(changes.callback_url, _allow_private(request))
    async with m.transaction() as conn:
        row = await voice_numbers.update(
            conn, m.principal, e164, changes, request.app.state.clock.now()
        )
        return await m.respond(voice_number(row))


@router.post("/{number}/rotate-secret")
async def rotate_callback_secret(
    request: Request,
    number: str,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING, rate=RateClass.SENSITIVE),
) -> Response:
    e164 = voice_numbers.parse_number(number)
    async with m.transaction() as conn:
        secret = await voice_numbers.rotate_secret(
            conn, m.principal, e164, request.app.state.clock.now()
        )
        return await m.respond({"callback_secret": secret}, 202 if m.sandbox else 200)


@router.post("/{number}/test")
async def test_callback(
    request: Request,
    number: str,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING, rate=RateClass.SENSITIVE),
) -> Response:
    """The question goes out with no database connection held: the number is read first, the
    verdict stored (with an Idempotency-Key) in a short transaction afterwards."""
    e164 = voice_numbers.parse_number(number)
    state = request.app.state
    db: Database = state.db
    async with db.connection() as conn:
        row = await voice_numbers.get(conn, m.principal.scope, e164)
        own = frozenset(r["number"] for r in await voice_numbers.all_of(conn, m.principal.scope))
    if m.sandbox:
        verdict = {"outcome": "ok", "call_id": None, "answer": None, "error": None}
        verdict |= {"request": None, "response": None}
    else:
        verdict = await voice_numbers.test_callback(
            row,
            account_id=m.principal.customer_id,
            own_numbers=own,
            timeout_s=state.settings.voice_callback_timeout_s,
            allow_private=_allow_private(request),
            now=state.clock.now(),
        )
    async with m.transaction():
        return await m.respond(verdict, 202 if m.sandbox else 200)
