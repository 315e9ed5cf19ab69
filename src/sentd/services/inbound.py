"""Inbound messages: stored as `INBOUND`/`RECEIVED`, linked to the contact (created when new), and
announced as `message.received`. Keywords change consent: STOP-like words opt the contact out,
START-like words opt it back in, HELP emits `contact.help`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sentd.config import Settings
from sentd.db.repos import contacts as contacts_repo
from sentd.db.repos import customers, messages
from sentd.db.repos.messages import Message
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.events.emit import emit
from sentd.events.specimens import contact_payload
from sentd.ids import new_id
from sentd.services import sending_numbers
from sentd.services.contacts import find_or_create


@dataclass(frozen=True, slots=True)
class Keywords:
    """The inbound words that change a contact's consent, upper-cased (matched case-insensitively
    against the whole trimmed message). The defaults are those of `Settings`; a process passes
    its configured ones (`from_settings`) to `receive`."""

    opt_out: frozenset[str] = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
    opt_in: frozenset[str] = frozenset({"START", "UNSTOP", "YES"})
    help: frozenset[str] = frozenset({"HELP", "INFO"})

    @classmethod
    def of(cls, opt_out: list[str], opt_in: list[str], help_words: list[str]) -> Keywords:
        return cls(
            frozenset(w.upper() for w in opt_out),
            frozenset(w.upper() for w in opt_in),
            frozenset(w.upper() for w in help_words),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Keywords:
        """`SENTD_OPT_OUT_KEYWORDS`, `SENTD_OPT_IN_KEYWORDS`, `SENTD_HELP_KEYWORDS`."""
        return cls.of(settings.opt_out_keywords, settings.opt_in_keywords, settings.help_keywords)


DEFAULT_KEYWORDS = Keywords()


async def owner_of_number(conn: Connection, number: str) -> Any:
    """The customer a number belongs to: the one that claimed it as its SMS or WhatsApp number
    (one at most: `services.sending_numbers`); when no customer claims it and there is exactly one
    organization, that one (a single-tenant server)."""
    row = await sending_numbers.owner_of(conn, number)
    if row is not None:
        return row
    return await customers.sole_organization(conn)


async def receive(
    conn: Connection,
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
    keywords: Keywords = DEFAULT_KEYWORDS,
) -> Message | None:
    """Store one inbound message; None when this provider id was already received. `keywords`
    are the words that change the contact's consent."""
    if await messages.get_by_provider_id(conn, provider, provider_message_id) is not None:
        return None
    scope = Scope(customer_id, livemode)
    contact = await find_or_create(conn, scope, from_number)
    message_id = new_id()
    await messages.insert_many(
        conn,
        [
            {
                "id": message_id,
                "customer_id": customer_id,
                "livemode": livemode,
                "contact_id": contact["id"],
                "direction": "INBOUND",
                "channel": channel,
                "status": "RECEIVED",
                "phone_e164": contact["phone_e164"],
                "phone_international": contact["format_international"],
                "region_code": contact["region_code"],
                "body": {"content": text},
                "provider": provider,
                "provider_message_id": provider_message_id,
                "from_number": to_number,
                "created_at": received_at,
                "updated_at": received_at,
            }
        ],
    )
    await messages.add_events(
        conn, [(message_id, "RECEIVED", "Received from the contact", None, None, received_at)]
    )
    stamp = received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    payload: dict[str, Any] = {
        "inbound_number": contact["phone_e164"],
        "received_at": stamp,
        "outbound_number": to_number,
        "message_id": str(message_id),
        "account_id": str(customer_id),
        "channel": channel,
        "text": text,
        "updated_at": stamp,
    }
    if media:
        payload["media"] = media
    common: dict[str, Any] = {
        "customer_id": customer_id,
        "organization_id": organization_id,
        "livemode": livemode,
        "now": received_at,
    }
    await emit(
        conn, event_type="message.received", discriminator="received", payload=payload, **common
    )
    word = (text or "").strip().upper()
    await _keyword(conn, keywords, contact, word, channel, message_id, common)
    return await messages.get(conn, message_id)


async def _keyword(
    conn: Connection,
    keywords: Keywords,
    contact: Any,
    word: str,
    channel: str,
    message_id: uuid.UUID,
    common: dict[str, Any],
) -> None:
    if word in keywords.opt_out and not contact["opt_out"]:
        event, opt_out = "contact.opt_out", True
    elif word in keywords.opt_in and contact["opt_out"]:
        event, opt_out = "contact.opt_in", False
    elif word in keywords.help:
        event, opt_out = "contact.help", contact["opt_out"]
    else:
        return
    if event != "contact.help":
        contact = await contacts_repo.update(
            conn,
            contact["id"],
            default_channel=None,
            set_default_channel=False,
            opt_out=opt_out,
            now=common["now"],
        )
    payload = contact_payload(contact, common["customer_id"], source="INBOUND_KEYWORD")
    payload |= {"channel": channel, "message_id": str(message_id), "text": word}
    await emit(
        conn, event_type=event, discriminator=event.split(".", 1)[1], payload=payload, **common
    )
