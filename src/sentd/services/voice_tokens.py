"""`POST /v3/voice/tokens`: bind an app user's identity to a voice number and mint a token."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sentd.auth.principal import Principal
from sentd.config import Settings
from sentd.db.repos import voice_numbers as repo
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.services.voice_numbers import not_found, parse_number
from sentd.voice import tokens
from sentd.voice.contract import IDENTITY

DEFAULT_TTL_S = 600


def twilio_key(settings: Settings) -> tokens.TwilioKey | None:
    parts = (
        settings.twilio_account_sid,
        settings.twilio_api_key_sid,
        settings.twilio_api_key_secret,
        settings.twilio_twiml_app_sid,
    )
    if not all(parts):
        return None
    account, key_sid, key_secret, app = (str(p) for p in parts)
    return tokens.TwilioKey(account, key_sid, key_secret, app)


async def mint(
    conn: Connection,
    principal: Principal,
    *,
    identity: str,
    number: str | None,
    ttl: int | None,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    scope = principal.scope
    if not IDENTITY.fullmatch(identity):
        raise ApiError(
            "VALIDATION_001",
            {"identity": ["Letters, digits, hyphens and underscores only, 1-200 characters"]},
        )
    uses_twilio = principal.livemode and settings.voice_provider == "twilio"
    key = twilio_key(settings) if uses_twilio else None
    no_provider = principal.livemode and settings.voice_provider == "none"
    if no_provider or (uses_twilio and key is None):
        raise ApiError("PROVIDER_003", {"channel": ["voice"]})
    if number is not None:
        e164 = parse_number(number)
        line = await repo.get(conn, scope, e164)
        if line is None:
            raise not_found(e164)
        if line["status"] != "ACTIVE":
            raise ApiError("VALIDATION_001", {"number": [f"Voice is turned off for {e164}"]})
    else:
        line = await repo.default_line(conn, scope)
        if line is None:
            raise ApiError(
                "VOICE_001",
                {"number": ["No default line for app calls: turn voice on for a number first"]},
            )
    expires_at = now + timedelta(seconds=ttl or DEFAULT_TTL_S)
    await repo.bind_identity(conn, scope, identity, line["number"], now)
    if key is not None:
        token = tokens.twilio_access_token(
            key,
            identity=tokens.provider_identity(scope.customer_id, scope.livemode, identity),
            number=line["number"],
            now=now,
            expires_at=expires_at,
        )
    else:
        token = tokens.simulator_token()
        await repo.store_token(
            conn, scope, tokens.digest(token), identity, line["number"], expires_at
        )
    return {
        "token": token,
        "identity": identity,
        "number": line["number"],
        "expires_at": expires_at,
    }
