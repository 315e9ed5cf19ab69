"""Voice tokens for app users: an opaque token the simulator accepts (test mode, or the simulator
as live provider), or a Twilio Voice access token (a JWT, HS256, signed here with `hmac`: the
format is small and fixed, and no JWT library is a dependency of sentd)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

SIMULATOR_PREFIX = "sentd_vt_"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def simulator_token() -> str:
    return SIMULATOR_PREFIX + secrets.token_urlsafe(32)


def provider_identity(customer_id: uuid.UUID, livemode: bool, identity: str) -> str:
    """The identity at the provider: namespaced, since one provider account serves every
    customer of this sentd (`c<customer hex>_<l|t>_<identity>`)."""
    return f"c{customer_id.hex}_{'l' if livemode else 't'}_{identity}"


def parse_provider_identity(value: str) -> tuple[uuid.UUID, bool, str] | None:
    value = value.removeprefix("client:")
    if not value.startswith("c") or len(value) < 37 or value[33:34] != "_":
        return None
    try:
        customer_id = uuid.UUID(hex=value[1:33])
    except ValueError:
        return None
    mode, _, identity = value[34:].partition("_")
    if mode not in ("l", "t") or not identity:
        return None
    return customer_id, mode == "l", identity


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class TwilioKey:
    account_sid: str
    api_key_sid: str
    api_key_secret: str
    twiml_app_sid: str


def twilio_access_token(
    key: TwilioKey, *, identity: str, number: str, now: datetime, expires_at: datetime
) -> str:
    """A Twilio Voice access token for `identity`: incoming calls allowed, outgoing calls through
    the TwiML app (whose voice URL is sentd's), with the bound number as a parameter."""
    issued = int(now.timestamp())
    header = {"alg": "HS256", "typ": "JWT", "cty": "twilio-fpa;v=1"}
    payload: dict[str, Any] = {
        "jti": f"{key.api_key_sid}-{issued}-{secrets.token_hex(4)}",
        "iss": key.api_key_sid,
        "sub": key.account_sid,
        "iat": issued,
        "nbf": issued,
        "exp": int(expires_at.timestamp()),
        "grants": {
            "identity": identity,
            "voice": {
                "incoming": {"allow": True},
                "outgoing": {"application_sid": key.twiml_app_sid, "params": {"number": number}},
            },
        },
    }
    signing_input = f"{_b64(orjson.dumps(header))}.{_b64(orjson.dumps(payload))}"
    signature = hmac.new(key.api_key_secret.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(signature.digest())}"
