"""Identifiers: UUIDs for rows, short random tokens for request ids."""

from __future__ import annotations

import re
import secrets
import string
import uuid

_ALPHABET = string.ascii_letters + string.digits


def new_id() -> uuid.UUID:
    return uuid.uuid4()


# Random bytes below this map onto the alphabet evenly (4 × 62); the rest are drawn again.
_EVEN_BELOW = len(_ALPHABET) * (256 // len(_ALPHABET))


def random_token(length: int) -> str:
    """`length` characters drawn uniformly from letters and digits, from one read of the
    operating system's random source (one read per character was ~2 % of a send's time)."""
    chars: list[str] = []
    while len(chars) < length:
        chars += (
            _ALPHABET[b % len(_ALPHABET)]
            for b in secrets.token_bytes(length + 8)
            if b < _EVEN_BELOW
        )
    return "".join(chars[:length])


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
