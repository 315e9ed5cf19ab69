"""What providers hand to the domain: delivery statuses of sent messages and inbound messages.

Providers parse their callbacks but import nothing above them: the domain actions that record
what a callback carries (`services.lifecycle.record_provider_status`, `services.inbound`) are
passed in as `InboundActions` when the app is built (`sentd.wiring`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class RecordStatus(Protocol):
    """Record a provider's delivery status of a sent message (late and repeated ones ignored)."""

    async def __call__(
        self,
        conn: Any,
        *,
        provider: str,
        provider_message_id: str,
        status: str,
        now: datetime,
        reason_code: str | None = None,
        reason: str | None = None,
    ) -> Any: ...


class OwnerOfNumber(Protocol):
    """The customer (`id`, `organization_id`) a receiving number belongs to, or None."""

    async def __call__(self, conn: Any, number: str) -> Any: ...


class Receive(Protocol):
    """Store one inbound message (None when this provider id was already received)."""

    async def __call__(
        self,
        conn: Any,
        *,
        customer_id: uuid.UUID,
        organization_id: uuid.UUID,
        livemode: bool,
        channel: str,
        from_number: str,
        to_number: str | None,
        text: str | None,
        provider: str,
        provider_message_id: str,
        received_at: datetime,
        media: list[dict[str, Any]] | None = None,
    ) -> Any: ...


@dataclass(frozen=True, slots=True)
class InboundActions:
    record_status: RecordStatus
    owner_of_number: OwnerOfNumber
    receive: Receive
