"""`GET /v3/me` and `GET /v3/organizations/{id}`."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from sentd.api.deps import get_db, require
from sentd.api.envelope import ok
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.errors.exceptions import ApiError
from sentd.services import accounts

router = APIRouter(prefix="/v3", tags=["accounts"])


@router.get("/me")
async def me(
    request: Request,
    principal: Principal = require(Permission.ACCOUNT_READ),
    db: Database = Depends(get_db),
) -> Response:
    return ok(request, await accounts.account_view(db, principal.scope, role=principal.role))


@router.get("/organizations/{organization_id}")
async def organization(
    request: Request,
    organization_id: uuid.UUID,
    principal: Principal = require(Permission.ACCOUNT_READ),
    db: Database = Depends(get_db),
) -> Response:
    view = None
    if organization_id == principal.organization_id:
        # A profile (its own key, or x-profile-id) reads its parent, listing only itself.
        only = principal.customer_id if principal.acts_as_profile else None
        view = await accounts.organization_view(db, organization_id, role=principal.role, only=only)
    if view is None:
        raise ApiError("RESOURCE_005", {"organization_id": [f"No organization {organization_id}"]})
    return ok(request, view)
