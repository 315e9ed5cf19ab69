"""The domain actions on messages: `send`, `modify`, `cancel`. Routes, the CLI and workers call
them alike, each in one transaction they are given.

Sending validates, gates, prices and accepts a `SendRequest`. Everything that can refuse it is
checked for the whole request before anything is written, and a refusal names each offending
recipient. Accepting writes, in the caller's transaction: contacts for new numbers, one message
per recipient × channel (QUEUED, or SCHEDULED), each message's first status event and
`message.queued|scheduled` event, and — the transaction's final statement, sent with its COMMIT
by the database layer (`sentd.db.final_statement`) — today's count and the debit.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sentd.auth.principal import Principal
from sentd.channels import available_channels
from sentd.db.final_statement import Unit
from sentd.db.repos import balances, contacts, messages, sends
from sentd.db.repos.messages import Message
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.domain.messages import SendRequest, TemplateRef
from sentd.errors.exceptions import ApiError
from sentd.events.emit import prepare
from sentd.ids import new_id
from sentd.phones import describe
from sentd.pricing import price_micros
from sentd.providers.registry import Providers
from sentd.services import lifecycle, templates
from sentd.services.billing import funding_scopes

__all__ = ["Environment", "SendRequest", "TemplateRef", "cancel", "modify", "send"]

MIN_SCHEDULE = timedelta(minutes=1)
MAX_SCHEDULE = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Environment:
    """What a send reads from its process: the clock's now, the providers, the price list."""

    now: datetime
    providers: Providers
    prices: dict[str, Any] = field(default_factory=dict)


# Called with the number of messages a send would create, after it is planned and before
# anything is written: a gate of the caller's (the API's messages-per-minute window) that
# raises to refuse.
Admit = Callable[[int], Awaitable[None]]


@dataclass
class Planned:
    index: int  # position in `to`, for error details
    to: str
    channel: str
    why: str  # why this channel (recorded on the first event)
    content: dict[str, Any]  # MessageBody
    price_micros: int
    contact: Any  # existing contact row, or None (created when accepted)
    region_code: str | None
    international: str


def _content(rendered: Any) -> dict[str, Any]:
    """A rendered template as the message's body (MessageBody)."""
    return {
        "content": rendered.content,
        "header": rendered.header,
        "footer": rendered.footer,
        "subject": rendered.subject,
        "buttons": [
            {"type": b.type, "text": b.text, "value": b.value, "postbackData": None}
            for b in rendered.buttons
        ],
        "headerMedia": rendered.header_media,
        "media": rendered.media,
    }


def _text_content(text: str, subject: str | None, media_urls: list[str] | None) -> dict[str, Any]:
    return {
        "content": text,
        "header": None,
        "footer": None,
        "subject": subject,
        "buttons": [],
        "headerMedia": None,
        "media": [{"url": u} for u in media_urls or []],
    }


def _field(index: int) -> str:
    return f"to[{index}]"


def _check_schedule(scheduled_at: datetime, now: datetime) -> None:
    if scheduled_at.tzinfo is None:
        raise ApiError(
            "VALIDATION_005", {"scheduled_at": ["Give an offset, e.g. 2026-12-01T09:00:00Z"]}
        )
    if not MIN_SCHEDULE <= scheduled_at - now <= MAX_SCHEDULE:
        raise ApiError(
            "VALIDATION_005", {"scheduled_at": ["Between 1 minute and 30 days from now"]}
        )


def _check_shape(body: SendRequest, now: datetime) -> None:
    if not body.to:
        raise ApiError("VALIDATION_004", {"to": ["At least one recipient is required"]})
    if (body.template is None) == (body.text is None):
        raise ApiError(
            "VALIDATION_001", {"template": ["Give either a template or text, not both or neither"]}
        )
    if body.template is not None and (body.template.id is None) == (body.template.name is None):
        raise ApiError("VALIDATION_001", {"template": ["Give the template's id or its name"]})
    if body.scheduled_at is not None:
        _check_schedule(body.scheduled_at, now)
    if "mms" in (body.channel or []) and not body.media_urls:
        raise ApiError("VALIDATION_001", {"media_urls": ["An MMS needs at least one media URL"]})


