"""`/v3/users`: dashboard users of the organization (see docs/users.md).

Users belong to the organization: a profile key, or `x-profile-id`, sees its organization's users.
The owner is implicit: never listed, never retrievable, never assignable.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd import mail
from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.users import InviteBody, RemoveBody, UpdateRoleBody
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.guards.rate_limits import RateClass
from sentd.services import users

router = APIRouter(prefix="/v3/users", tags=["users"])


@router.get("")
async def list_users(
    request: Request,
    page: PageParams,
    principal: Principal = require(Permission.USERS_READ),
    db: Database = Depends(get_db),
) -> Response:
    rows, total = await users.list_users(
        db, principal.organization_id, limit=page.page_size, offset=page.offset
    )
    return ok(
        request, {"users": [users.user_view(r) for r in rows], "pagination": page.meta(total)}
    )


@router.get("/{user_id}")
async def retrieve_user(
    request: Request,
    user_id: uuid.UUID,
    principal: Principal = require(Permission.USERS_READ),
    db: Database = Depends(get_db),
) -> Response:
    row = await users.get_user(db, principal.organization_id, user_id)
    return ok(request, users.user_view(row))


@router.post("")
async def invite_user(
    request: Request,
    body: InviteBody,
    m: Mutation = mutation(Permission.USERS_MANAGE, rate=RateClass.SENSITIVE),
) -> Response:
    now = request.app.state.clock.now()
    organization_id = m.principal.organization_id
    async with m.transaction() as conn:
        invitation = await users.invite(
            conn,
            organization_id=organization_id,
            email=body.email,
            name=body.name,
            role=body.role,
            now=now,
        )
        response = await m.respond(users.user_view(invitation.user), 201)
    # Committed (or, in sandbox, rolled back): only a real invitation is mailed.
    if not m.sandbox:
        mail.get_mailer(request.app.state.settings.mail_backend).send_invitation(
            mail.InvitationMail(
                email=invitation.user["email"],
                name=invitation.user["name"],
                role=invitation.user["role"],
                organization_id=organization_id,
                token=invitation.token,
                expires_at=invitation.expires_at,
            )
        )
    return response


@router.patch("/{user_id}")
async def update_user_role(
    user_id: uuid.UUID,
    body: UpdateRoleBody,
    m: Mutation = mutation(Permission.USERS_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        row = await users.update_role(
            conn,
            organization_id=m.principal.organization_id,
            actor_user_id=m.principal.user_id,
            user_id=user_id,
            role=body.role,
        )
        return await m.respond(users.user_view(row))


@router.delete("/{user_id}", status_code=204)
async def remove_user(
    user_id: uuid.UUID,
    body: RemoveBody | None = None,
    m: Mutation = mutation(Permission.USERS_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        await users.remove(
            conn,
            organization_id=m.principal.organization_id,
            actor_user_id=m.principal.user_id,
            user_id=user_id,
        )
        return await m.no_content()
