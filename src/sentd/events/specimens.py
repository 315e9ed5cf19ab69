"""Payloads: what each family's `payload` holds, built from sentd's records, and specimens for
`POST /v3/webhooks/{id}/test`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any


def contact_payload(contact: Any, account_id: uuid.UUID, source: str) -> dict[str, Any]:
    return {
        "opt_out": contact["opt_out"],
        "source": source,
        "contact_id": str(contact["id"]),
        "account_id": str(account_id),
        "channel": None,
        "from": contact["phone_e164"],
        "to": None,
        "message_id": None,
        "text": None,
        "template_id": None,
    }


def template_payload(template: Any) -> dict[str, Any]:
    """A template's status event. WhatsApp's id is required by the SDK's model: templates that
    never went to WhatsApp report their own id there."""
    return {
        "status": template["status"],
        "whatsapp_template_id": template["whatsapp_template_id"] or str(template["id"]),
        "template_id": str(template["id"]),
        "template_name": template["name"],
        "account_id": str(template["customer_id"]),
        "category": template["category"],
        "language": template["language"],
        "reason": template["rejection_reason"] if template["status"] == "REJECTED" else None,
    }


def specimen(event_type: str, account_id: uuid.UUID, now: datetime) -> tuple[str, dict[str, Any]]:
    """A realistic example event of `event_type` (its discriminator and payload)."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    example_id = "00000000-0000-4000-8000-000000000000"
    if event_type == "templates":
        return "APPROVED", {
            "status": "APPROVED",
            "whatsapp_template_id": "0",
            "template_id": example_id,
            "template_name": "example_template",
            "account_id": str(account_id),
            "category": "UTILITY",
            "language": "en_US",
            "reason": None,
        }
    if event_type.startswith("contact."):
        suffix = event_type.split(".", 1)[1]
        return suffix, {
            "opt_out": suffix == "opt_out",
            "source": "TEST",
            "contact_id": example_id,
            "account_id": str(account_id),
            "channel": "sms",
            "from": "+14155550100",
            "to": None,
            "message_id": None,
            "text": None,
            "template_id": None,
        }
    if event_type.startswith("call."):
        suffix = event_type.split(".", 1)[1]
        payload: dict[str, Any] = {
            "call_id": example_id,
            "account_id": str(account_id),
            "channel": "voice",
            "number": "+14155550100",
            "updated_at": stamp,
        }
        if suffix == "completed":
            payload |= {"duration_seconds": 42, "price": 0.014}
        elif suffix == "failed":
            payload["reason"] = "no_answer"
        elif suffix == "recording_ready":
            payload["recording_id"] = example_id
        return suffix, payload
    if event_type == "message.received":
        return "received", {
            "inbound_number": "+14155550100",
            "received_at": stamp,
            "outbound_number": None,
            "message_id": example_id,
            "account_id": str(account_id),
            "channel": "sms",
            "text": "Hello",
            "updated_at": stamp,
        }
    status = event_type.split(".", 1)[1].upper()
    return status.lower(), {
        "message_status": status,
        "message_id": example_id,
        "account_id": str(account_id),
        "channel": "sms",
        "outbound_number": "+14155550100",
        "body": "This is a test event from sentd.",
        "template_id": None,
        "updated_at": stamp,
    }
