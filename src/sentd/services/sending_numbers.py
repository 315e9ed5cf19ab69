"""Sending numbers belong to one customer.

A profile's SMS number (`sending_phone_number`) and WhatsApp number (`whatsapp_phone_number`) are
real lines: inbound messages to them (STOPs included) must reach exactly one customer. Setting one
claims it in `sending_numbers`; a number another customer holds is refused with 409
`RESOURCE_007` naming the field. A customer may use one number for both fields. Claims are not
per mode: a profile and its numbers are shared by its live and test keys, and inbound messages
from providers are live traffic. Changing or clearing a field releases the old number, and
deleting the profile releases all of its numbers.
"""

from __future__ import annotations

import uuid
from typing import Any

from sentd.db.repos import sending_numbers
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError

FIELDS = ("sending_phone_number", "whatsapp_phone_number")


async def claim_for(
    conn: Connection, customer_id: uuid.UUID, current: Any, changes: dict[str, str | None]
) -> None:
    """Claim the numbers `changes` sets (fields of `FIELDS`) and release those it drops; raises
    `RESOURCE_007` when another customer holds one (the caller's transaction then rolls back)."""
    changed = {field: changes[field] for field in FIELDS if field in changes}
    if not changed:
        return
    after = {field: changed.get(field, current[field]) for field in FIELDS}
    await sending_numbers.release_others(conn, customer_id, [n for n in after.values() if n])
    wanted = {field: number for field, number in changed.items() if number}
    owners = await sending_numbers.claim(conn, customer_id, list(wanted.values()))
    taken = {
        field: [f"{number} is already the sending number of another customer"]
        for field, number in wanted.items()
        if owners.get(number) != customer_id
    }
    if taken:
        raise ApiError("RESOURCE_007", taken)


async def release_all(conn: Connection, customer_id: uuid.UUID) -> None:
    await sending_numbers.release_others(conn, customer_id, [])


async def owner_of(conn: Connection, number: str) -> Any:
    """The customer that claimed `number` (`id`, `organization_id`), or None."""
    return await sending_numbers.owner(conn, number)
