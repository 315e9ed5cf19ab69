"""The statements of an accepted send, each one whatever the number of recipients.

`context` reads the customer, its webhooks, the recipients' contacts and the template;
`insert_messages` writes new contacts, the messages, their first status events and the webhook
events (`insert_many_messages` those of several sends, a group's, in one statement);
`charge_sql` counts the messages against today's quota and debits the payer. The charge touches
the two rows every send of an organization shares (today's counter, the balance), so it is the
transaction's final statement, sent with the COMMIT: their locks are held only while PostgreSQL
runs the two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sentd.db.final_statement import literal
from sentd.db.params import Params
from sentd.db.pool import encode_json
from sentd.db.repos import contacts, events, templates
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.ids import new_id
from sentd.phones import PhoneInfo

# Columns that differ per message; the rest are the same for every message of one send.
_PER_MESSAGE = (
    ("id", "uuid"),
    ("contact_id", "uuid"),
    ("channel", "text"),
    ("phone_e164", "text"),
    ("phone_international", "text"),
    ("region_code", "text"),
    ("body", "jsonb"),
    ("price_micros", "bigint"),
    ("charges", "jsonb"),
)
_SHARED = (
    ("customer_id", "uuid"),
    ("livemode", "boolean"),
    ("direction", "text"),
    ("status", "text"),
    ("template_id", "uuid"),
    ("template_name", "text"),
    ("template_category", "text"),
    ("template_parameters", "jsonb"),
    ("media_urls", "text[]"),
    ("subject", "text"),
    ("due_at", "timestamptz"),
    ("scheduled_at", "timestamptz"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
)


Column = tuple[str, str]  # name, type
_AS_JSON = ("jsonb", "text[]")  # types whose values travel as JSON text (`_travels_as`)


def _travels_as(cast: str) -> str:
    """How a value of `cast` travels in an array parameter: jsonb and text[] as JSON text
    (asyncpg would read a JSON list inside an array as a nested array, and a PostgreSQL array
    of arrays must be rectangular); the rest as themselves."""
    return "text" if cast in _AS_JSON else cast


def _column(name: str, cast: str) -> str:
    """A message's column of the rows unnested as `m`."""
    if name == "contact_id":  # a new number's: its row in `new_contacts`, joined as `c`
        return "coalesce(m.contact_id, c.id)"
    if cast == "text[]":
        return (
            f"CASE WHEN m.{name} IS NOT NULL "
            f"THEN ARRAY(SELECT jsonb_array_elements_text(m.{name}::jsonb)) END"
        )
    return f"m.{name}::{cast}"


def _insert_sql(p: Params, per_message: tuple[Column, ...], constant: tuple[Column, ...]) -> str:
    """The statement that writes sends: the columns of `per_message` one value per message,
    those of `constant` one value for every message."""
    arrays = ", ".join(p(f"m.{name}", f"{_travels_as(cast)}[]") for name, cast in per_message)
    columns = ", ".join(_column(name, cast) for name, cast in per_message)
    constants = "".join(f", {p(f's.{name}', cast)}" for name, cast in constant)
    names = ", ".join(name for name, _ in per_message + constant)
    return f"""
        WITH {contacts.insert_many_cte(p)},
        inserted AS (
            INSERT INTO messages ({names})
            SELECT {columns}{constants}
            FROM unnest({arrays}) AS m({", ".join(name for name, _ in per_message)})
            LEFT JOIN new_contacts c ON c.phone_e164 = m.phone_e164
            RETURNING id, status, created_at
        ),
        first_events AS (
            INSERT INTO message_events (message_id, status, description, occurred_at)
            SELECT i.id, i.status, d.description, i.created_at
            FROM inserted i JOIN unnest({p("m.id", "uuid[]")}, {p("descriptions", "text[]")})
                AS d(id, description) ON d.id = i.id
        ),
        {events.insert_ctes(p)}
        SELECT
    """


