"""Message, activities: as the official SDKs model them."""

from __future__ import annotations

from typing import Any

from sentd.money import micros_to_units
from sentd.services.lifecycle import Message

HELD = frozenset({"SCHEDULED", "CANCELLED"})


def _event(event: Any) -> dict[str, Any]:
    return {
        "status": event["status"],
        "timestamp": event["occurred_at"],
        "description": event["description"],
        "reason_code": event["reason_code"],
        "reason": event["reason"],
    }


def message(row: Message, events: list[Any]) -> dict[str, Any]:
    body = row.body or {}
    data: dict[str, Any] = {
        "id": str(row.id),
        "customer_id": str(row.customer_id),
        "contact_id": str(row.contact_id),
        "channel": row.channel,
        "direction": row.direction,
        "status": row.status,
        "phone": row.phone_e164,
        "phone_international": row.phone_international,
        "region_code": row.region_code,
        "price": micros_to_units(row.price_micros),
        "active_contact_price": 0.0,
        "template_id": str(row.template_id) if row.template_id else None,
        "template_name": row.template_name,
        "template_category": row.template_category,
        "created_at": row.created_at,
        "events": [_event(e) for e in events],
        "message_body": {
            "content": body.get("content"),
            "header": body.get("header"),
            "footer": body.get("footer"),
            "subject": body.get("subject"),
            "buttons": body.get("buttons") or [],
            "headerMedia": body.get("headerMedia"),
            "media": body.get("media") or [],
        },
    }
    if row.status == "FAILED":
        data["reason_code"] = row.reason_code
        data["reason"] = row.reason
    if row.scheduled_at is not None:
        data["scheduled_at"] = row.scheduled_at
    return data


def activities(row: Message, events: list[Any]) -> list[dict[str, Any]]:
    price = f"{micros_to_units(row.price_micros):.4f}"
    out = []
    for event in reversed(events):  # newest first
        item: dict[str, Any] = {
            "status": event["status"],
            "timestamp": event["occurred_at"],
            "description": event["description"],
            "from": row.from_number,
            "price": None if event["status"] in ("QUEUED", "SCHEDULED") else price,
            "active_contact_price": "0.0000",
            "reason_code": event["reason_code"],
            "reason": event["reason"],
        }
        if event["status"] in HELD and row.scheduled_at is not None:
            item["scheduled_at"] = row.scheduled_at
        out.append(item)
    return out
