"""`/v3/contacts`."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.contacts import ContactChannel, ContactCreate, ContactDelete, ContactUpdate
from sentd.api.views.contacts import contact
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.services import contacts

router = APIRouter(prefix="/v3/contacts", tags=["contacts"])


@router.post("")
async def create_contact(
    body: ContactCreate, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    async with m.transaction() as conn:
        created = await contacts.create(conn, m.principal, body.phone_number)
        return await m.respond(contact(created), 201)


@router.get("")
async def list_contacts(
    request: Request,
    page: PageParams,
    search: Annotated[str | None, Query(max_length=100)] = None,
    channel: ContactChannel | None = None,
    phone: Annotated[str | None, Query(max_length=20)] = None,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows, total = await contacts.page(
            conn,
            principal,
            search=search,
            channel=channel,
            phone=phone,
            limit=page.page_size,
            offset=page.offset,
        )
    return ok(request, {"contacts": [contact(r) for r in rows], "pagination": page.meta(total)})


@router.get("/{contact_id}")
async def retrieve_contact(
    request: Request,
    contact_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        return ok(request, contact(await contacts.get(conn, principal, contact_id)))


@router.patch("/{contact_id}")
async def update_contact(
    request: Request,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with m.transaction() as conn:
        change = await contacts.update(
            conn,
            m.principal,
            contact_id,
            fields=body.model_fields_set,
            default_channel=body.default_channel,
            opt_out=body.opt_out,
            now=request.app.state.clock.now(),
        )
        return await m.respond(contact(change.contact))


@router.delete("/{contact_id}")
async def delete_contact(
    request: Request,
    contact_id: uuid.UUID,
    body: ContactDelete | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    async with m.transaction() as conn:
        await contacts.delete(conn, m.principal, contact_id, request.app.state.clock.now())
        return await m.no_content()


@router.get("/{contact_id}/message-summary")
async def message_summary(
    request: Request,
    contact_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        return ok(request, await contacts.message_summary(conn, principal, contact_id))
