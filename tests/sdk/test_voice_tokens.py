"""`client.voice.tokens.create` through the official SDK, default and strict, test and live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sent_dm

from tests.factories import make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("mode", ["test", "live"])
def test_mint_tokens(server: LiveServer, sdk: SdkFactory, strict: bool, mode: str) -> None:
    org = make_org(server)
    client = sdk(org.test_key if mode == "test" else org.live_key, strict=strict)
    with pytest.raises(sent_dm.NotFoundError) as raised:
        client.voice.tokens.create(identity="agent_1")
    assert isinstance(raised.value.body, dict)
    assert raised.value.body["error"]["code"] == "VOICE_001"

    first = client.channels.voice.create(callback_url="http://127.0.0.1:9/voice").data
    second = client.channels.voice.create(callback_url="http://127.0.0.1:9/voice").data
    assert first is not None and second is not None and second.number is not None

    before = datetime.now(UTC)
    token = client.voice.tokens.create(identity="agent_1").data
    assert token is not None and token.token is not None
    assert token.identity == "agent_1" and token.number == first.number
    assert token.expires_at is not None
    assert timedelta(seconds=590) < token.expires_at - before < timedelta(seconds=610)

    bound = client.voice.tokens.create(identity="agent_1", number=second.number, ttl=3600).data
    assert bound is not None and bound.number == second.number and bound.token != token.token

    with pytest.raises(sent_dm.BadRequestError) as bad:
        client.voice.tokens.create(identity="agent 1")
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["error"]["details"] == {
        "identity": ["Letters, digits, hyphens and underscores only, 1-200 characters"]
    }
