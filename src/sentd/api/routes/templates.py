"""`/v3/templates`: message templates and their review."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.templates import (
    Category,
    Status,
    TemplateCreate,
    TemplateDelete,
    TemplateUpdate,
)
from sentd.api.views.templates import template_view
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.services import templates
from sentd.services.templates import ReviewPolicy

router = APIRouter(prefix="/v3/templates", tags=["templates"])


def _policy(request: Request) -> ReviewPolicy:
    return ReviewPolicy.from_settings(request.app.state.settings)


@router.post("")
async def create_template(
    request: Request, body: TemplateCreate, m: Mutation = mutation(Permission.MESSAGING)
) -> Response:
    now = request.app.state.clock.now()
    async with m.transaction() as conn:
        template = await templates.create(conn, m.principal, body.to_input(), _policy(request), now)
        return await m.respond(template_view(template), 201)


@router.get("")
async def list_templates(
    request: Request,
    page: PageParams,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[Status | None, Query()] = None,
    category: Annotated[Category | None, Query()] = None,
    is_welcome_playground: Annotated[bool | None, Query()] = None,  # accepted, ignored
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows, total = await templates.page(
            conn,
            principal,
            search=search or None,
            status=status,
            category=category,
            limit=page.page_size,
            offset=page.offset,
        )
    data = {"templates": [template_view(t) for t in rows], "pagination": page.meta(total)}
    return ok(request, data)


@router.get("/{template_id}")
async def retrieve_template(
    request: Request,
    template_id: uuid.UUID,
    principal: Principal = require(Permission.MESSAGING),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        template = await templates.get(conn, principal, template_id)
    return ok(request, template_view(template))


@router.put("/{template_id}")
async def update_template(
    request: Request,
    template_id: uuid.UUID,
    body: TemplateUpdate,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    now = request.app.state.clock.now()
    async with m.transaction() as conn:
        template = await templates.update(
            conn, m.principal, template_id, body.to_changes(), _policy(request), now
        )
        return await m.respond(template_view(template))


@router.delete("/{template_id}")
async def delete_template(
    request: Request,
    template_id: uuid.UUID,
    body: TemplateDelete | None = None,
    m: Mutation = mutation(Permission.MESSAGING),
) -> Response:
    now = request.app.state.clock.now()
    delete_from_meta = bool(body and body.delete_from_meta)
    async with m.transaction() as conn:
        await templates.delete(
            conn, m.principal, template_id, delete_from_meta=delete_from_meta, now=now
        )
        return await m.no_content()
