"""`/v3/numbers/lookup/{phone_number}`. The SDKs send the `+` literally; `%2B` works too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from sentd.api.deps import require
from sentd.api.envelope import ok
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.services import lookup

router = APIRouter(prefix="/v3/numbers", tags=["numbers"])


@router.get("/lookup/{phone_number}")
async def lookup_number(
    request: Request, phone_number: str, principal: Principal = require(Permission.MESSAGING)
) -> Response:
    state = request.app.state
    providers = getattr(state, "lookup_providers", [])
    return ok(request, await lookup.lookup(phone_number, providers, state.settings.lookup_mode))
