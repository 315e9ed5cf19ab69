"""The simulator's pool of US numbers (test mode, or live mode with the simulator as provider):
a random valid number, in the asked area code when one is given."""

from __future__ import annotations

import re
import secrets

from sentd.phones import InvalidPhoneNumber, normalize_e164

AREA_CODE = re.compile(r"^[2-9]\d\d$")
AREA_CODES = ("212", "213", "312", "415", "512", "617", "646", "702", "718", "917")


class UnknownAreaCode(ValueError):
    pass


def candidate(area_code: str | None) -> str:
    """One random valid number; UnknownAreaCode when the area code has none."""
    area = area_code or secrets.choice(AREA_CODES)
    if not AREA_CODE.fullmatch(area):
        raise UnknownAreaCode("An area code is three digits, not starting with 0 or 1")
    for _ in range(50):
        exchange = 200 + secrets.randbelow(800)
        if exchange % 100 == 11 or exchange == 555:
            continue
        line = secrets.randbelow(10_000)
        try:
            return normalize_e164(f"+1{area}{exchange}{line:04d}")
        except InvalidPhoneNumber:
            continue
    raise UnknownAreaCode(f"{area} is not a US area code with numbers")
