"""Date-times in requests are RFC 3339 text. pydantic alone would also take a number (or a
numeric string such as `?to=0.5`) as seconds since 1970, which no client means."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

_RFC3339_START = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _rfc3339_text(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _RFC3339_START.match(value):
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-12-03T10:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_rfc3339_text)]
