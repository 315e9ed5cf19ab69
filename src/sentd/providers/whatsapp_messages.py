"""WhatsApp Cloud API: template and text messages, and the webhook handlers for their statuses
and for inbound messages.

Sending: `POST {SENTD_WHATSAPP_API_BASE}/{phone_number_id}/messages` with
`Authorization: Bearer <access token>`. The phone number id and token are the customer's own
WhatsApp account (`message.account`: `phone_number_id` and `access_token`) when it has both, else
`SENTD_WHATSAPP_PHONE_NUMBER_ID` and `SENTD_WHATSAPP_ACCESS_TOKEN`. A message with a template is
sent as a `template` message (by the name WhatsApp knows it by, its body parameters in placeholder
order); any other as a `text` message with the rendered body.

What WhatsApp answers becomes:

* 200 with `messages[0].id` → the message's wamid (its provider message id);
* 401/403, or Graph error code 190 → permanent, reason code `WHATSAPP_AUTH`;
* 429, a throttling code (4, 80007, 130429, 131056), 5xx, a time-out or a connection error →
  transient `INTERNAL_003` (the dispatcher retries with backoff);
* any other refusal (4xx: 131026 undeliverable, 131047 outside the 24-hour window, 132000 wrong
  parameter count, 132001 unknown template, 100 invalid parameter, …) → permanent,
  `WHATSAPP_<code>` (`WHATSAPP_HTTP_<status>` when the answer carries no code).

Receiving: Meta's webhook (`sentd.api.routes.whatsapp_webhook`) hands every change whose `field`
is `messages` to the handler `messages_handler(actions)` returns; the app passes the domain
actions in when it is built (`sentd.wiring`):

* `value.statuses[]` — `sent`, `delivered`, `read`, `failed` (with `errors[0]`: reason code
  `WHATSAPP_<code>`, reason its title) → `actions.record_status`
  (`services.lifecycle.record_provider_status`, whose state machine ignores repeated and
  out-of-order statuses);
* `value.messages[]` — texts, template buttons and interactive replies (their text), media
  (their caption only) → `actions.receive` (`services.inbound.receive`), for the customer whose
  WhatsApp number is `value.metadata.display_phone_number` (`actions.owner_of_number`), from
  `+<wa_id>`. Other kinds are acknowledged and dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentd.config import Settings
from sentd.outbound import OutboundClient
from sentd.phones import InvalidPhoneNumber, normalize_e164
from sentd.providers.base import (
    TRANSIENT,
    OutboundMessage,
    ProviderError,
    Submission,
    call,
)
from sentd.providers.inbound import InboundActions
from sentd.providers.whatsapp_templates import WhatsAppConfig
from sentd.providers.whatsapp_webhook import Change, Handler

log = logging.getLogger("sentd.providers.whatsapp")

NAME = "whatsapp"
TIMEOUT_S = 15.0
TRANSIENT_REASON = TRANSIENT
AUTH_REASON = "WHATSAPP_AUTH"
AUTH_CODES = frozenset({190})  # the access token is invalid or expired
THROTTLE_CODES = frozenset({4, 80007, 130429, 131056})  # rate limits: worth trying later


# -- configuration --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sender:
    """The WhatsApp phone number a message goes out from, and the token that may use it."""

    phone_number_id: str
    access_token: str


@dataclass(frozen=True, slots=True)
class MessagesConfig:
    """The template client's `WhatsAppConfig` (API base, token) plus the sending number."""

    whatsapp: WhatsAppConfig
    phone_number_id: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> MessagesConfig:
        return cls(
            WhatsAppConfig.from_settings(settings), settings.whatsapp_phone_number_id or None
        )

    def sender_for(self, account: Mapping[str, Any] | None) -> Sender | None:
        """The customer's own number and token when it has both, else those of the settings."""
        account = account or {}
        phone_number_id, token = account.get("phone_number_id"), account.get("access_token")
        if phone_number_id and token:
            return Sender(str(phone_number_id), str(token))
        if self.phone_number_id and self.whatsapp.access_token:
            return Sender(self.phone_number_id, self.whatsapp.access_token)
        return None


# -- the provider ---------------------------------------------------------------------------