def _unique(numbers: list[str]) -> list[tuple[int, str]]:
    seen: set[str] = set()
    out = []
    for index, number in enumerate(numbers):
        if number not in seen:
            seen.add(number)
            out.append((index, number))
    return out


def _contact_channels(contact: Any, info: Any, livemode: bool) -> list[str]:
    if contact is not None:
        return str(contact["available_channels"]).split(",")
    return available_channels(info, livemode=livemode)


def _choose(
    template: Any, contact: Any, channels: list[str], providers: Providers, livemode: bool
) -> tuple[str, str]:
    """Auto-detect ("sent"): the contact's default channel when it can take it, else WhatsApp
    when the contact has it and the template is approved for it, else SMS. Free text goes to
    WhatsApp only as the contact's default channel (WhatsApp takes free text only inside a
    conversation the contact opened)."""

    def usable(channel: str) -> bool:
        has_body = template is None or channel in template.channels
        return (
            channel in channels
            and has_body
            and providers.for_channel(channel, livemode) is not None
        )

    default = contact["default_channel"] if contact is not None else None
    if default and usable(default):
        return default, f"the contact's default channel ({default})"
    if template is not None and template.status == "APPROVED" and usable("whatsapp"):
        return "whatsapp", "the contact has WhatsApp and the template is approved for it"
    return "sms", "SMS, the channel every number takes"


def _no_provider(providers: Providers, channels: set[str]) -> ApiError:
    """422 `PROVIDER_003`: live mode has no provider for these channels (only live mode can
    lack one: test mode always has the simulator)."""
    return ApiError("PROVIDER_003", {"channel": [providers.why_none(c) for c in sorted(channels)]})


@dataclass(frozen=True, slots=True)
class Context:
    """What planning a send reads, in one query (`sends.context`): the customer's row (who
    pays) or None, the webhooks that may take its events, its contacts among the recipients by
    E.164, and the template the send names (its row, or None)."""

    customer: Any
    subscribers: list[Any]
    known: dict[str, Any]
    template_row: dict[str, Any] | None


async def read_context(
    conn: Connection, principal: Principal, numbers: list[str], template: TemplateRef | None
) -> Context:
    """The `Context` of sends of `principal` to `numbers` naming `template`."""
    customer, subscribers, known, template_row = await sends.context(
        conn,
        principal.customer_id,
        principal.organization_id,
        principal.livemode,
        numbers,
        template_id=template.id if template else None,
        template_name=template.name if template else None,
    )
    return Context(customer, subscribers, known, template_row)


def check_shape(body: SendRequest, now: datetime) -> list[str]:
    """Refuse a request whose fields contradict each other; returns its distinct recipients."""
    _check_shape(body, now)
    return [number for _, number in _unique(body.to)]


async def plan(
    conn: Connection,
    principal: Principal,
    body: SendRequest,
    *,
    now: datetime,
    providers: Providers,
    prices: dict[str, Any],
) -> tuple[Any, list[Planned], Context]:
    """Validate and gate the whole request; nothing is written. Returns the template, the
    messages to create, and the `Context` it was planned in."""
    context = await read_context(conn, principal, check_shape(body, now), body.template)
    template, planned = plan_in(
        context, principal, body, now=now, providers=providers, prices=prices
    )
    return template, planned, context


