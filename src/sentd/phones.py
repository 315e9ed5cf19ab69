"""Phone numbers: E.164 in, everything else derived. The one module every subsystem uses.

Input must be E.164: `+`, the country code and the number, nothing else. Validation uses the
offline metadata of `phonenumbers`, so an impossible number (wrong length for its country, an
unassigned range) is refused too.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, PhoneNumberType, carrier
from phonenumbers.phonenumberutil import _number_type_helper, national_significant_number
from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

E164_PATTERN = r"^\+[1-9][0-9]{1,14}$"
"""The shape of E.164, as the OpenAPI document declares it (the numbering plan is checked too)."""
E164_SCHEMA = {"type": "string", "pattern": E164_PATTERN, "examples": ["+14155550123"]}
_E164_SHAPE = re.compile(r"^\+[1-9]\d{1,14}$")


class InvalidPhoneNumber(ValueError):
    pass


def _parse(value: str) -> tuple[phonenumbers.PhoneNumber, str, int]:
    """The parsed number, its region and its type (`PhoneNumberType`)."""
    if not _E164_SHAPE.fullmatch(value):
        raise InvalidPhoneNumber("Use E.164: '+', the country code and the number, digits only")
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber("Not a phone number") from exc
    national = national_significant_number(number)
    region, kind = _region_and_type(number.country_code or 0, national)
    if region is None or kind == PhoneNumberType.UNKNOWN:
        raise InvalidPhoneNumber("Not a valid number for its country")
    canonical = f"+{number.country_code}{national}"  # the library's E.164 format
    if canonical != value:  # e.g. a national prefix kept after the country code: +1 1 201…
        raise InvalidPhoneNumber(f"Not in E.164 form; did you mean {canonical}?")
    return number, region, kind


def _region_and_type(country_code: int, national: str) -> tuple[str | None, int]:
    """What `region_code_for_number`, `is_valid_number_for_region` (valid: the type is known)
    and `number_type` decide, with the number's type matched against the metadata once: the
    three of them match it up to four times for a +1 number (the region is the first of the
    code's regions whose leading digits or types the number matches). tests/test_phones.py
    compares both answers with the library's for every example number and random ones."""
    regions = COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return None, PhoneNumberType.UNKNOWN
    if len(regions) == 1:
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, regions[0])
        if metadata is None:
            return regions[0], PhoneNumberType.UNKNOWN
        return regions[0], _number_type_helper(national, metadata)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re.match(metadata.leading_digits, national):
                return region, _number_type_helper(national, metadata)
        elif (kind := _number_type_helper(national, metadata)) != PhoneNumberType.UNKNOWN:
            return region, kind
    return None, PhoneNumberType.UNKNOWN


def normalize_e164(value: str) -> str:
    """`value` when it is a valid number in E.164 form, InvalidPhoneNumber otherwise (`_parse`
    accepts only the canonical form, so there is nothing to reformat)."""
    _parse(value)
    return value


def _validate(value: str) -> str:
    try:
        return describe(value).e164  # described once: what is validated is described next
    except InvalidPhoneNumber as exc:
        raise PydanticCustomError("phone_number", str(exc)) from exc


E164 = Annotated[str, AfterValidator(_validate), WithJsonSchema(E164_SCHEMA)]
"""A request field holding an E.164 number; a bad one is VALIDATION_002 naming the field."""


_LINE_TYPES = {
    PhoneNumberType.MOBILE: "mobile",
    # The metadata cannot tell these apart in some countries (the US among them). A number a
    # customer wants to message is far more often a mobile, so it counts as one.
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "landline",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}


@dataclass(frozen=True, slots=True)
class PhoneInfo:
    e164: str
    international: str
    national: str
    rfc3966: str
    country_code: str  # calling code, e.g. "1"
    region_code: str | None  # ISO 3166 alpha-2, e.g. "US"
    line_type: str
    carrier_name: str | None

    @property
    def is_voip(self) -> bool:
        return self.line_type == "voip"

    @property
    def last_four(self) -> str:
        return self.national_digits[-4:]

    @property
    def national_digits(self) -> str:
        return "".join(ch for ch in self.national if ch.isdigit())


# The number types that carry a carrier's name in the metadata (`carrier.name_for_number`).
_CARRIER_TYPES = {
    PhoneNumberType.MOBILE,
    PhoneNumberType.FIXED_LINE_OR_MOBILE,
    PhoneNumberType.PAGER,
}
_NON_DIGITS = re.compile(r"\D+")


@functools.lru_cache(maxsize=16_384)
def describe(value: str) -> PhoneInfo:
    """Everything the offline metadata knows of a valid E.164 number (InvalidPhoneNumber else).
    Parsing and formatting are most of a large send's work, and the metadata does not change
    while a process runs: recent numbers are remembered (about 10 MB at most). What the library
    would compute twice is computed once: the region, the number type (the carrier's name is
    looked up only for the types that have one), and the RFC 3966 form, which is the
    international form's groups joined by dashes (tests/test_phones.py compares each with the
    library's own answer for every region's example numbers)."""
    number, region, number_type = _parse(value)
    fmt = phonenumbers.PhoneNumberFormat
    country_code = str(number.country_code)
    international = phonenumbers.format_number(number, fmt.INTERNATIONAL)
    groups = _NON_DIGITS.sub("-", international.removeprefix(f"+{country_code} ")).lstrip("-")
    carrier_name = (
        carrier.name_for_valid_number(number, "en") if number_type in _CARRIER_TYPES else None
    )
    return PhoneInfo(
        e164=value,  # `_parse` checked that it is the canonical form
        international=international,
        national=phonenumbers.format_number(number, fmt.NATIONAL),
        rfc3966=f"tel:+{country_code}-{groups}",
        country_code=country_code,
        region_code=region,
        line_type=_LINE_TYPES.get(number_type, "unknown"),
        carrier_name=carrier_name or None,
    )


def looks_like_e164(value: str) -> bool:
    """The shape alone: '+', a country code that does not start with 0, up to 15 digits."""
    return _E164_SHAPE.fullmatch(value) is not None
