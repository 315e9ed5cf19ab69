"""What sending a message takes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

# A message's status, as the API shows it and filters by it.
MessageStatus = Literal[
    "SCHEDULED",
    "QUEUED",
    "ACCEPTED",
    "SENT",
    "DELIVERED",
    "READ",
    "FAILED",
    "CANCELLED",
    "RECEIVED",
]
MESSAGE_STATUSES: tuple[str, ...] = get_args(MessageStatus)


@dataclass(frozen=True, slots=True)
class TemplateRef:
    """The template of a send, by id or by name, and its parameters."""

    id: uuid.UUID | None = None
    name: str | None = None
    parameters: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class SendRequest:
    """What to send: recipients (E.164, already checked), channels ("sent" = choose per
    recipient) and a template or a text."""

    to: list[str]
    channel: list[str] | None = None
    template: TemplateRef | None = None
    text: str | None = None
    media_urls: list[str] | None = None
    subject: str | None = None
    scheduled_at: datetime | None = None
