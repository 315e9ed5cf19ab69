"""Identifiers: UUIDs for rows, short random tokens for request ids."""

from __future__ import annotations

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


def parse_uuid(value: str) -> uuid.UUID | None:
    """The UUID in `value`, or None when it is not a canonical 36-character UUID."""
    if len(value) != 36:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