class _Insert:
    """The statement that writes sends with the columns of `per_message` one value per message
    and the other shared columns one value for all (a single send's)."""

    def __init__(self, per_message: tuple[Column, ...]) -> None:
        self.per_message = per_message
        self.constant = tuple(column for column in _SHARED if column not in per_message)
        self.params = Params()
        self.sql = _insert_sql(self.params, per_message, self.constant)

    async def run(self, conn: Connection, sends: list[MessageWrites]) -> None:
        await conn.execute(self.sql, *self.params.bind(self._values(sends)))

    def _values(self, sends: list[MessageWrites]) -> dict[str, Any]:
        """The statement's values writing `sends` (of one customer and mode) in order. A number
        that several of them add as a new contact becomes one contact."""
        values = {f"m.{name}": _per_message(sends, name, cast) for name, cast in self.per_message}
        first = sends[0]
        values.update((f"s.{name}", first.shared[name]) for name, _ in self.constant)
        values["descriptions"] = [d for w in sends for d in w.descriptions]
        new: dict[str, tuple[PhoneInfo, list[str]]] = {}
        for w in sends:
            _, infos, channels = w.new_contacts
            for info, available in zip(infos, channels, strict=True):
                new.setdefault(info.e164, (info, available))
        values.update(
            contacts.insert_many_values(
                first.new_contacts[0], [i for i, _ in new.values()], [c for _, c in new.values()]
            )
        )
        values.update(events.values_of([w.batch for w in sends]))
        return values


@dataclass(frozen=True, slots=True)
class MessageWrites:
    """What `insert_messages` writes for one send: the contacts of `new_contacts` (a message
    whose `contact_id` is None gets its number's), the messages with the `shared` values and
    their own (`id`, `contact_id`, `channel`, …), each one's first status event with its
    description, and the batch of webhook events."""

    shared: dict[str, Any]
    messages: list[dict[str, Any]]
    descriptions: list[str]
    new_contacts: tuple[Scope, list[PhoneInfo], list[list[str]]]
    batch: events.EventBatch


def _travel(value: Any, cast: str) -> Any:
    return encode_json(value) if cast in _AS_JSON and value is not None else value


def _per_message(sends: list[MessageWrites], name: str, cast: str) -> list[Any]:
    """Column `name` of every message of `sends`, as it travels (a send's shared value
    encoded once and repeated for each of its messages)."""
    column: list[Any] = []
    for w in sends:
        if name in w.shared:
            column += [_travel(w.shared[name], cast)] * len(w.messages)
        elif cast in _AS_JSON:
            column += [_travel(m[name], cast) for m in w.messages]
        else:
            column += [m[name] for m in w.messages]
    return column


# One send: its shared values once. Several (a group): every value per message.
_INSERT_ONE = _Insert(_PER_MESSAGE)
_INSERT_MANY = _Insert(_PER_MESSAGE + _SHARED)


async def insert_messages(conn: Connection, writes: MessageWrites) -> None:
    """Write one send in one statement."""
    await _INSERT_ONE.run(conn, [writes])


async def insert_many_messages(conn: Connection, sends: list[MessageWrites]) -> None:
    """Write several sends of one customer and mode in one statement, in order."""
    await _INSERT_MANY.run(conn, sends)


# $1 the customer, $2 the mode, $3 its organization (the numbering of `templates.VISIBLE`),
# $4 the recipients' numbers, $5 the template's id or name when the send names one.
_CONTEXT = """
    SELECT c.id AS customer_id, c.kind, c.organization_id, c.settings,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('id', w.id, 'customer_id', w.customer_id,
                'event_types', w.event_types, 'event_filters', w.event_filters,
                'sender_profile', w.sender_profile)), '[]')
            FROM webhooks w
            WHERE w.livemode = $2 AND w.is_active AND w.deleted_at IS NULL
                AND (w.customer_id = $1 OR w.customer_id = $3)) AS webhooks,
        (SELECT coalesce(jsonb_agg(jsonb_build_object('id', k.id, 'phone_e164', k.phone_e164,
                'available_channels', k.available_channels, 'default_channel', k.default_channel,
                'opt_out', k.opt_out)), '[]')
            FROM contacts k
            WHERE k.customer_id = $1 AND k.livemode = $2 AND k.phone_e164 = ANY($4::text[])
                AND k.deleted_at IS NULL) AS contacts
        {template_columns}
    FROM (VALUES (1)) AS one (n)
    LEFT JOIN customers c ON c.id = $1 AND c.deleted_at IS NULL
    {template_join}
"""
# The template travels with its definition as text: a process parses a definition once
# (`services.templates.from_row`), so a send that finds it known does not decode it either.
_TEMPLATE_COLUMNS = ", ".join(
    f"{column} AS tpl_{column.removeprefix('t.')}"
    for column in templates.T_COLUMNS.split(", ")
    if column != "t.definition"
)
_TEMPLATE = f"""
    LEFT JOIN LATERAL (
        SELECT {_TEMPLATE_COLUMNS}, t.definition::text AS tpl_definition,
            t.customer_id <> $1 AS tpl_is_inherited
        FROM templates t
        WHERE {{match}} AND {templates.VISIBLE}
        ORDER BY t.customer_id <> $1 LIMIT 1
    ) tpl ON true
"""
_CONTEXT_PLAIN = _CONTEXT.format(template_columns="", template_join="")
_CONTEXT_BY_ID = _CONTEXT.format(
    template_columns=", tpl.*", template_join=_TEMPLATE.format(match="t.id = $5::uuid")
)
_CONTEXT_BY_NAME = _CONTEXT.format(
    template_columns=", tpl.*", template_join=_TEMPLATE.format(match="t.name = $5::text")
)


