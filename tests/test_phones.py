"""The phone module, property-based: valid numbers round-trip; anything else is refused with
InvalidPhoneNumber (→ VALIDATION_002), never another exception."""

from __future__ import annotations

import contextlib

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st
from phonenumbers import carrier
from pydantic import TypeAdapter, ValidationError

from sentd.api.validation import api_error_from
from sentd.channels import available_channels
from sentd.phones import (
    _LINE_TYPES,
    E164,
    InvalidPhoneNumber,
    describe,
    looks_like_e164,
    normalize_e164,
)

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
TYPES = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]


def example(region: str, kind: int) -> str | None:
    number = phonenumbers.example_number_for_type(region, kind)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


EXAMPLES = [e for r in REGIONS for k in TYPES if (e := example(r, k)) is not None]


@given(st.sampled_from(EXAMPLES))
def test_valid_numbers_round_trip(e164: str) -> None:
    info = describe(e164)
    assert info.e164 == e164 == normalize_e164(e164)
    assert looks_like_e164(info.e164)
    reparsed = phonenumbers.parse(info.international, None)
    assert phonenumbers.format_number(reparsed, phonenumbers.PhoneNumberFormat.E164) == e164
    assert info.rfc3966.startswith(f"tel:+{info.country_code}")
    assert e164.startswith(f"+{info.country_code}")
    assert available_channels(info, livemode=True)[0] == "sms"


UNKNOWN = phonenumbers.PhoneNumberType.UNKNOWN
ALL_TYPES = [
    t for t in vars(phonenumbers.PhoneNumberType).values() if isinstance(t, int) and t != UNKNOWN
]
EVERY_EXAMPLE = sorted(
    {e for r in [*REGIONS, "001"] for k in ALL_TYPES if (e := example(r, k)) is not None}
    | {
        phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
        for c in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
        if (n := phonenumbers.example_number_for_non_geo_entity(c)) is not None
    }
)


def test_what_describe_derives_is_what_the_library_computes() -> None:
    """`describe` finds the region once, looks up a carrier only for the types that have one
    and derives the RFC 3966 form: for every example number of every region and type, each
    field equals the library's own answer."""
    assert len(EVERY_EXAMPLE) > 1_000
    fmt = phonenumbers.PhoneNumberFormat
    for e164 in EVERY_EXAMPLE:
        number = phonenumbers.parse(e164, None)
        if not phonenumbers.is_valid_number(number):
            with pytest.raises(InvalidPhoneNumber):
                describe(e164)
            continue
        info = describe(e164)
        assert info.international == phonenumbers.format_number(number, fmt.INTERNATIONAL)
        assert info.national == phonenumbers.format_number(number, fmt.NATIONAL)
        assert info.rfc3966 == phonenumbers.format_number(number, fmt.RFC3966), e164
        assert info.region_code == phonenumbers.region_code_for_number(number)
        assert info.line_type == _LINE_TYPES.get(phonenumbers.number_type(number), "unknown")
        assert info.carrier_name == (carrier.name_for_number(number, "en") or None), e164


# Numbers near the valid ones (every example with its last digits replaced, and one digit more
# or fewer) and random numbers of the codes several regions share (+1, +7, +44, ...).
_SHARED_CODES = [c for c, r in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if len(r) > 1]


@given(
    st.sampled_from(EVERY_EXAMPLE),
    st.text(alphabet="0123456789", min_size=0, max_size=5),
    st.integers(min_value=-1, max_value=1),
)
def test_validity_region_and_type_are_the_librarys(example: str, tail: str, change: int) -> None:
    """`describe` matches a number's type against the metadata once; the library's
    `is_valid_number`, `region_code_for_number` and `number_type` decide the same."""
    digits = example[1:]
    keep = max(2, len(digits) - len(tail) + min(change, 0))
    text = "+" + (digits[:keep] + tail + ("7" if change > 0 else ""))[:15]
    _same_as_the_library(text)


@given(
    st.sampled_from(_SHARED_CODES),
    st.text(alphabet="0123456789", min_size=4, max_size=12),
)
def test_random_numbers_of_shared_codes_are_decided_as_the_library_does(
    code: int, national: str
) -> None:
    _same_as_the_library(f"+{code}{national}"[:16])


def _same_as_the_library(text: str) -> None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        with pytest.raises(InvalidPhoneNumber):
            describe(text)
        return
    canonical = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == text
    if not looks_like_e164(text) or not canonical or not phonenumbers.is_valid_number(number):
        with pytest.raises(InvalidPhoneNumber):
            describe(text)
        return
    info = describe(text)
    assert info.region_code == phonenumbers.region_code_for_number(number), text
    assert info.line_type == _LINE_TYPES.get(phonenumbers.number_type(number), "unknown"), text


@given(st.text(max_size=30))
def test_any_text_is_a_number_or_invalid(text: str) -> None:
    try:
        e164 = normalize_e164(text)
    except InvalidPhoneNumber:
        return
    assert looks_like_e164(e164) and e164 == text


@given(st.from_regex(r"\+[1-9][0-9]{1,14}", fullmatch=True))
def test_e164_shaped_strings_never_raise_anything_else(text: str) -> None:
    with contextlib.suppress(InvalidPhoneNumber):
        assert describe(text).e164 == text


@given(st.one_of(st.text(max_size=20), st.sampled_from(["4155550100", "+1 415", "+0123456"])))
def test_the_request_type_maps_to_validation_002(text: str) -> None:
    adapter = TypeAdapter(E164)
    try:
        adapter.validate_python(text)
    except ValidationError as exc:
        error = api_error_from(exc.errors())
        assert error.code == "VALIDATION_002"
        assert error.details is not None and list(error.details) == ["body"]


@pytest.mark.parametrize(
    ("number", "channels"),
    [("+14155550100", ["sms", "whatsapp"]), ("+14155550003", ["sms"]), ("+442071838750", ["sms"])],
)
def test_channels(number: str, channels: list[str]) -> None:
    assert available_channels(describe(number), livemode=False) == channels


def test_live_channels_have_no_magic_suffix() -> None:
    assert available_channels(describe("+14155550003"), livemode=True) == ["sms", "whatsapp"]
    assert available_channels(describe("+442071838750"), livemode=True) == ["sms"]
