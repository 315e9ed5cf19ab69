"""Identifiers: UUIDs for rows, short random tokens for request ids."""

from __future__ import annotations

import re
import secrets
import string
import uuid

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def random_token(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def new_request_id() -> str:
    return "req_" + random_token(20)


# An X-Request-Id minted upstream (a load balancer, a gateway) is kept when it looks like an id.
_INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}")


def incoming_request_id(value: str | None) -> str | None:
    """`value` when it is a well-formed request id (1-128 safe characters), else None."""
    if value is None or not _INCOMING_REQUEST_ID.fullmatch(value):
        return None
    return value


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not a canonical 36-character UUID."""
    if len(value) != 36:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
