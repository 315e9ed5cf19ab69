"""Twilio (SMS and MMS) over its Messages REST API."""

from __future__ import annotations

from typing import Any

from sentd.providers.base import Provider


def from_settings(settings: Any) -> Provider | None:
    """The Twilio provider when it is configured (filled in by the Twilio subsystem)."""
    return None
