"""WhatsApp Cloud API: template and text messages, and the webhook handlers for their statuses
and for inbound messages."""

from __future__ import annotations

from typing import Any

from sentd.providers.base import Provider


def from_settings(settings: Any) -> Provider | None:
    """The WhatsApp provider when it is configured (filled in by the WhatsApp subsystem)."""
    return None
