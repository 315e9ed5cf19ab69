"""`POST /v3/voice/tokens` over HTTP: TTL bounds, refusals, sandbox, the simulator's token store,
and a Twilio Voice access token checked against its HS256 signature."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any

import httpx

from sentd.voice.tokens import digest, parse_provider_identity
from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import _db, customer_counts, make_org
from tests.live_server import LiveServer

URL = "http://127.0.0.1:9/voice"


def _stored(server: LiveServer, token: str) -> Any:
    async def go() -> Any:
        async with _db(server).connection() as conn:
            return await conn.fetchrow(
                "SELECT identity, number, expires_at FROM voice_tokens WHERE digest = $1",
                digest(token),
            )

    return server.run(go())


def test_rules_and_sandbox(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    h = {"x-api-key": org.test_key}
    number = assert_ok(
        client.post("/v3/channels/voice", json={"callback_url": URL}, headers=h), 201
    )["number"]
    post = "/v3/voice/tokens"
    assert (
        "identity"
        in assert_error(client.post(post, json={}, headers=h), "VALIDATION_004")["details"]
    )
    for ttl in (0, 3601):
        refused = client.post(post, json={"identity": "a", "ttl": ttl}, headers=h)
        assert "ttl" in assert_error(refused, "VALIDATION_005")["details"]
    long = client.post(post, json={"identity": "a" * 201}, headers=h)
    assert "identity" in assert_error(long, "VALIDATION_005")["details"]  # past its bound
    unknown = client.post(post, json={"identity": "a", "number": "+12025550177"}, headers=h)
    assert "number" in assert_error(unknown, "VOICE_001")["details"]

    minted = assert_ok(client.post(post, json={"identity": "ann", "ttl": 60}, headers=h))
    assert minted["token"].startswith("sentd_vt_") and minted["number"] == number
    row = _stored(server, minted["token"])
    assert row["identity"] == "ann" and row["number"] == number
    assert row["expires_at"] == datetime.fromisoformat(minted["expires_at"])

    before = customer_counts(server, org.id)
    sandboxed = client.post(post, json={"identity": "bob", "sandbox": True}, headers=h)
    assert sandboxed.headers["x-sandbox"] == "true"
    assert _stored(server, assert_ok(sandboxed)["token"]) is None
    assert customer_counts(server, org.id) == before

    assert_ok(client.patch(f"/v3/channels/voice/{number}", json={"status": "INACTIVE"}, headers=h))
    off = client.post(post, json={"identity": "ann", "number": number}, headers=h)
    assert "number" in assert_error(off, "VALIDATION_001")["details"]


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_twilio_access_token(database_url: str) -> None:
    live = LiveServer(
        build_app(
            database_url,
            voice_provider="twilio",
            twilio_account_sid="AC" + "1" * 32,
            twilio_api_key_sid="SK" + "2" * 32,
            twilio_api_key_secret="key-secret",
            twilio_twiml_app_sid="AP" + "3" * 32,
        )
    ).start()
    try:
        org = make_org(live)
        with httpx.Client(base_url=live.base_url, headers={"x-api-key": org.live_key}) as http:
            none_yet = http.post("/v3/voice/tokens", json={"identity": "ann"})
            assert_error(none_yet, "VOICE_001")
            test_key = {"x-api-key": org.test_key}
            number = assert_ok(
                http.post("/v3/channels/voice", json={"callback_url": URL}, headers=test_key), 201
            )["number"]
            simulated = assert_ok(
                http.post("/v3/voice/tokens", json={"identity": "ann"}, headers=test_key)
            )
            assert simulated["token"].startswith("sentd_vt_")
            mine = f"+1415{secrets.randbelow(800) + 200}{secrets.randbelow(9000) + 1000}"
            _insert_live_number(live, org.id, mine)
            minted = assert_ok(http.post("/v3/voice/tokens", json={"identity": "ann", "ttl": 120}))
        assert number != minted["number"] == mine
        header, payload, signature = minted["token"].split(".")
        expected = hmac.new(b"key-secret", f"{header}.{payload}".encode(), hashlib.sha256).digest()
        assert hmac.compare_digest(_b64decode(signature), expected)
        assert json.loads(_b64decode(header)) == {
            "alg": "HS256",
            "typ": "JWT",
            "cty": "twilio-fpa;v=1",
        }
        claims = json.loads(_b64decode(payload))
        assert claims["iss"] == "SK" + "2" * 32 and claims["sub"] == "AC" + "1" * 32
        assert claims["exp"] - claims["iat"] == 120
        assert claims["exp"] == int(datetime.fromisoformat(minted["expires_at"]).timestamp())
        grants = claims["grants"]
        assert parse_provider_identity(grants["identity"]) == (org.id, True, "ann")
        assert grants["voice"]["outgoing"]["application_sid"] == "AP" + "3" * 32
        assert grants["voice"]["incoming"] == {"allow": True}
    finally:
        live.stop()


def _insert_live_number(live: LiveServer, customer_id: Any, number: str) -> None:
    from sentd.db.repos import voice_numbers
    from sentd.db.scope import Scope

    async def go() -> None:
        async with _db(live).transaction() as conn:
            scope = Scope(customer_id, True)
            now = live.app.state.clock.now()
            await voice_numbers.insert(
                conn,
                scope,
                number=number,
                callback_url=URL,
                callback_secret="whsec_" + base64.b64encode(b"x" * 32).decode(),
                provider="twilio",
                provider_ref="PN" + "4" * 32,
                now=now,
            )
            await voice_numbers.update(conn, scope, number, {"default_for_app_calls": True}, now)

    live.run(go())
