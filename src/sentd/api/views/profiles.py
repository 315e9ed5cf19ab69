"""ProfileDetail, as the SDK models it. The `brand` reads snake_case (unlike the request), but
`destination_countries[].isMain` stays camelCase."""

from __future__ import annotations

from typing import Any

from sentd.services.profiles import DEFAULT_SETTINGS


def _brand(row: Any) -> dict[str, Any] | None:
    brand = row["brand"]
    if brand is None:
        return None
    approved = row["status"] == "approved"
    return {
        "id": brand["id"],
        "tcr_brand_id": None,
        "universal_ein": None,
        "csp_id": None,
        "status": "ACTIVE" if approved else "INACTIVE",
        "identity_status": "VERIFIED" if approved else "SELF_DECLARED",
        "is_inherited": False,
        "submitted_to_tcr": row["status"] in ("pending_review", "approved", "rejected"),
        "submitted_at": None,
        "created_at": brand["created_at"],
        "updated_at": brand["updated_at"],
        "contact": brand["contact"],
        "business": brand["business"],
        "compliance": {**brand["compliance"], "primary_use_case": None},
    }


def profile_detail(row: Any) -> dict[str, Any]:
    settings = {**DEFAULT_SETTINGS, **(row["settings"] or {})}
    billing_contact = row["billing_contact"]
    whatsapp = row["whatsapp_account"] or {}
    return {
        "id": str(row["id"]),
        "organization_id": str(row["organization_id"]),
        "name": row["name"],
        "short_name": row["short_name"],
        "description": row["description"],
        "icon": row["icon"],
        "email": billing_contact["email"] if billing_contact else None,
        "status": row["status"],
        "billing_model": settings["billing_model"],
        "billing_contact": (
            {
                "name": billing_contact["name"],
                "email": billing_contact["email"],
                "phone": billing_contact.get("phone"),
                "address": billing_contact.get("address"),
            }
            if billing_contact
            else None
        ),
        "brand": _brand(row),
        "waba_id": whatsapp.get("waba_id"),
        "sending_phone_number": row["sending_phone_number"],
        "whatsapp_phone_number": row["whatsapp_phone_number"],
        "sending_phone_number_profile_id": None,
        "sending_whatsapp_number_profile_id": None,
        "allow_number_change_during_onboarding": row["allow_number_change_during_onboarding"],
        "inherit_tcr_brand": settings["inherit_tcr_brand"],
        "inherit_tcr_campaign": settings["inherit_tcr_campaign"],
        "allow_contact_sharing": settings["allow_contact_sharing"],
        "allow_template_sharing": settings["allow_template_sharing"],
        "inherit_contacts": settings["inherit_contacts"],
        "inherit_templates": settings["inherit_templates"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