def plan_in(
    context: Context,
    principal: Principal,
    body: SendRequest,
    *,
    now: datetime,
    providers: Providers,
    prices: dict[str, Any],
) -> tuple[Any, list[Planned]]:
    """Plan a request whose shape was checked (`check_shape`) in a `Context` read for its
    recipients and template: the template and the messages to create, or the refusal.

    A channel without a live provider refuses the whole request with `PROVIDER_003`, before any
    recipient is judged: a channel the request names, or SMS when auto-detection ("sent") falls
    back to it. Auto-detection only picks a channel that has a provider."""
    recipients = _unique(body.to)
    named_template = body.template
    known, template_row = context.known, context.template_row
    template = None
    if named_template is not None:
        if template_row is None:
            raise templates.not_visible(template_id=named_template.id, name=named_template.name)
        template = templates.from_row(template_row)
    parameters = (body.template.parameters if body.template else None) or {}
    requested = body.channel or ["sent"]
    named: set[str] = {c for c in requested if c != "sent"}
    unconfigured: set[str] = {
        c for c in named if providers.for_channel(c, principal.livemode) is None
    }
    if unconfigured:
        raise _no_provider(providers, unconfigured)

    planned: list[Planned] = []
    opted_out: dict[str, list[str]] = {}
    unavailable: dict[str, list[str]] = {}
    not_approved: dict[str, list[str]] = {}
    for index, number in recipients:
        info = describe(number)
        contact = known.get(info.e164)
        if contact is not None and contact["opt_out"]:
            opted_out[_field(index)] = [f"{number} has opted out"]
            continue
        options = _contact_channels(contact, info, principal.livemode)
        for wanted in dict.fromkeys(requested):
            if wanted == "sent":
                channel, why = _choose(template, contact, options, providers, principal.livemode)
            else:
                channel, why = wanted, "the channel the request named"
            if providers.for_channel(channel, principal.livemode) is None:
                unconfigured.add(channel)
                continue
            reachable = channel in options or (channel in ("mms", "rcs") and "sms" in options)
            if not reachable:
                unavailable.setdefault(_field(index), []).append(f"{number} cannot take {channel}")
                continue
            if template is not None:
                needed = "APPROVED" if channel == "whatsapp" else None
                if (needed and template.status != needed) or template.status == "REJECTED":
                    not_approved.setdefault(_field(index), []).append(
                        f"Template {template.name} is {template.status}, not approved for {channel}"
                    )
                    continue
                content = _content(templates.render_message(template, channel, parameters))
            else:
                content = _text_content(body.text or "", body.subject, body.media_urls)
            category = template.category if template is not None else None
            planned.append(
                Planned(
                    index=index,
                    to=info.e164,
                    channel=channel,
                    why=why,
                    content=content,
                    price_micros=price_micros(prices, channel, info.region_code, category),
                    contact=contact,
                    region_code=info.region_code,
                    international=info.international,
                )
            )
    if unconfigured:
        raise _no_provider(providers, unconfigured)
    if opted_out:
        raise ApiError("BUSINESS_004", opted_out)
    if not_approved:
        raise ApiError("BUSINESS_005", not_approved)
    if unavailable:
        raise ApiError("BUSINESS_007", unavailable)
    return template, planned


def _over_quota(limit: int, sent_today: int, adding: int) -> ApiError:
    return ApiError(
        "BUSINESS_008",
        {
            "messages_per_day": [
                f"The daily quota is {limit}; {sent_today} sent today, {adding} more requested"
            ]
        },
    )


async def _largest_balance(conn: Connection, funding: list[Scope]) -> int:
    amounts = [await balances.get(conn, scope) for scope in funding]
    return max((row["amount_micros"] for row in amounts if row), default=0)


@dataclass
class Charge:
    """The final statement of a send: counts its messages and debits their price (see
    `sends.charge_sql`), and explains its refusals."""

    sql: str
    principal: Principal
    funding: list[Scope]
    day: date
    messages: int
    total_micros: int

    async def refusal(self, conn: Connection, code: str) -> ApiError:
        if code == "BUSINESS_008":
            return _over_quota(
                self.principal.limits.messages_per_day,
                await sends.sent_today(
                    conn, self.principal.organization_id, self.principal.livemode, self.day
                ),
                self.messages,
            )
        available = await _largest_balance(conn, self.funding)
        return ApiError(
            "BUSINESS_003",
            {
                "balance": [
                    f"The request costs {self.total_micros / 1e6:.4f}; "
                    f"{available / 1e6:.4f} is available"
                ]
            },
        )


