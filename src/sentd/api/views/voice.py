"""VoiceNumber, Call, CallParticipant and CallRecording, as the SDK reads them."""

from __future__ import annotations

from typing import Any


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