def payload_for(message: OutboundMessage) -> dict[str, Any]:
    """The Cloud API's body for `message`: a template message, or a free-form text."""
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": re.sub(r"\D", "", message.to),
    }
    template = message.template
    if template is None:
        body |= {"type": "text", "text": {"body": message.text}}
        return body
    if not template.whatsapp_name:
        raise ProviderError(
            f"Template {template.name!r} was never submitted to WhatsApp, which cannot know it",
            transient=False,
            reason_code="WHATSAPP_132001",
        )
    content: dict[str, Any] = {
        "name": template.whatsapp_name,
        "language": {"code": template.language},
    }
    if template.parameters:
        parameters = [{"type": "text", "text": value} for value in template.parameters]
        content["components"] = [{"type": "body", "parameters": parameters}]
    body |= {"type": "template", "template": content}
    return body


class WhatsAppProvider:
    name = NAME
    channels = frozenset({"whatsapp"})

    def __init__(self, config: MessagesConfig, *, timeout: float = TIMEOUT_S) -> None:
        self.config = config
        self._timeout = timeout
        # The operator's configured API base: trusted, not under the customer-URL policy.
        self._http = OutboundClient(checked=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, message: OutboundMessage) -> Submission:
        sender = self.config.sender_for(message.account)
        if sender is None:
            raise ProviderError(
                "No WhatsApp phone number id and access token: set SENTD_WHATSAPP_PHONE_NUMBER_ID"
                " and SENTD_WHATSAPP_ACCESS_TOKEN, or give the profile its own WhatsApp account",
                transient=False,
                reason_code=AUTH_REASON,
            )
        body = payload_for(message)
        url = f"{self.config.whatsapp.api_base}/{sender.phone_number_id}/messages"
        headers = {"Authorization": f"Bearer {sender.access_token}"}
        answer = await call(
            "WhatsApp", self._http, "POST", url, json=body, headers=headers, timeout_s=self._timeout
        )
        if answer.ok:
            wamid = _wamid(answer.json())
            if wamid is None:
                raise ProviderError(
                    f"WhatsApp answered {answer.status} without a message id",
                    transient=True,
                    reason_code=TRANSIENT_REASON,
                )
            return Submission(wamid)
        raise refusal(answer.status, answer.json(), answer.text())


