"""`/v3/webhooks`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams, whole_list
from sentd.api.schemas.webhooks import Body, TestBody, ToggleBody, WebhookBody
from sentd.api.views.webhooks import delivery, event_types, webhook
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.guards.rate_limits import RateClass
from sentd.services import webhooks

router = APIRouter(prefix="/v3/webhooks", tags=["webhooks"])


def _allow_private(request: Request) -> bool:
    allowed: bool = request.app.state.settings.webhook_allow_private
    return allowed


@router.post("")
async def create_webhook(
    request: Request, body: WebhookBody, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    await webhooks.check_destination(body.endpoint_url, _allow_private(request))
    async with m.transaction() as conn:
        row = await webhooks.create(
            conn, m.principal, body.to_input(), request.app.state.clock.now()
        )
        return await m.respond(webhook(row, reveal_secret=True), 201)


@router.get("")
async def list_webhooks(
    request: Request,
    page: PageParams,
    search: Annotated[str | None, Query(max_length=200)] = None,
    is_active: bool | None = None,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows, total = await webhooks.page(
            conn,
            principal,
            search=search,
            is_active=is_active,
            limit=page.page_size,
            offset=page.offset,
        )
    return ok(request, {"webhooks": [webhook(r) for r in rows], "pagination": page.meta(total)})


@router.get("/event-types")
async def list_event_types(
    request: Request, principal: Principal = require(Permission.MESSAGING)
) -> Response:
    types = event_types()
    pagination = whole_list(len(types))
    return ok(request, {"event_types": types, "pagination": pagination})


@router.get("/{webhook_id}")
async def retrieve_webhook(
    request: Request,
    webhook_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        return ok(request, webhook(await webhooks.get(conn, principal, webhook_id)))


@router.put("/{webhook_id}")
async def update_webhook(
    request: Request,
    webhook_id: uuid.UUID,
    body: WebhookBody,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    await webhooks.check_destination(body.endpoint_url, _allow_private(request))
    async with m.transaction() as conn:
        row = await webhooks.replace(
            conn, m.principal, webhook_id, body.to_input(), request.app.state.clock.now()
        )
        return await m.respond(webhook(row))


@router.delete("/{webhook_id}")
async def delete_webhook(
    request: Request, webhook_id: uuid.UUID, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    async with m.transaction() as conn:
        await webhooks.delete(conn, m.principal, webhook_id, request.app.state.clock.now())
        return await m.no_content()


@router.get("/{webhook_id}/events")
async def list_deliveries(
    request: Request,
    webhook_id: uuid.UUID,
    page: PageParams,
    search: Annotated[str | None, Query(max_length=200)] = None,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows, total = await webhooks.delivery_log(
            conn, principal, webhook_id, search=search, limit=page.page_size, offset=page.offset
        )
    return ok(request, {"events": [delivery(r) for r in rows], "pagination": page.meta(total)})


@router.post("/{webhook_id}/rotate-secret")
async def rotate_secret(
    request: Request,
    webhook_id: uuid.UUID,
    body: Body | None = None,
    m: Mutation = mutation(Permission.MESSAGING, rate=RateClass.SENSITIVE),
) -> Response:
    async with m.transaction() as conn:
        secret = await webhooks.rotate_secret(
            conn, m.principal, webhook_id, request.app.state.clock.now()
        )
        return await m.respond({"signing_secret": secret})


@router.post("/{webhook_id}/test")
async def test_webhook(
    request: Request,
    webhook_id: uuid.UUID,
    body: TestBody,
    m: Mutation = mutation(Permission.MESSAGING, rate=RateClass.SENSITIVE),
) -> Response:
    if m.sandbox:
        async with m.transaction() as conn:
            await webhooks.get(conn, m.principal, webhook_id)
            return await m.respond({"success": True, "message": "Sandbox: nothing was sent"})
    # Read, release the connection, call the customer's endpoint, then record the answer: no
    # database connection waits on a customer's endpoint.
    db: Database = request.app.state.db
    async with db.connection() as conn:
        row = await webhooks.get(conn, m.principal, webhook_id)
    outcome = await webhooks.send_test(
        row, body.event_type, request.app.state.clock.now(), _allow_private(request)
    )
    async with m.transaction():
        return await m.respond({"success": outcome.succeeded, "message": outcome.describe()})


@router.patch("/{webhook_id}/toggle-status")
async def toggle_status(
    request: Request,
    webhook_id: uuid.UUID,
    body: ToggleBody,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with m.transaction() as conn:
        row = await webhooks.set_active(
            conn, m.principal, webhook_id, body.is_active, request.app.state.clock.now()
        )
        return await m.respond(webhook(row))
