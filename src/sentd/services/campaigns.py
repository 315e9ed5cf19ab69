"""Profile campaigns (10DLC): a sender profile's campaigns and their simulated registry review.

A campaign is written as a whole (create, or a full replacement by update) while it is a draft.
Once its profile is approved, the campaign worker submits it to the registry (`in_review`):
from then on it cannot be changed. The registry's decision — the simulator's rule, or an operator
with `sentd profiles campaigns review` — makes it ACTIVE, or rejects it with a reason
(`tcrSyncError`), after which it is editable again and resubmitted after the next change.
"""

from __future__ import annotations

import secrets
import string
import uuid
from datetime import datetime
from typing import Any

from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import campaigns
from sentd.db.repos import profiles as profile_rows
from sentd.db.types import Connection
from sentd.domain.campaigns import CampaignInput
from sentd.errors.exceptions import ApiError
from sentd.services import profiles

SUBMITTED_STATES = frozenset({"in_review", "approved"})
_TCR_ALPHABET = string.ascii_uppercase + string.digits


def _campaign_not_found(profile_id: uuid.UUID, campaign_id: uuid.UUID) -> ApiError:
    # The catalog has no campaign code: a campaign is part of its profile's (customer's) record.
    return ApiError(
        "RESOURCE_004", {"campaign_id": [f"Profile {profile_id} has no campaign {campaign_id}"]}
    )


def _profile_not_found(profile_id: uuid.UUID) -> ApiError:
    return ApiError("RESOURCE_004", {"profile_id": [f"No profile {profile_id}"]})


async def _profile_to_manage(conn: Connection, principal: Principal, profile_id: uuid.UUID) -> Any:
    """The profile, locked, for a change to its campaigns: organization level, owner or admin
    (the role is checked by the route's permission)."""
    profiles.require_organization_key(principal)
    row = await profile_rows.get_for_update(conn, principal.organization_id, profile_id)
    if row is None:
        raise _profile_not_found(profile_id)
    return row


def _use_cases(data: CampaignInput, previous: list[dict[str, Any]], now: datetime) -> list[Any]:
    """The use cases to store; one that was there before keeps its id and creation time, and its
    update time too unless its sample messages changed."""
    before = {u["messagingUseCaseUs"]: u for u in previous}
    stamp = now.isoformat()
    stored: list[dict[str, Any]] = []
    for use_case in data.use_cases:
        old = before.get(use_case.messaging_use_case_us)
        unchanged = old is not None and old["sampleMessages"] == list(use_case.sample_messages)
        stored.append(
            {
                "id": old["id"] if old else str(uuid.uuid4()),
                "messagingUseCaseUs": use_case.messaging_use_case_us,
                "sampleMessages": list(use_case.sample_messages),
                "createdAt": old["createdAt"] if old else stamp,
                "updatedAt": old["updatedAt"] if old and unchanged else stamp,
            }
        )
    return stored


