"""Identifiers: UUIDs for rows, short random tokens for request ids."""

from __future__ import annotations

import os
import re
import secrets
import string
import time
import uuid

_ALPHABET = string.ascii_letters + string.digits
_LOW_62 = (1 << 62) - 1


def new_id() -> uuid.UUID:
    """A row's id: a version 7 UUID (RFC 9562), the milliseconds since the epoch followed by 74
    random bits. Ids made one after the other sort together, so a new row's id lands at the
    end of its primary key's index (and of the indexes that start with another row's id)
    instead of on a random page of it: with random ids, every insert touched a page of each
    such index that had likely left the buffer cache, and wrote it whole to the WAL after
    each checkpoint. What the id tells of its row, the time it was made, the API already
    says (`created_at`); 74 random bits keep it unguessable."""
    random_bits = int.from_bytes(os.urandom(10)) >> 6  # 74 bits
    return uuid.UUID(
        int=(time.time_ns() // 1_000_000) << 80
        | 0x7 << 76  # version
        | (random_bits >> 62) << 64  # 12 random bits
        | 0b10 << 62  # variant
        | random_bits & _LOW_62
    )


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
