"""WebhookResponse and the delivery-log records."""

from __future__ import annotations

from typing import Any

from sentd.db.repos.webhooks import Webhook
from sentd.events.catalog import FAMILIES


def mask(secret: str) -> str:
    return f"whsec_…{secret[-4:]}"


def webhook(row: Webhook, *, reveal_secret: bool = False) -> dict[str, Any]:
    secret = row.signing_secret
    return {
        "id": str(row.id),
        "customer_id": str(row.customer_id),
        "display_name": row.display_name,
        "endpoint_url": row.endpoint_url,
        "event_types": list(row.event_types),
        "event_filters": row.event_filters,
        "is_active": row.is_active,
        "signing_secret": secret if reveal_secret else mask(secret),
        "retry_count": row.retry_count,
        "timeout_seconds": row.timeout_seconds,
        "consecutive_failures": row.consecutive_failures,
        "last_delivery_attempt_at": row.last_delivery_attempt_at,
        "last_successful_delivery_at": row.last_successful_delivery_at,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def delivery(row: Any) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "event_type": row["event_type"],
        "event_data": row["envelope"],
        "delivery_status": row["state"],
        "http_status_code": row["http_status_code"],
        "response_body": row["response_body"],
        "delivery_attempts": row["attempts"],
        "error_message": row["error_message"],
        "created_at": row["created_at"],
        "processing_started_at": row["processing_started_at"],
        "processing_completed_at": row["processing_completed_at"],
    }


def event_types() -> list[dict[str, Any]]:
    return [
        {
            "name": family.field,
            "display_name": family.display_name,
            "description": family.description,
            "event_type": family.field,
            "is_active": True,
            "sub_types": [
                {
                    "name": event.name,
                    "display_name": event.name,
                    "description": event.description,
                    "event_type": event.name,
                    "is_active": True,
                    "sub_types": [],
                }
                for event in family.events
                if event.name != family.field
            ],
        }
        for family in FAMILIES
    ]
