"""Phone numbers: E.164 in, everything else derived. The one module every subsystem uses.

Input must be E.164: `+`, the country code and the number, nothing else. Validation uses the
offline metadata of `phonenumbers`, so an impossible number (wrong length for its country, an
unassigned range) is refused too.
"""

from __future__ import annotations

import re
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

_E164_SHAPE = re.compile(r"^\+[1-9]\d{1,14}$")


class InvalidPhoneNumber(ValueError):
    pass


def parse_e164(value: str) -> phonenumbers.PhoneNumber:
    """The parsed number; InvalidPhoneNumber when `value` is not a valid E.164 number."""
    if not _E164_SHAPE.fullmatch(value):
        raise InvalidPhoneNumber("Use E.164: '+', the country code and the number, digits only")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("Not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber("Not a valid number for its country")
    return number


def normalize_e164(value: str) -> str:
    return phonenumbers.format_number(parse_e164(value), phonenumbers.PhoneNumberFormat.E164)


def _validate(value: str) -> str:
    try:
        return normalize_e164(value)
    except InvalidPhoneNumber as exc:
        raise PydanticCustomError("phone_number", str(exc)) from exc


E164 = Annotated[str, AfterValidator(_validate)]
"""A request field holding an E.164 number; a bad one is VALIDATION_002 naming the field."""