async def context(
    conn: Connection,
    customer_id: uuid.UUID,
    organization_id: uuid.UUID,
    livemode: bool,
    numbers: list[str],
    *,
    template_id: uuid.UUID | None = None,
    template_name: str | None = None,
) -> tuple[Any, list[Any], dict[str, Any], dict[str, Any] | None]:
    """What accepting needs to know, in one query: the customer's row (for who pays) or None,
    the webhooks that may take its events (`webhooks.subscribers`), its contacts among
    `numbers` by E.164 (`id`, `phone_e164`, `available_channels`, `default_channel`,
    `opt_out`), and — given `template_id` or `template_name` — the template the customer sees
    by that id or name (its own before its organization's: `templates.find_visible_by_name`),
    as the columns of `templates.COLUMNS` with `is_inherited` and `definition` as JSON text, or
    None."""
    if template_id is not None:
        row = await conn.fetchrow(
            _CONTEXT_BY_ID, customer_id, livemode, organization_id, numbers, template_id
        )
    elif template_name is not None:
        row = await conn.fetchrow(
            _CONTEXT_BY_NAME, customer_id, livemode, organization_id, numbers, template_name
        )
    else:
        row = await conn.fetchrow(_CONTEXT_PLAIN, customer_id, livemode, organization_id, numbers)
    assert row is not None  # one row, the customer's or NULLs
    customer = (
        {
            "id": row["customer_id"],
            "kind": row["kind"],
            "organization_id": row["organization_id"],
            "settings": row["settings"],
        }
        if row["customer_id"] is not None
        else None
    )
    subscribers = [
        w | {"id": uuid.UUID(w["id"]), "customer_id": uuid.UUID(w["customer_id"])}
        for w in row["webhooks"]
    ]
    known = {k["phone_e164"]: k | {"id": uuid.UUID(k["id"])} for k in row["contacts"]}
    template = None
    if (template_id is not None or template_name is not None) and row["tpl_id"] is not None:
        template = {key[4:]: value for key, value in row.items() if key.startswith("tpl_")}
    return customer, subscribers, known, template


def charge_sql(
    *,
    organization_id: uuid.UUID,
    livemode: bool,
    day: date,
    messages: int,
    messages_per_day: int,
    funding: list[uuid.UUID],
    total_micros: int,
    reference: str,
    message_ids: list[uuid.UUID],
) -> str:
    """The final statement of a send (`sentd.db.final_statement` runs it), a call of
    `sentd_charge` (migration 0019): add `messages` to the organization's count for `day` and
    debit `total_micros`, with its ledger row, from the first balance of `funding` that covers
    it once its lock is held, so concurrent sends never overdraw it. When another balance than
    the first pays, the messages' charges name it. Refuses with BUSINESS_008 past
    `messages_per_day` and with BUSINESS_003 when no balance covers the total."""
    values = (
        organization_id,
        livemode,
        day,
        messages,
        messages_per_day,
        funding,
        total_micros,
        new_id(),
        reference,
        message_ids,
    )
    return f"SELECT sentd_charge({', '.join(literal(v) for v in values)})"


async def sent_today(
    conn: Connection, organization_id: uuid.UUID, livemode: bool, day: date
) -> int:
    """The organization's count of messages for `day` (what a quota refusal reports)."""
    count = await conn.fetchval(
        "SELECT count FROM daily_message_counts WHERE organization_id = $1 AND livemode = $2 "
        "AND day = $3",
        organization_id,
        livemode,
        day,
    )
    return int(count or 0)
