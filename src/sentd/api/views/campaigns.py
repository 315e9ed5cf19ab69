"""BrandCampaign, as the SDK models it: camelCase throughout, every key present."""

from __future__ import annotations

from typing import Any


def brand_campaign(profile: Any, row: Any) -> dict[str, Any]:
    brand = profile["brand"]
    profile_id = str(row["customer_id"])
    campaign_id = str(row["id"])
    submitted = row["registry_state"] in ("in_review", "approved")
    return {
        "id": campaign_id,
        "brandId": brand["id"] if brand else None,
        "customerId": profile_id,
        "name": row["name"],
        "description": row["description"],
        "type": row["type"],
        "status": row["status"],
        "volume": row["volume"],
        "cost": None,  # sentd charges no registry fees
        "billedDate": None,
        "hasSubmissionTransaction": False,
        "submittedToTCR": submitted,
        "submittedAt": row["submitted_at"],
        "tcrCampaignId": row["tcr_campaign_id"],
        "tcrSyncError": row["tcr_sync_error"],
        "dcaElectionsComplete": row["dca_elections_completed_at"] is not None,
        "dcaElectionsCompletedAt": row["dca_elections_completed_at"],
        "helpKeywords": row["help_keywords"],
        "helpMessage": row["help_message"],
        "messageFlow": row["message_flow"],
        "optinKeywords": row["optin_keywords"],
        "optinMessage": row["optin_message"],
        "optoutKeywords": row["optout_keywords"],
        "optoutMessage": row["optout_message"],
        "privacyPolicyLink": row["privacy_policy_link"],
        "termsAndConditionsLink": row["terms_and_conditions_link"],
        "useCases": [
            {
                "id": use_case["id"],
                "campaignId": campaign_id,
                "customerId": profile_id,
                "messagingUseCaseUs": use_case["messagingUseCaseUs"],
                "sampleMessages": use_case["sampleMessages"],
                "createdAt": use_case["createdAt"],
                "updatedAt": use_case["updatedAt"],
            }
            for use_case in row["use_cases"]
        ],
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
    }
