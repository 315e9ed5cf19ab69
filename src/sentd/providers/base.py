"""The interface every messaging provider implements, and what it is handed.

A provider submits one message and returns the provider's id for it, or raises `ProviderError`:
`transient=True` for what may pass (time-out, connection error, 5xx, 429 — retried with backoff),
`transient=False` for a refusal (invalid number, unsubscribed — the message fails at once).
Delivery receipts and inbound messages come back through the API (`/providers/...`) and go to
`services.lifecycle.record_provider_status` and `services.inbound.receive`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Protocol

from sentd.outbound import Answer, OutboundClient, OutboundError


@dataclass(frozen=True, slots=True)
class TemplateRef:
    id: uuid.UUID
    name: str
    language: str
    whatsapp_name: str | None  # the name WhatsApp knows it by, once submitted there
    parameters: list[str]  # values in placeholder order


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    id: uuid.UUID
    channel: str  # "sms", "whatsapp", "mms", "rcs"
    to: str  # E.164
    text: str  # the rendered body
    template: TemplateRef | None
    media_urls: list[str] = field(default_factory=list)
    subject: str | None = None
    from_number: str | None = None
    livemode: bool = True
    customer_id: uuid.UUID | None = None
    attempt: int = 1  # 1 for the first submission
    account: dict[str, Any] | None = None  # the customer's own provider account, if any


@dataclass(frozen=True, slots=True)
class Submission:
    provider_message_id: str


class ProviderError(Exception):
    def __init__(self, message: str, *, transient: bool, reason_code: str) -> None:
        super().__init__(message)
        self.transient = transient
        self.reason_code = reason_code


TRANSIENT = "INTERNAL_003"
PROVIDER_BODY_LIMIT = 1 << 20  # bytes of a provider's answer read


async def call(
    provider: str, client: OutboundClient, method: str, url: str, **options: Any
) -> Answer:
    """One HTTP call to a provider (through `sentd.outbound`): a time-out or an unreachable
    provider is a transient error. (A time-out after the request was written is ambiguous: the
    provider may have taken it.)"""
    options.setdefault("body_limit", PROVIDER_BODY_LIMIT)  # whole answers: they are parsed
    try:
        return await client.request(method, url, **options)
    except OutboundError as exc:
        what = "did not answer in time" if exc.timed_out else "could not be reached"
        raise ProviderError(
            f"{provider} {what}: {exc}", transient=True, reason_code=TRANSIENT
        ) from exc


class Provider(Protocol):
    name: str
    channels: frozenset[str]

    async def submit(self, message: OutboundMessage) -> Submission: ...
