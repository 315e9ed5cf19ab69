"""VoiceNumber, Call, CallParticipant and CallRecording, as the SDK reads them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sentd.money import micros_to_units
from sentd.services.calls import far_party
from sentd.voice.recordings import recording_signature


def voice_number(row: Any, *, reveal_secret: bool = False) -> dict[str, Any]:
    data = {
        "number": row["number"],
        "status": row["status"],
        "default_for_app_calls": row["default_for_app_calls"],
        "callback_url": row["callback_url"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }
    if reveal_secret:
        data["callback_secret"] = row["callback_secret"]
    return data


def call(row: Any, *, timeline: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(row["id"]),
        "direction": row["direction"],
        "mode": "inapp",
        "status": row["status"],
        "from": {"kind": row["from_kind"], "value": row["from_value"]},
        "to": {"kind": row["to_kind"], "value": row["to_value"]},
        "number": row["number"],
        "started_at": row["started_at"],
        "answered_at": row["answered_at"],
        "ended_at": row["ended_at"],
        "duration_seconds": row["duration_seconds"],
        "price": None if row["price_micros"] is None else micros_to_units(row["price_micros"]),
        "failure_reason": row["failure_reason"],
        "recording_available": row["recording_available"],
    }
    if timeline:
        data["timeline"] = list(row["timeline"])
    return data


def participant(row: Any, now: datetime) -> dict[str, Any]:
    kind, value = far_party(row)
    connected = (now - row["answered_at"]).total_seconds() if row["answered_at"] else 0
    return {
        "id": str(row["id"]),
        "kind": kind,
        "value": value,
        "muted": row["muted"],
        "duration_seconds": max(0, int(connected)),
    }


def recording(row: Any, base_url: str, now: datetime, ttl_s: int) -> dict[str, Any]:
    expires = int(now.timestamp()) + ttl_s
    signature = recording_signature(row["url_key"], row["id"], expires)
    return {
        "recording_id": str(row["id"]),
        "download_url": f"{base_url.rstrip('/')}/v3/voice/recordings/{row['id']}/download"
        f"?expires={expires}&signature={signature}",
        "url_expires_at": datetime.fromtimestamp(expires, UTC),
    }