def _wamid(answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return None
    messages = answer.get("messages")
    if not isinstance(messages, list) or not messages or not isinstance(messages[0], dict):
        return None
    wamid = messages[0].get("id")
    return str(wamid) if wamid else None


def _graph_error(answer: Any) -> dict[str, Any]:
    error = answer.get("error") if isinstance(answer, dict) else None
    return error if isinstance(error, dict) else {}


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _describe(error: Mapping[str, Any], text: str) -> str:
    parts = [str(error[k]) for k in ("error_user_msg", "message", "title") if error.get(k)]
    data = error.get("error_data")
    if isinstance(data, dict) and data.get("details"):
        parts.append(str(data["details"]))
    return ": ".join(dict.fromkeys(parts)) or text[:500] or "no reason given"


def refusal(status: int, answer: Any, text: str = "") -> ProviderError:
    """The `ProviderError` for a non-2xx answer of the Graph API."""
    error = _graph_error(answer)
    code = _code(error.get("code"))
    reason = _describe(error, text)
    label = f"{status}" + (f", code {code}" if code is not None else "")
    if status in (401, 403) or code in AUTH_CODES:
        return ProviderError(
            f"WhatsApp refused the credentials ({label}): {reason}",
            transient=False,
            reason_code=AUTH_REASON,
        )
    if status == 429 or status >= 500 or code in THROTTLE_CODES:
        return ProviderError(
            f"WhatsApp is unavailable or throttling ({label}): {reason}",
            transient=True,
            reason_code=TRANSIENT_REASON,
        )
    reason_code = f"WHATSAPP_{code}" if code is not None else f"WHATSAPP_HTTP_{status}"
    return ProviderError(
        f"WhatsApp refused the message ({label}): {reason}",
        transient=False,
        reason_code=reason_code,
    )


def from_settings(settings: Settings) -> WhatsAppProvider | None:
    """The WhatsApp provider when it is chosen (`SENTD_WHATSAPP_PROVIDER=whatsapp`) or its
    sending number and token are configured; None otherwise."""
    config = MessagesConfig.from_settings(settings)
    chosen = settings.whatsapp_provider == NAME
    configured = bool(config.phone_number_id and config.whatsapp.access_token)
    return WhatsAppProvider(config) if chosen or configured else None


# -- Meta's webhook: field "messages" -------------------------------------------------------

STATUSES = {"sent": "SENT", "delivered": "DELIVERED", "read": "READ", "failed": "FAILED"}


def messages_handler(actions: InboundActions) -> Handler:
    """The handler of `messages` changes, recording what they carry with `actions`."""

    async def handle(conn: Any, change: Change) -> None:
        """One `messages` change: delivery statuses of sent messages, and inbound messages."""
        value = change.value
        for status in _items(value.get("statuses")):
            await _status(actions, conn, status, change)
        messages = _items(value.get("messages"))
        if messages:
            await _inbound(actions, conn, value, messages, change)

    return handle


def _items(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


async def _status(actions: InboundActions, conn: Any, item: dict[str, Any], change: Change) -> None:
    wamid, kind = item.get("id"), str(item.get("status") or "").lower()
    status = STATUSES.get(kind)
    if not wamid or status is None:
        log.info("WhatsApp status %r of %r ignored", kind, wamid)
        return
    reason_code = reason = None
    if status == "FAILED":
        errors = _items(item.get("errors"))
        error = errors[0] if errors else {}
        code = _code(error.get("code"))
        reason_code = f"WHATSAPP_{code}" if code is not None else "WHATSAPP_UNKNOWN"
        reason = str(error.get("title") or error.get("message") or "WhatsApp reported a failure")
    await actions.record_status(
        conn,
        provider=NAME,
        provider_message_id=str(wamid),
        status=status,
        now=change.received_at,
        reason_code=reason_code,
        reason=reason,
    )


_MEDIA = frozenset({"image", "video", "audio", "document", "sticker"})


def inbound_text(item: dict[str, Any]) -> tuple[bool, str | None]:
    """Whether sentd stores this inbound message, and its text: a text's body, a template
    button's text, an interactive reply's title, a media message's caption (the media itself is
    not fetched). Reactions, locations, shared contacts, system notices and unsupported messages
    are not stored."""
    kind = str(item.get("type") or "")
    part = item.get(kind)
    part = part if isinstance(part, dict) else {}
    if kind == "text":
        return True, str(part.get("body") or "")
    if kind == "button":  # a quick-reply button of a template
        return True, str(part.get("text") or part.get("payload") or "")
    if kind == "interactive":  # a reply button or a list row
        reply = part.get(str(part.get("type") or ""))
        return True, str(reply.get("title") or "") if isinstance(reply, dict) else None
    if kind in _MEDIA:
        return True, str(part["caption"]) if part.get("caption") else None
    return False, None


def _sender(item: dict[str, Any], contacts: list[dict[str, Any]]) -> str | None:
    """`+<wa_id>` of who sent `item`: its `from`, else the change's only contact."""
    wa_id = item.get("from") or (contacts[0].get("wa_id") if len(contacts) == 1 else None)
    digits = re.sub(r"\D", "", str(wa_id or ""))
    if not digits:
        return None
    try:
        return normalize_e164("+" + digits)
    except InvalidPhoneNumber:
        return None


async def _inbound(
    actions: InboundActions,
    conn: Any,
    value: dict[str, Any],
    messages: list[dict[str, Any]],
    change: Change,
) -> None:
    metadata = value.get("metadata")
    display = metadata.get("display_phone_number") if isinstance(metadata, dict) else None
    digits = re.sub(r"\D", "", str(display or ""))
    to_number = "+" + digits if digits else None
    owner = await actions.owner_of_number(conn, to_number) if to_number else None
    if owner is None:
        log.warning("WhatsApp inbound to %r: no customer has that number; ignored", display)
        return
    contacts = _items(value.get("contacts"))
    for item in messages:
        wamid = item.get("id")
        stored, text = inbound_text(item)
        if not wamid or not stored:
            log.info("WhatsApp inbound %r of type %r ignored", wamid, item.get("type"))
            continue
        from_number = _sender(item, contacts)
        if from_number is None:
            log.warning("WhatsApp inbound %s: sender %r is not a valid number", wamid, item)
            continue
        await actions.receive(
            conn,
            customer_id=owner["id"],
            organization_id=owner["organization_id"],
            livemode=True,
            channel="whatsapp",
            from_number=from_number,
            to_number=to_number,
            text=text,
            provider=NAME,
            provider_message_id=str(wamid),
            received_at=change.received_at,
        )