@dataclass(frozen=True, slots=True)
class Acceptance:
    """An accepted send before it is written: its rows (`sends.insert_messages`), its charge
    (the final statement of its transaction) and the answer's data."""

    writes: sends.MessageWrites
    charge: Charge
    data: dict[str, Any]


def accept(
    principal: Principal,
    body: SendRequest,
    template: Any,
    planned: list[Planned],
    context: Context,
    *,
    now: datetime,
    request_id: str,
) -> Acceptance:
    """The messages, their first events and webhook events, the charge and the answer of a
    planned send; nothing is written yet."""
    funding = funding_scopes(context.customer, principal.livemode)
    scheduled = body.scheduled_at is not None
    status = "SCHEDULED" if scheduled else "QUEUED"
    rows: list[dict[str, Any]] = []
    for item in planned:
        rows.append(
            {
                "id": new_id(),
                # A new number's contact is created with the messages.
                "contact_id": item.contact["id"] if item.contact is not None else None,
                "channel": item.channel,
                "phone_e164": item.to,
                "phone_international": item.international,
                "region_code": item.region_code,
                "body": item.content,
                "price_micros": item.price_micros,
                "charges": [
                    {"customer_id": str(funding[0].customer_id), "micros": item.price_micros}
                ]
                if item.price_micros
                else [],
            }
        )
    shared = {
        "customer_id": principal.customer_id,
        "livemode": principal.livemode,
        "direction": "OUTBOUND",
        "status": status,
        "template_id": template.id if template else None,
        "template_name": template.name if template else None,
        "template_category": template.category if template else None,
        "template_parameters": body.template.parameters if body.template else None,
        "media_urls": body.media_urls,
        "subject": body.subject,
        "due_at": None if scheduled else now,
        "scheduled_at": body.scheduled_at,
        "created_at": now,
        "updated_at": now,
    }
    description = (
        f"Scheduled for {body.scheduled_at.isoformat()}"
        if body.scheduled_at
        else "Accepted by the API and queued"
    )
    new_numbers = list(dict.fromkeys(p.to for p in planned if p.contact is None))
    new_infos = [describe(n) for n in new_numbers]
    live = principal.livemode
    webhook_events = prepare(
        context.subscribers,
        customer_id=principal.customer_id,
        livemode=principal.livemode,
        events=[
            (
                f"message.{status.lower()}",
                status.lower(),
                lifecycle.message_payload(shared | row, now),
            )
            for row in rows
        ],
        now=now,
    )
    writes = sends.MessageWrites(
        shared,
        rows,
        [f"{description}; channel: {item.why}" for item in planned],
        (principal.scope, new_infos, [available_channels(i, livemode=live) for i in new_infos]),
        webhook_events,
    )
    # Last, with the COMMIT: the rows every send of the organization shares (today's count,
    # the balance).
    total = sum(p.price_micros for p in planned)
    charge = Charge(
        sql=sends.charge_sql(
            organization_id=principal.organization_id,
            livemode=principal.livemode,
            day=now.date(),
            messages=len(planned),
            messages_per_day=principal.limits.messages_per_day,
            funding=[scope.customer_id for scope in funding],
            total_micros=total,
            reference=request_id,
            message_ids=[r["id"] for r in rows],
        ),
        principal=principal,
        funding=funding,
        day=now.date(),
        messages=len(planned),
        total_micros=total,
    )
    data: dict[str, Any] = {
        "status": "QUEUED",
        "template_id": str(template.id) if template else None,
        "template_name": template.name if template else None,
        "recipients": [
            {
                "message_id": str(r["id"]),
                "to": r["phone_e164"],
                "channel": r["channel"],
                "body": r["body"]["content"],
            }
            for r in rows
        ],
    }
    if body.scheduled_at is not None:
        data["scheduled_at"] = body.scheduled_at.astimezone(tz=None).isoformat()
    return Acceptance(writes, charge, data)


