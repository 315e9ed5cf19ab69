"""Sender profiles: create, read, update, delete, and the review that approves them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import api_keys, balances, profiles
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.domain.profiles import Brand, ProfileChanges, ProfileInput, ProfileSettings
from sentd.errors.exceptions import ApiError
from sentd.services import quotas, sending_numbers
from sentd.services.webhooks import new_secret

SETTING_FLAGS = (
    "inherit_contacts",
    "inherit_templates",
    "inherit_tcr_brand",
    "inherit_tcr_campaign",
    "allow_contact_sharing",
    "allow_template_sharing",
)
DEFAULT_SETTINGS: dict[str, Any] = {
    "billing_model": "profile",
    "inherit_contacts": True,
    "inherit_templates": True,
    "inherit_tcr_brand": False,
    "inherit_tcr_campaign": False,
    "allow_contact_sharing": False,
    "allow_template_sharing": False,
}


def _not_found(profile_id: uuid.UUID) -> ApiError:
    return ApiError("RESOURCE_004", {"profile_id": [f"No profile {profile_id}"]})


def require_organization_key(principal: Principal) -> None:
    """Profiles are managed at the organization level: not with a profile's key, nor while an
    organization key acts as a profile (`x-profile-id`)."""
    if principal.acts_as_profile:
        raise ApiError(
            "AUTH_004",
            {"x-api-key": ["Managing profiles needs an organization key, not acting as a profile"]},
        )


# -- reading ------------------------------------------------------------------------------


async def get(conn: Connection, principal: Principal, profile_id: uuid.UUID) -> Any:
    """A profile the principal may see: any of its organization's at the organization level,
    only itself when acting as a profile (its own key, or `x-profile-id`)."""
    if principal.acts_as_profile and profile_id != principal.customer_id:
        raise _not_found(profile_id)
    row = await profiles.get(conn, principal.organization_id, profile_id)
    if row is None:
        raise _not_found(profile_id)
    return row


async def page(
    conn: Connection, principal: Principal, limit: int, offset: int
) -> tuple[list[Any], int]:
    only = principal.customer_id if principal.acts_as_profile else None
    return await profiles.page(conn, principal.organization_id, only, limit, offset)


# -- writing ------------------------------------------------------------------------------


def _brand_record(brand: Brand, previous: dict[str, Any] | None, now: datetime) -> dict[str, Any]:
    return {
        "id": (previous or {}).get("id") or str(uuid.uuid4()),
        "contact": brand.contact,
        "business": brand.business,
        "compliance": brand.compliance,
        "created_at": (previous or {}).get("created_at") or now.isoformat(),
        "updated_at": now.isoformat(),
    }


def _check_billing(settings: dict[str, Any], billing_contact: Any, has_payment: bool) -> None:
    model = settings["billing_model"]
    if model in ("profile", "profile_and_organization") and billing_contact is None:
        raise ApiError(
            "VALIDATION_004",
            {"billing_contact": [f"Required when billing_model is {model}"]},
        )
    if model == "organization" and has_payment:
        raise ApiError(
            "VALIDATION_001",
            {"payment_details": ["Not accepted when the organization pays (billing_model)"]},
        )


def _check_brand(settings: dict[str, Any], given: ProfileSettings) -> None:
    if given.brand is not None and settings["inherit_tcr_brand"]:
        raise ApiError(
            "VALIDATION_001", {"brand": ["Give a brand or inherit the organization's, not both"]}
        )


def _settings_from(given: ProfileSettings, current: dict[str, Any]) -> dict[str, Any]:
    settings = {**DEFAULT_SETTINGS, **current}
    if given.billing_model is not None:
        settings["billing_model"] = given.billing_model
    for flag in SETTING_FLAGS:
        value = getattr(given, flag)
        if value is not None:
            settings[flag] = value
    return settings


def _payment_card(given: ProfileSettings) -> dict[str, str] | None:
    """Only what identifies the card: its last four digits and expiry. Never the number or CVC."""
    if given.payment_details is None:
        return None
    digits = given.payment_details.card_number.replace(" ", "")
    return {"last4": digits[-4:], "expiry": given.payment_details.expiry}


async def create(conn: Connection, principal: Principal, given: ProfileInput, now: datetime) -> Any:
    require_organization_key(principal)
    settings = _settings_from(given, {})
    _check_billing(settings, given.billing_contact, given.payment_details is not None)
    _check_brand(settings, given)
    await quotas.check(conn, principal, "profiles")
    values: dict[str, Any] = {
        "name": given.name,
        "short_name": given.short_name,
        "description": given.description,
        "icon": given.icon,
        "settings": settings,
        "billing_contact": given.billing_contact,
        "brand": _brand_record(given.brand, None, now) if given.brand else None,
        "payment_card": _payment_card(given),
        "whatsapp_account": given.whatsapp_business_account,
    }
    row = await profiles.insert(conn, principal.organization_id, values)
    for livemode in (True, False):
        await balances.apply(
            conn,
            Scope(row["id"], livemode),
            amount_micros=0,
            currency="USD",
            reason="open",
            reference=None,
        )
    return row


async def update(
    conn: Connection,
    principal: Principal,
    profile_id: uuid.UUID,
    given: ProfileChanges,
    now: datetime,
) -> Any:
    """A partial update: fields left out stay as they are; `null` leaves a required field (`name`)
    unchanged and clears an optional one."""
    require_organization_key(principal)
    current = await profiles.get_for_update(conn, principal.organization_id, profile_id)
    if current is None:
        raise _not_found(profile_id)
    sent = given.given
    settings = _settings_from(given, current["settings"] or {})
    billing_contact = (
        given.billing_contact if "billing_contact" in sent else current["billing_contact"]
    )
    _check_billing(settings, billing_contact, given.payment_details is not None)
    _check_brand(settings, given)
    values: dict[str, Any] = {"settings": settings, "billing_contact": billing_contact}
    if given.name is not None:
        values["name"] = given.name
    for column in (
        "short_name",
        "description",
        "icon",
        "sending_phone_number",
        "whatsapp_phone_number",
    ):
        if column in sent:
            values[column] = getattr(given, column)
    if given.allow_number_change_during_onboarding is not None:
        values["allow_number_change_during_onboarding"] = (
            given.allow_number_change_during_onboarding
        )
    if "brand" in sent:
        values["brand"] = _brand_record(given.brand, current["brand"], now) if given.brand else None
    if "payment_details" in sent:
        values["payment_card"] = _payment_card(given)
    await sending_numbers.claim_for(conn, profile_id, current, values)
    return await profiles.update(conn, profile_id, values)


async def delete(conn: Connection, principal: Principal, profile_id: uuid.UUID) -> list[bytes]:
    """Soft-delete the profile and revoke its keys; returns their digests (to notify)."""
    require_organization_key(principal)
    if await profiles.get_for_update(conn, principal.organization_id, profile_id) is None:
        raise _not_found(profile_id)
    await profiles.soft_delete(conn, profile_id)
    await sending_numbers.release_all(conn, profile_id)
    digests = await api_keys.revoke_all(conn, customer_id=profile_id)
    await api_keys.notify_revoked(conn, digests)
    return digests


# -- review -------------------------------------------------------------------------------


def unmet_prerequisites(row: Any) -> dict[str, list[str]]:
    """Everything a profile lacks before it can be reviewed, by field."""
    settings = {**DEFAULT_SETTINGS, **(row["settings"] or {})}
    unmet: dict[str, list[str]] = {}
    if not row["short_name"]:
        unmet["short_name"] = ["A sender name (short_name) is required to send SMS"]
    if row["brand"] is None and not settings["inherit_tcr_brand"]:
        unmet["brand"] = ["A brand is required, unless the profile inherits the organization's"]
    if settings["billing_model"] != "organization" and row["billing_contact"] is None:
        unmet["billing_contact"] = ["A billing contact is required for this billing model"]
    return unmet


async def complete(
    conn: Connection,
    principal: Principal,
    profile_id: uuid.UUID,
    webhook_url: str,
    *,
    review_due_at: datetime | None,
) -> tuple[int, dict[str, str]]:
    """Submit the profile for review. Returns the HTTP status and the response data."""
    require_organization_key(principal)
    row = await profiles.get_for_update(conn, principal.organization_id, profile_id)
    if row is None:
        raise _not_found(profile_id)
    if row["status"] == "approved":
        return 200, {"status": "completed", "message": "The profile is already approved"}
    if row["status"] == "pending_review":
        await profiles.set_review_webhook(conn, profile_id, webhook_url)
        return 202, {"status": "in_progress", "message": "The profile is being reviewed"}
    unmet = unmet_prerequisites(row)
    if unmet:
        raise ApiError("VALIDATION_004", unmet)
    await profiles.submit_for_review(conn, profile_id, webhook_url, review_due_at)
    return 202, {
        "status": "submitted",
        "message": "The profile was submitted for review; the webHookUrl is called with the result",
    }


def simulated_decision(row: Any) -> tuple[bool, str | None]:
    """The simulator's rule: a profile whose name or short name contains "reject" (any case) is
    rejected; every other profile is approved."""
    text = f"{row['name']} {row['short_name'] or ''}".lower()
    if "reject" in text:
        return False, "Simulated rejection: the profile's name asks for it"
    return True, None


def review_due_at(now: datetime, backend: str, delay_s: float) -> datetime | None:
    return now + timedelta(seconds=delay_s) if backend == "simulator" else None


async def record_review(
    db: Database, profile_id: uuid.UUID, *, approved: bool, reason: str | None, now: datetime
) -> Any:
    """A reviewer's decision (`sentd profiles review`); None unless the profile awaits review."""
    async with db.transaction() as conn:
        return await profiles.decide(conn, profile_id, approved=approved, reason=reason, now=now)


async def callback_secret(conn: Connection, principal: Principal) -> str:
    """The secret that signs the organization's profile-completion callbacks."""
    return await profiles.callback_secret(conn, principal.organization_id)


async def rotate_callback_secret(conn: Connection, principal: Principal) -> str:
    """A new callback secret, in force at once (callbacks are signed when sent)."""
    secret = new_secret()
    await profiles.set_callback_secret(conn, principal.organization_id, secret)
    return secret
