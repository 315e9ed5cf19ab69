"""The `Idempotency-Key` header: 1–255 letters, digits, `-` and `_`."""

from __future__ import annotations

import re

from sentd.errors.exceptions import ApiError

HEADER = "Idempotency-Key"
_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def check_format(value: str | None) -> str | None:
    """The key, None when absent; ApiError VALIDATION_007 when present but malformed."""
    if value is None:
        return None
    if not _FORMAT.fullmatch(value):
        raise ApiError(
            "VALIDATION_007",
            {HEADER: ["Use 1 to 255 characters: letters, digits, '-' and '_'"]},
        )
    return value