async def send(
    conn: Connection,
    unit: Unit,
    principal: Principal,
    request: SendRequest,
    env: Environment,
    *,
    reference: str,
    admit: Admit | None = None,
) -> dict[str, Any]:
    """Send `request` in the transaction open on `conn`: plan and gate it, let `admit` refuse
    it, write it, and make the charge `unit`'s final statement (its refusal — quota, balance —
    comes when the unit commits). Returns the answer's data. `reference` names the send on the
    ledger (the request id)."""
    template, planned, context = await plan(
        conn, principal, request, now=env.now, providers=env.providers, prices=env.prices
    )
    if admit is not None:
        await admit(len(planned))
    accepted = accept(
        principal, request, template, planned, context, now=env.now, request_id=reference
    )
    await sends.insert_messages(conn, accepted.writes)
    unit.commit_with(accepted.charge)
    return accepted.data


async def modify(
    conn: Connection,
    principal: Principal,
    message: Message,
    *,
    scheduled_at: datetime | None,
    text: str | None,
    parameters: dict[str, str] | None,
    now: datetime,
) -> Message:
    """Change a message that has not been sent: its time (a scheduled one), its text (a free-text
    one) or its template parameters (a template one). 422 `BUSINESS_006` once it was sent."""
    if message.status not in lifecycle.UNSENT:
        raise ApiError(
            "BUSINESS_006", {"status": [f"The message is {message.status} and cannot change"]}
        )
    values: dict[str, Any] = {}
    if scheduled_at is not None:
        if message.status != "SCHEDULED":
            raise ApiError(
                "BUSINESS_006", {"scheduled_at": ["Only a scheduled message can be rescheduled"]}
            )
        _check_schedule(scheduled_at, now)
        values["scheduled_at"] = scheduled_at
    if text is not None:
        if message.template_id is not None:
            raise ApiError("VALIDATION_001", {"text": ["A template message takes parameters"]})
        values["body"] = {**(message.body or {}), "content": text}
    if parameters is not None:
        if message.template_id is None:
            raise ApiError("VALIDATION_001", {"parameters": ["A free-text message takes text"]})
        template = await templates.get(conn, principal, message.template_id)
        rendered = templates.render_message(template, message.channel, parameters)
        values["body"] = _content(rendered)
        values["template_parameters"] = parameters
    if not values:
        raise ApiError("VALIDATION_004", {"body": ["Give scheduled_at, text or parameters"]})
    changed = ", ".join(sorted(k for k in values if k != "template_parameters"))
    values["updated_at"] = now
    row = await messages.update(conn, message.id, values)
    assert row is not None  # locked by the caller: it is still there
    await messages.add_events(
        conn, [(row.id, row.status, f"Modified ({changed})", None, None, now)]
    )
    return row


async def cancel(
    conn: Connection, principal: Principal, message_id: uuid.UUID, *, now: datetime
) -> Message:
    """Cancel a message that has not been sent (404 `RESOURCE_003` for one the principal cannot
    see, 422 `BUSINESS_006` once it was sent); returns the cancelled row."""
    row = await lifecycle.visible(conn, principal, message_id, lock=True)
    return await lifecycle.cancel(conn, row, now)


# The message when the principal's scope holds it, else 404 `RESOURCE_003`.
visible = lifecycle.visible


async def page(
    conn: Connection, principal: Principal, *, limit: int, offset: int, **filters: Any
) -> tuple[list[tuple[Message, list[Any]]], int]:
    """A page of the principal's messages, newest first, each with its status events; and the
    total the filters match."""
    rows, total = await messages.page(
        conn, principal.customer_id, principal.livemode, limit=limit, offset=offset, **filters
    )
    events = await messages.events_of_many(conn, [r.id for r in rows])
    return [(r, events[r.id]) for r in rows], total


async def events_of(conn: Connection, message_id: uuid.UUID) -> list[Any]:
    """A message's status events, oldest first."""
    return list(await messages.events_of(conn, message_id))


async def check_contact(conn: Connection, principal: Principal, contact_id: uuid.UUID) -> None:
    """404 `RESOURCE_001` unless the principal sees the contact."""
    if await contacts.get_visible(conn, principal.scope, None, contact_id) is None:
        raise ApiError("RESOURCE_001", {"id": [f"No contact {contact_id}"]})