def _values(data: CampaignInput, previous: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    return {
        "name": data.name,
        "description": data.description,
        "type": data.type,
        "use_cases": _use_cases(data, previous, now),
        "help_keywords": data.help_keywords,
        "help_message": data.help_message,
        "message_flow": data.message_flow,
        "optin_keywords": data.optin_keywords,
        "optin_message": data.optin_message,
        "optout_keywords": data.optout_keywords,
        "optout_message": data.optout_message,
        "privacy_policy_link": data.privacy_policy_link,
        "terms_and_conditions_link": data.terms_and_conditions_link,
        "volume": data.volume,
    }


def _check_brand(profile: Any) -> None:
    settings = {**profiles.DEFAULT_SETTINGS, **(profile["settings"] or {})}
    if profile["brand"] is None and not settings["inherit_tcr_brand"]:
        raise ApiError(
            "VALIDATION_004",
            {
                "brand": [
                    "A campaign belongs to the profile's brand: give the profile a brand "
                    "(PATCH /v3/profiles/{id}) or let it inherit the organization's"
                ]
            },
        )


# -- the API's four operations ------------------------------------------------------------


async def list_for_profile(
    conn: Connection, principal: Principal, profile_id: uuid.UUID
) -> tuple[Any, list[Any]]:
    """The profile and its campaigns, oldest first. Acting as a profile, only its own."""
    profile = await profiles.get(conn, principal, profile_id)
    return profile, await campaigns.list_for(conn, profile_id)


async def create(
    conn: Connection,
    principal: Principal,
    profile_id: uuid.UUID,
    data: CampaignInput,
    now: datetime,
) -> tuple[Any, Any]:
    profile = await _profile_to_manage(conn, principal, profile_id)
    _check_brand(profile)
    row = await campaigns.insert(conn, profile_id, _values(data, [], now), now)
    return profile, row


async def update(
    conn: Connection,
    principal: Principal,
    profile_id: uuid.UUID,
    campaign_id: uuid.UUID,
    data: CampaignInput,
    now: datetime,
) -> tuple[Any, Any]:
    """Replace the campaign as a whole; refused (BUSINESS_006) once it went to the registry."""
    profile = await _profile_to_manage(conn, principal, profile_id)
    current = await campaigns.get_for_update(conn, profile_id, campaign_id)
    if current is None:
        raise _campaign_not_found(profile_id, campaign_id)
    if current["registry_state"] in SUBMITTED_STATES:
        raise ApiError(
            "BUSINESS_006",
            {
                "campaign_id": [
                    f"Campaign {campaign_id} was submitted to the registry at "
                    f"{current['submitted_at'].isoformat()}; a submitted campaign cannot be "
                    "changed (delete it and create a new one instead)"
                ]
            },
        )
    row = await campaigns.replace(conn, campaign_id, _values(data, current["use_cases"], now), now)
    return profile, row


async def delete(
    conn: Connection,
    principal: Principal,
    profile_id: uuid.UUID,
    campaign_id: uuid.UUID,
    now: datetime,
) -> None:
    """Remove the campaign, whatever its state (a review in progress is withdrawn)."""
    await _profile_to_manage(conn, principal, profile_id)
    if await campaigns.get_for_update(conn, profile_id, campaign_id) is None:
        raise _campaign_not_found(profile_id, campaign_id)
    await campaigns.soft_delete(conn, campaign_id, now)


# -- the registry review ------------------------------------------------------------------


def new_tcr_campaign_id() -> str:
    """An identifier in the registry's style: "C" and six capitals or digits."""
    return "C" + "".join(secrets.choice(_TCR_ALPHABET) for _ in range(6))


def simulated_decision(row: Any) -> tuple[bool, str | None]:
    """The simulator's rule: a campaign whose name contains "reject" (any case) is rejected;
    every other campaign is approved."""
    if "reject" in row["name"].lower():
        return False, "Simulated rejection: the campaign's name asks for it"
    return True, None


async def submit_ready(
    conn: Connection, now: datetime, due_at: datetime | None, limit: int
) -> list[Any]:
    """Submit the draft campaigns of approved profiles; `due_at` is when the simulator decides
    (None: an operator does)."""
    return await campaigns.submit_ready(conn, now, due_at, limit)


async def decide(
    conn: Connection, campaign_id: uuid.UUID, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """Record the registry's decision; None unless the campaign awaits review."""
    if approved:
        return await campaigns.approve(
            conn, campaign_id, tcr_campaign_id=new_tcr_campaign_id(), now=now
        )
    return await campaigns.reject(
        conn, campaign_id, reason=reason or "Rejected by the registry", now=now
    )


async def record_review(
    db: Database, campaign_id: uuid.UUID, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """An operator's decision (`sentd profiles campaigns review`)."""
    async with db.transaction() as conn:
        return await decide(conn, campaign_id, approved=approved, reason=reason, now=now)
