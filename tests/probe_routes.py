"""Routes that exist only in the test app, to drive shared mechanisms over real HTTP: request
validation (every VALIDATION_* code), permission checks, and unexpected exceptions."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Literal

import asyncpg
from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError
from starlette.responses import Response

from sentd.api.deps import idempotency_key, require
from sentd.api.envelope import ok, request_id_of
from sentd.api.mutation import Mutation, mutation
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.repos import balances
from sentd.errors.exceptions import ApiError
from sentd.guards.rate_limits import RateClass

router = APIRouter(prefix="/v3/_probe")


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


@router.get("/db-client-state")
async def db_client_state() -> Response:
    """What asyncpg raises when a connection is used while it is being re-established."""
    raise asyncpg.InternalClientError(
        "cannot switch to state 15; another operation (2) is in progress"
    )


class CreditBody(BaseModel):
    """A real write (a balance credit and its ledger row) with knobs to make it slow or fail."""

    amount_micros: int = Field(ge=1, le=1_000_000_000)
    sandbox: bool | None = None
    sleep_in_transaction_s: float = 0
    sleep_after_commit_s: float = 0
    fail_with: str | None = None


@router.post("/credits")
async def credit(
    request: Request, body: CreditBody, m: Mutation = mutation(Permission.BILLING)
) -> Response:
    async with m.transaction() as conn:
        row = await balances.apply(
            conn,
            m.scope,
            amount_micros=body.amount_micros,
            currency="USD",
            reason="probe",
            reference=request_id_of(request),
        )
        await asyncio.sleep(body.sleep_in_transaction_s)
        if body.fail_with:
            raise ApiError(body.fail_with, {"probe": ["asked to fail"]})
        response = await m.respond({"balance_micros": row["amount_micros"]}, 201)
    await asyncio.sleep(body.sleep_after_commit_s)
    return response


@router.post("/sensitive")
async def sensitive(
    m: Mutation = mutation(Permission.ACCOUNT_READ, rate=RateClass.SENSITIVE),
) -> Response:
    async with m.transaction():
        return await m.respond({"done": True})


@router.get("/slow")
async def slow(
    request: Request, seconds: float, principal: Principal = require(Permission.ACCOUNT_READ)
) -> Response:
    await asyncio.sleep(seconds)
    return ok(request, {"slept": seconds})
