"""All six `client.channels.voice.*` methods of the official SDK, default and strict, with test
and live keys."""

from __future__ import annotations

import pytest
import sent_dm

from tests.factories import make_org
from tests.live_server import LiveServer
from tests.sdk.conftest import SdkFactory
from tests.voice_callback import CallbackEndpoint


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("mode", ["test", "live"])
def test_every_voice_number_method(
    server: LiveServer, sdk: SdkFactory, strict: bool, mode: str
) -> None:
    org = make_org(server)
    client = sdk(org.test_key if mode == "test" else org.live_key, strict=strict)
    with CallbackEndpoint() as endpoint:
        first = client.channels.voice.create(callback_url=endpoint.url, area_code="212").data
        assert first is not None and first.number is not None
        assert first.number.startswith("+1212")
        assert first.status == "ACTIVE" and first.default_for_app_calls is True
        assert first.callback_secret is not None and first.callback_secret.startswith("whsec_")
        endpoint.secret = first.callback_secret

        second = client.channels.voice.create(callback_url=endpoint.url).data
        assert second is not None and second.number is not None
        assert second.default_for_app_calls is False  # a later number leaves the default alone

        fetched = client.channels.voice.retrieve(first.number).data
        assert fetched is not None and fetched.callback_url == endpoint.url
        assert "callback_secret" not in fetched.model_dump(exclude_unset=True)

        moved = client.channels.voice.update(second.number, default_for_app_calls=True).data
        assert moved is not None and moved.default_for_app_calls is True
        listed = client.channels.voice.list().data
        assert listed is not None
        assert [(n.number, n.default_for_app_calls) for n in listed] == [
            (first.number, False),
            (second.number, True),
        ]

        off = client.channels.voice.update(first.number, status="inactive").data
        assert off is not None and off.status == "INACTIVE"

        rotated = client.channels.voice.rotate_secret(second.number).data
        assert rotated is not None and rotated.callback_secret is not None
        assert rotated.callback_secret.startswith("whsec_")
        endpoint.secret = rotated.callback_secret
        endpoint.answer = {"action": {"action": "connect", "to": {"kind": "user", "value": "ann"}}}

        verdict = client.channels.voice.test(second.number).data
        assert verdict is not None and verdict.outcome == "ok", verdict
        assert verdict.answer == {
            "action": {
                "action": "connect",
                "to": {"kind": "user", "value": "ann"},
                "callerId": second.number,
                "record": False,
                "timeoutSeconds": 30,
            }
        }
        assert verdict.request is not None and verdict.request.url == endpoint.url
        assert verdict.response is not None and verdict.response.status_code == 200
        [question] = endpoint.questions
        assert question.verified and question.body["test"] is True
        assert question.body["callId"] == verdict.call_id

        with pytest.raises(sent_dm.NotFoundError) as raised:
            client.channels.voice.retrieve("+12025550199")
        assert isinstance(raised.value.body, dict)
        assert raised.value.body["error"]["code"] == "VOICE_001"
