"""`/v3/profiles`: sender profiles of the organization."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.pagination import PageParams
from sentd.api.schemas.profiles import ProfileComplete, ProfileCreate, ProfileDelete, ProfileUpdate
from sentd.api.views.profiles import profile_detail
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.errors.exceptions import ApiError
from sentd.guards.rate_limits import RateClass
from sentd.outbound.destinations import ForbiddenDestination, check_when_saved
from sentd.outbound.urls import InvalidUrl, NotHttpUrl, normalize_url
from sentd.services import profiles

router = APIRouter(prefix="/v3/profiles", tags=["profiles"])


@router.post("")
async def create_profile(
    request: Request, body: ProfileCreate, m: Mutation = mutation(Permission.PROFILES_MANAGE)
) -> Response:
    async with m.transaction() as conn:
        row = await profiles.create(
            conn, m.principal, body.to_input(), request.app.state.clock.now()
        )
        return await m.respond(profile_detail(row), 201)


@router.get("")
async def list_profiles(
    request: Request,
    page: PageParams,
    principal: Principal = require(Permission.PROFILES_READ),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        rows, total = await profiles.page(conn, principal, page.page_size, page.offset)
    data = {"profiles": [profile_detail(r) for r in rows], "pagination": page.meta(total)}
    return ok(request, data)


@router.get("/callback-secret")
async def read_callback_secret(
    request: Request,
    principal: Principal = require(Permission.PROFILES_MANAGE),
    db: Database = Depends(get_db),
) -> Response:
    """The secret that signs the organization's profile-completion callbacks."""
    async with db.connection() as conn:
        secret = await profiles.callback_secret(conn, principal)
    return ok(request, {"callback_secret": secret})


@router.post("/callback-secret/rotate")
async def rotate_callback_secret(
    m: Mutation = mutation(Permission.PROFILES_MANAGE, rate=RateClass.SENSITIVE),
) -> Response:
    async with m.transaction() as conn:
        secret = await profiles.rotate_callback_secret(conn, m.principal)
        return await m.respond({"callback_secret": secret})


@router.get("/{profile_id}")
async def retrieve_profile(
    request: Request,
    profile_id: uuid.UUID,
    principal: Principal = require(Permission.PROFILES_READ),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        row = await profiles.get(conn, principal, profile_id)
    return ok(request, profile_detail(row))


@router.patch("/{profile_id}")
async def update_profile(
    request: Request,
    profile_id: uuid.UUID,
    body: ProfileUpdate,
    m: Mutation = mutation(Permission.PROFILES_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        row = await profiles.update(
            conn, m.principal, profile_id, body.to_changes(), request.app.state.clock.now()
        )
        return await m.respond(profile_detail(row))


@router.delete("/{profile_id}")
async def delete_profile(
    profile_id: uuid.UUID,
    body: ProfileDelete | None = None,
    m: Mutation = mutation(Permission.PROFILES_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        await profiles.delete(conn, m.principal, profile_id)
        return await m.no_content()


@router.post("/{profile_id}/complete")
async def complete_profile(
    request: Request,
    profile_id: uuid.UUID,
    body: ProfileComplete,
    m: Mutation = mutation(Permission.PROFILES_MANAGE, rate=RateClass.SENSITIVE),
) -> Response:
    settings = request.app.state.settings
    try:
        callback_url = normalize_url(body.web_hook_url)  # what is stored and called
        await check_when_saved(callback_url, settings.webhook_allow_private)
    except (NotHttpUrl, ForbiddenDestination) as exc:
        raise ApiError("VALIDATION_001", {"webHookUrl": [str(exc)]}) from exc
    except InvalidUrl as exc:
        raise ApiError("VALIDATION_003", {"webHookUrl": [str(exc)]}) from exc
    due_at = profiles.review_due_at(
        request.app.state.clock.now(),
        settings.profile_review_backend,
        settings.template_review_delay_s,
    )
    async with m.transaction() as conn:
        status, data = await profiles.complete(
            conn, m.principal, profile_id, callback_url, review_due_at=due_at
        )
        return await m.respond(data, status)
