"""The changes Meta's WhatsApp webhook delivers, and the handler of template verdicts.

The route (`sentd.api.routes.whatsapp_webhook`) checks the signature, splits a delivery into
`Change`s and hands each to the handler of its `field`, from the table the app is given when it
is built (`sentd.wiring.whatsapp_handlers`): `messages` (`whatsapp_messages.messages_handler`)
and `message_template_status_update` (`template_status_handler` below)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

log = logging.getLogger("sentd.providers.whatsapp")


@dataclass(frozen=True, slots=True)
class Change:
    """One `entry[].changes[]` item of a delivery."""

    waba_id: str | None  # entry.id: the WhatsApp Business Account it concerns
    field: str
    value: dict[str, Any]
    received_at: datetime


Handler = Callable[[Any, Change], Awaitable[None]]  # (connection in a transaction, change)


class ApplyTemplateStatus(Protocol):
    """Apply WhatsApp's verdict on a template (`services.templates.apply_whatsapp_status`)."""

    async def __call__(
        self,
        conn: Any,
        *,
        whatsapp_template_id: str,
        event: str,
        reason: str | None,
        now: datetime,
        whatsapp_name: str | None = None,
    ) -> Any: ...


def _rejection_reason(value: dict[str, Any]) -> str | None:
    parts: list[str] = []
    reason = value.get("reason")
    if reason and str(reason).upper() != "NONE":
        parts.append(str(reason))
    other = value.get("other_info")
    if isinstance(other, dict):
        parts += [str(other[k]) for k in ("title", "description") if other.get(k)]
    return ": ".join(parts) or None


def template_status_handler(apply_status: ApplyTemplateStatus) -> Handler:
    """The handler of `message_template_status_update` changes (template verdicts)."""

    async def handle(conn: Any, change: Change) -> None:
        value = change.value
        template_id, event = value.get("message_template_id"), value.get("event")
        if template_id is None or not event:
            log.warning("WhatsApp template status update without id or event: %r", value)
            return
        await apply_status(
            conn,
            whatsapp_template_id=str(template_id),
            event=str(event),
            reason=_rejection_reason(value),
            now=change.received_at,
            whatsapp_name=str(value.get("message_template_name") or "") or None,
        )

    return handle
