"""Routes that exist only in the test app, to drive shared mechanisms over real HTTP: request
validation (every VALIDATION_* code), permission checks, and unexpected exceptions."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from sentd.api.deps import idempotency_key, require
from sentd.api.envelope import ok
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal

router = APIRouter(prefix="/_probe")


def _e164(value: str) -> str:
    if not (value.startswith("+") and value[1:].isdigit() and 8 <= len(value) <= 16):
        raise PydanticCustomError("phone_number", "Not an E.164 phone number")
    return value


class Template(BaseModel):
    id: uuid.UUID
    name: str | None = None


class ProbeBody(BaseModel):
    to: list[Annotated[str, AfterValidator(_e164)]]
    template: Template | None = None
    retry_count: int = Field(default=3, ge=1, le=5)
    channel: Literal["sms", "whatsapp"] = "sms"


@router.post("/validation")
async def validation(
    request: Request, body: ProbeBody, key: str | None = Depends(idempotency_key)
) -> Response:
    return ok(request, {"to": body.to, "idempotency_key": key})


@router.get("/messaging")
async def messaging(
    request: Request, principal: Principal = require(Permission.MESSAGING)
) -> Response:
    return ok(request, {"role": principal.role})


@router.get("/boom")
async def boom() -> Response:
    raise RuntimeError("secret internal detail: SELECT * FROM api_keys")
