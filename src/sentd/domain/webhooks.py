"""What creating or replacing a webhook takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WebhookInput:
    """A webhook as a whole (create, and update: a full replacement). `endpoint_url` is already
    normalised; event types are canonical subscription names."""

    display_name: str
    endpoint_url: str
    event_types: tuple[str, ...]
    event_filters: dict[str, list[str]] | None = None
    retry_count: int = 3
    timeout_seconds: int = 30
    sender_profile: dict[str, Any] | None = None  # {"event_types": […], "event_filters": …}
