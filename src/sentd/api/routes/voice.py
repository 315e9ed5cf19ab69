"""`/v3/voice`: tokens for app users, and calls (`/v3/voice/calls`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sentd.api.mutation import Mutation, mutation
from sentd.api.schemas.voice import TokenCreate
from sentd.auth.permissions import Permission
from sentd.services import voice_tokens

router = APIRouter(prefix="/v3/voice", tags=["voice"])


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
            now=state.clock.now(),
        )
        return await m.respond(token)
