"""Dependencies every route uses: the database, authentication, profile scope, permissions."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request

from sentd.auth.authenticator import OrganizationSuspended
from sentd.auth.permissions import Permission, allows
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import customers
from sentd.errors.exceptions import ApiError
from sentd.guards.auth_throttle import presented_digest
from sentd.guards.idempotency import HEADER as IDEMPOTENCY_HEADER
from sentd.guards.idempotency import check_format
from sentd.guards.rate_limits import RateClass
from sentd.ids import parse_uuid

PROFILE_HEADER = "x-profile-id"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def authenticate(request: Request) -> Principal:
    known: Principal | None = request.scope.get("state", {}).get("principal")
    if known is not None:  # the intake authenticated before reading the body
        return known
    state = request.app.state
    api_key = request.headers.get("x-api-key")
    if not api_key:
        raise ApiError("AUTH_001", {"x-api-key": ["The x-api-key header is missing"]})
    # A key valid moments ago (cached) has no failures to throttle: no counter is asked.
    principal: Principal | None = state.authenticator.cached(api_key)
    if principal is None:
        principal = await _authenticate_key(request, api_key)
    profile_header = request.headers.get(PROFILE_HEADER)
    if profile_header is not None:
        principal = await _act_as_profile(request, principal, profile_header)
    request.state.principal = principal
    return principal


async def _authenticate_key(request: Request, api_key: str) -> Principal:
    state = request.app.state
    presented = presented_digest(api_key)
    retry_after = await state.auth_throttle.key_retry_after(presented)
    if retry_after is not None:
        raise _throttled("Too many failed authentication attempts with this key", retry_after)
    try:
        principal: Principal | None = await state.authenticator.authenticate(api_key)
    except OrganizationSuspended:
        # A valid key: not an authentication failure for the throttle.
        raise ApiError(
            "ACCOUNT_003", {"x-api-key": ["The key's organization is suspended"]}
        ) from None
    if principal is None:
        # The peer address, or X-Forwarded-For's when the peer is a trusted proxy (uvicorn
        # applies SENTD_FORWARDED_ALLOW_IPS before the request gets here).
        client = request.client.host if request.client else "unknown"
        retry_after = await state.auth_throttle.record_failure(presented, client)
        if retry_after is not None:
            raise _throttled("Too many different failing keys from this address", retry_after)
        raise ApiError("AUTH_002")
    return principal


def _throttled(reason: str, retry_after: int) -> ApiError:
    return ApiError(
        "BUSINESS_002", {"x-api-key": [reason]}, headers={"Retry-After": str(retry_after)}
    )


async def _act_as_profile(request: Request, principal: Principal, header: str) -> Principal:
    if not principal.is_organization_key:
        raise ApiError(
            "AUTH_004", {PROFILE_HEADER: ["Only an organization key may act as a profile"]}
        )
    profile_id = parse_uuid(header)
    if profile_id is None:
        raise ApiError("VALIDATION_003", {PROFILE_HEADER: ["Not a UUID"]})
    async with get_db(request).connection() as conn:
        profile = await customers.get_profile_of(conn, principal.organization_id, profile_id)
    if profile is None:
        raise ApiError("RESOURCE_004", {PROFILE_HEADER: [f"No profile {profile_id}"]})
    request.state.response_headers["X-Profile-Id"] = str(profile_id)
    return principal.acting_as(profile_id)


def require(permission: Permission, rate: RateClass = RateClass.STANDARD) -> Any:
    """`principal: Principal = require(Permission.X)`: authenticates, counts the request against
    the organization's rate limit of class `rate`, and checks the role."""

    async def check(request: Request, principal: Principal = Depends(authenticate)) -> Principal:
        verdict = await request.app.state.rate_limiter.hit_request(principal, rate)
        request.state.response_headers.update(verdict.headers())
        if not verdict.allowed:
            raise ApiError(
                "BUSINESS_002",
                {"rate_limit": [f"More than {verdict.limit} {rate} requests a {verdict.window}"]},
                headers={"Retry-After": str(verdict.retry_after)},
            )
        if not allows(principal.role, permission):
            raise ApiError(
                "AUTH_004", {"role": [f"The {principal.role} role may not do this ({permission})"]}
            )
        return principal

    return Depends(check)


async def idempotency_key(request: Request) -> str | None:
    """The request's `Idempotency-Key`, format-checked (`VALIDATION_007`)."""
    return check_format(request.headers.get(IDEMPOTENCY_HEADER))
