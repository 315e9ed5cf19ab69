"""Number lookup: what is known of a phone number.

The offline answer comes from `phonenumbers`. A provider that offers a richer lookup (carrier,
porting, network codes) is asked first; when it fails, the offline answer stands, unless
`SENTD_LOOKUP_MODE=provider` asks for provider answers only — then a failure is 502
`INTERNAL_003`.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from sentd.errors.exceptions import ApiError
from sentd.phones import InvalidPhoneNumber, PhoneInfo, describe, looks_like_e164

log = logging.getLogger("sentd.lookup")


class LookupProvider(Protocol):
    name: str

    async def lookup(self, e164: str) -> dict[str, Any]:
        """Fields of the lookup model this provider knows; raises on failure."""
        ...


def offline(info: PhoneInfo) -> dict[str, Any]:
    return {
        "phone_number": info.e164,
        "country_code": info.country_code,
        "carrier_name": info.carrier_name,
        "line_type": info.line_type,
        "is_valid": True,
        "is_voip": info.is_voip,
        "is_ported": None,  # unknowable offline
        "mobile_country_code": None,
        "mobile_network_code": None,
    }


def _invalid(value: str) -> dict[str, Any]:
    return {
        "phone_number": value,
        "country_code": None,
        "carrier_name": None,
        "line_type": None,
        "is_valid": False,
        "is_voip": None,
        "is_ported": None,
        "mobile_country_code": None,
        "mobile_network_code": None,
    }


async def lookup(value: str, providers: list[LookupProvider], mode: str) -> dict[str, Any]:
    """A number that is not E.164 at all is 400 `VALIDATION_002`; one shaped like E.164 that no
    country would assign answers `is_valid: false`."""
    if not looks_like_e164(value):
        raise ApiError(
            "VALIDATION_002",
            {"phone_number": ["Use E.164: '+', the country code and the number, digits only"]},
        )
    try:
        info = describe(value)
    except InvalidPhoneNumber:
        return _invalid(value)
    answer = offline(info)
    for provider in providers:
        try:
            return answer | {
                k: v for k, v in (await provider.lookup(info.e164)).items() if v is not None
            }
        except Exception as exc:
            log.warning("lookup provider %s failed: %s", provider.name, exc)
    if mode == "provider":
        raise ApiError(
            "INTERNAL_003", {"phone_number": ["No lookup provider could answer for this number"]}
        )
    return answer
