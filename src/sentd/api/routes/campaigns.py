"""`/v3/profiles/{profileId}/campaigns`: a sender profile's 10DLC campaigns (deprecated in the
SDKs, still served)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.api.mutation import Mutation, mutation
from sentd.api.schemas.campaigns import CampaignDelete, CampaignWrite
from sentd.api.views.campaigns import brand_campaign
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.services import campaigns

router = APIRouter(prefix="/v3/profiles/{profile_id}/campaigns", tags=["campaigns"])


@router.post("")
async def create_campaign(
    request: Request,
    profile_id: uuid.UUID,
    body: CampaignWrite,
    m: Mutation = mutation(Permission.PROFILES_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        profile, row = await campaigns.create(
            conn, m.principal, profile_id, body.campaign.to_input(), request.app.state.clock.now()
        )
        return await m.respond(brand_campaign(profile, row), 201)


@router.get("")
async def list_campaigns(
    request: Request,
    profile_id: uuid.UUID,
    principal: Principal = require(Permission.PROFILES_READ),
    db: Database = Depends(get_db),
) -> Response:
    async with db.connection() as conn:
        profile, rows = await campaigns.list_for_profile(conn, principal, profile_id)
    return ok(request, [brand_campaign(profile, row) for row in rows])


@router.put("/{campaign_id}")
async def update_campaign(
    request: Request,
    profile_id: uuid.UUID,
    campaign_id: uuid.UUID,
    body: CampaignWrite,
    m: Mutation = mutation(Permission.PROFILES_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        profile, row = await campaigns.update(
            conn,
            m.principal,
            profile_id,
            campaign_id,
            body.campaign.to_input(),
            request.app.state.clock.now(),
        )
        return await m.respond(brand_campaign(profile, row))


@router.delete("/{campaign_id}")
async def delete_campaign(
    request: Request,
    profile_id: uuid.UUID,
    campaign_id: uuid.UUID,
    body: CampaignDelete | None = None,
    m: Mutation = mutation(Permission.PROFILES_MANAGE),
) -> Response:
    async with m.transaction() as conn:
        await campaigns.delete(
            conn, m.principal, profile_id, campaign_id, request.app.state.clock.now()
        )
        return await m.no_content()
