"""`/v3/messages`, `/v3/conversations` and `/v3/pricing`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok, request_id_of
from sentd.api.lean_route import LeanRoute
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams, whole_list
from sentd.api.schemas.bounds import Parameters
from sentd.api.schemas.messages import SendBody
from sentd.api.schemas.timestamps import Timestamp
from sentd.api.views.messages import activities, message
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.domain.messages import MessageStatus
from sentd.errors.exceptions import ApiError
from sentd.guards.rate_limits import Verdict
from sentd.pricing import price_list
from sentd.services import messages as service

router = APIRouter(tags=["messages"])


class ModifyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    scheduled_at: Timestamp | None = None
    text: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    parameters: Parameters | None = None
    sandbox: bool | None = None


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sandbox: bool | None = None


async def send_message(
    request: Request, body: SendBody, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    state = request.app.state
    env = service.Environment(
        now=state.clock.now(),
        providers=state.providers,
        prices=price_list(state.settings.pricing_file),
    )

    async def admit(size: int) -> None:
        verdict = await state.rate_limiter.hit_messages(m.principal, size)
        if not verdict.allowed:
            request.state.response_headers.update(verdict.headers())
            raise _messages_refusal(verdict, size)

    if m.answer_is_its_own:
        # Sent alone: its stored answer (Idempotency-Key) or its rollback (sandbox) is its own.
        async with m.transaction() as conn:
            data = await service.send(
                conn,
                m,
                m.principal,
                body.to_input(),
                env,
                reference=request_id_of(request),
                admit=admit,
            )
            return await m.respond(data, 202)
    data = await state.send_groups.send(
        m.principal, body.to_input(), env, reference=request_id_of(request), admit=admit
    )
    return ok(request, data, 202)


def send_route() -> LeanRoute:
    """`POST /v3/messages`, the hot path: the app puts it before every router (`sentd.app`),
    and it solves its own dependencies (`sentd.api.lean_route`)."""
    return LeanRoute("/v3/messages", send_message, methods=["POST"], tags=["messages"])


def _messages_refusal(verdict: Verdict, size: int) -> ApiError:
    """429 for a send the messages-per-minute window refused. One larger than the whole window
    can never pass by waiting: it is answered once, with x-should-retry: false and no
    Retry-After, so that the SDK raises at once instead of retrying."""
    if verdict.too_large:
        return ApiError(
            "BUSINESS_002",
            {
                "messages_per_minute": [
                    f"This send is {size} messages (recipients × channels); the plan allows "
                    f"{verdict.limit} messages a minute. Split it into sends of at most "
                    f"{verdict.limit} messages, or ask the operator for a higher limit"
                ],
            },
            headers={"x-should-retry": "false"},
        )
    return ApiError(
        "BUSINESS_002",
        {"messages_per_minute": [f"More than {verdict.limit} messages a minute"]},
        headers={"Retry-After": str(verdict.retry_after)},
    )


async def _page(db: Database, principal: Principal, page: Any, **filters: Any) -> dict[str, Any]:
    async with db.connection() as conn:
        items, total = await service.page(
            conn, principal, limit=page.page_size, offset=page.offset, **filters
        )
    return {"messages": [message(r, e) for r, e in items], "pagination": page.meta(total)}


@router.get("/v3/messages")
async def list_messages(
    request: Request,
    page: PageParams,
    status: MessageStatus | None = None,
    channel: Literal["sms", "whatsapp", "mms", "rcs"] | None = None,
    contact_id: uuid.UUID | None = None,
    from_: Annotated[Timestamp | None, Query(alias="from")] = None,
    to: Timestamp | None = None,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    data = await _page(
        db,
        principal,
        page,
        contact_id=contact_id,
        status=status,
        channel=channel,
        since=from_,
        until=to,
    )
    return ok(request, data)


@router.get("/v3/messages/{message_id}")
async def retrieve_message(
    request: Request,
    message_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        row = await service.visible(conn, principal, message_id)
        return ok(request, message(row, await service.events_of(conn, message_id)))


@router.get("/v3/messages/{message_id}/activities")
async def message_activities(
    request: Request,
    message_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        row = await service.visible(conn, principal, message_id)
        items = activities(row, await service.events_of(conn, message_id))
    pagination = whole_list(len(items))
    return ok(
        request, {"message_id": str(message_id), "activities": items, "pagination": pagination}
    )


@router.patch("/v3/messages/{message_id}")
async def modify_message(
    request: Request,
    message_id: uuid.UUID,
    body: ModifyBody,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    now = request.app.state.clock.now()
    async with m.transaction() as conn:
        row = await service.visible(conn, m.principal, message_id, lock=True)
        row = await service.modify(
            conn,
            m.principal,
            row,
            scheduled_at=body.scheduled_at,
            text=body.text,
            parameters=body.parameters,
            now=now,
        )
        return await m.respond(message(row, await service.events_of(conn, message_id)))


@router.post("/v3/messages/{message_id}/cancel")
async def cancel_message(
    request: Request,
    message_id: uuid.UUID,
    body: CancelBody | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    now = request.app.state.clock.now()
    async with m.transaction() as conn:
        row = await service.cancel(conn, m.principal, message_id, now=now)
        return await m.respond(message(row, await service.events_of(conn, message_id)))


@router.get("/v3/conversations")
async def list_conversations(
    request: Request,
    page: PageParams,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    data = await _page(db, principal, page)
    return ok(request, data)


@router.get("/v3/conversations/{contact_id}")
async def conversation(
    request: Request,
    contact_id: uuid.UUID,
    page: PageParams,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        await service.check_contact(conn, principal, contact_id)
    data = await _page(db, principal, page, contact_id=contact_id)
    return ok(request, data)


@router.get("/v3/pricing")
async def pricing(
    request: Request, principal: Principal = require(Permission.MESSAGING)
) -> Response:
    return ok(request, price_list(request.app.state.settings.pricing_file))
