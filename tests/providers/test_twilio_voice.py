"""Twilio Programmable Voice end to end over real HTTP: sentd against the local fake Twilio —
numbers bought and pointed at sentd, an inbound call routed by the customer's callback into
TwiML, answered, completed, priced and debited, recorded (the audio fetched from Twilio), hung
up through the REST API; every callback signed as Twilio signs."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator

import httpx
import pytest
import sent_dm

from tests.conftest import build_app
from tests.factories import balance_of, make_org
from tests.fakes.twilio_voice import AUDIO, FakeTwilioVoice
from tests.live_server import LiveServer
from tests.voice_callback import CallbackEndpoint
from tests.waiting import wait_until
from tests.webhook_receiver import WebhookReceiver

ACCOUNT, TOKEN = "AC" + "a" * 32, "voice-auth-token"
CALLER, CALLEE = "+14155550193", "+14155550192"


def _number() -> str:
    """A number no other test holds (a number carries one account's calls per mode)."""
    return f"+1415{secrets.randbelow(800) + 200}{secrets.randbelow(9000) + 1000}"


@pytest.fixture
def fake() -> Iterator[FakeTwilioVoice]:
    with FakeTwilioVoice({ACCOUNT: TOKEN}) as twilio:
        yield twilio


@pytest.fixture
def server(database_url: str, fake: FakeTwilioVoice) -> Iterator[LiveServer]:
    live = LiveServer(
        build_app(
            database_url,
            run_workers=True,
            voice_provider="twilio",
            twilio_api_base=fake.base_url,
            twilio_account_sid=ACCOUNT,
            twilio_auth_token=TOKEN,
            twilio_api_key_sid="SK" + "b" * 32,
            twilio_api_key_secret="api-key-secret",
            twilio_twiml_app_sid="AP" + "c" * 32,
            webhook_retry_base_s=0.1,
        )
    ).start()
    live.app.state.settings.public_url = live.base_url  # Twilio is told where sentd listens
    yield live
    live.stop()


def test_a_call_through_twilio(server: LiveServer, fake: FakeTwilioVoice) -> None:
    org = make_org(server)
    fake.available = ["+12125550180", "+13125550181"]
    line, stray = _number(), _number()
    fake.held(line)
    with (
        CallbackEndpoint() as endpoint,
        WebhookReceiver() as receiver,
        sent_dm.Sent(base_url=server.base_url, api_key=org.live_key) as client,
    ):
        bought = client.channels.voice.create(callback_url=endpoint.url, area_code="212").data
        assert bought is not None and bought.number == "+12125550180"
        assert (
            fake.incoming["+12125550180"]["voice_url"]
            == f"{server.base_url}/providers/twilio/voice"
        )
        held = client.channels.voice.create(callback_url=endpoint.url, number=line).data
        assert held is not None and held.callback_secret is not None
        assert fake.incoming[line]["voice_url"].endswith("/providers/twilio/voice")
        with pytest.raises(sent_dm.BadRequestError):
            client.channels.voice.create(callback_url=endpoint.url, number="+14155550199")
        endpoint.secret = held.callback_secret
        hook = client.webhooks.create(
            display_name="Calls", endpoint_url=receiver.url, event_types=["call"]
        ).data
        assert hook is not None
        receiver.secret = hook.signing_secret
        before = balance_of(server, org.id, livemode=True)

        # A call that is answered, lasts 61 s and is recorded.
        endpoint.answer = {
            "action": {
                "action": "connect",
                "to": {"kind": "number", "value": CALLEE},
                "record": True,
            }
        }
        sid, twiml, answered = fake.ring(line, CALLER)
        assert answered.status_code == 200 and answered.headers["content-type"].startswith(
            "text/xml"
        )
        dial = twiml.find("Dial")
        assert dial is not None and dial.attrib["callerId"] == line
        assert dial.attrib["record"] == "record-from-answer"
        number = dial.find("Number")
        assert number is not None and number.text == CALLEE
        [question] = endpoint.questions
        assert question.verified and question.body["from"] == {"kind": "number", "value": CALLER}
        call_id = question.body["callId"]
        ringing = client.voice.calls.retrieve(call_id).data
        assert ringing is not None and ringing.status == "RINGING"

        assert fake.answer(sid, twiml).status_code == 204
        assert fake.end_dial(sid, twiml, "completed", 61).status_code == 200
        _, ready = fake.record_ready(sid, twiml, 61)
        assert ready.status_code == 204
        assert (
            fake.record_ready(sid, twiml, 61)[1].status_code == 204
        )  # another one: a 2nd recording
        done = client.voice.calls.retrieve(call_id).data
        assert done is not None and done.status == "COMPLETED" and done.duration_seconds == 61
        assert done.price == pytest.approx(0.028)
        assert done.timeline is not None
        assert [t.status for t in done.timeline] == [
            "INITIATED",
            "RINGING",
            "ANSWERED",
            "COMPLETED",
        ]
        assert balance_of(server, org.id, livemode=True) == before - 28_000
        recordings = client.voice.calls.list_recordings(call_id).data or None
        assert recordings is not None and recordings.recordings
        first = recordings.recordings[0]
        assert first.download_url is not None
        audio = httpx.get(first.download_url)
        assert audio.status_code == 200 and audio.content == AUDIO

        events = receiver.wait_for(5)
        assert all(e.verified for e in events)
        names = sorted(e.body["event"] for e in events)
        assert names == sorted(
            ["call.initiated", "call.answered", "call.completed"] + ["call.recording_ready"] * 2
        )

        # The callback rejects: Twilio is told to reject.
        endpoint.answer = {"action": {"action": "reject"}}
        _, rejected, _ = fake.ring(line, CALLER)
        assert rejected.find("Reject") is not None
        rejected_id = endpoint.questions[-1].body["callId"]
        assert (
            wait_until(lambda: client.voice.calls.retrieve(rejected_id).data).status == "REJECTED"
        )

        # The dialled number is busy, or never answers: unanswered ends, and a repeat of the
        # callback changes nothing.
        endpoint.answer = {
            "action": {"action": "connect", "to": {"kind": "number", "value": CALLEE}}
        }
        for dial_status, status, reason in (
            ("busy", "REJECTED", "rejected"),
            ("no-answer", "NO_ANSWER", "no_answer"),
        ):
            sid, twiml, _ = fake.ring(line, CALLER)
            assert fake.end_dial(sid, twiml, dial_status, 0).status_code == 200
            assert fake.end_dial(sid, twiml, "completed", 9).status_code == 200
            unanswered = client.voice.calls.retrieve(endpoint.questions[-1].body["callId"]).data
            assert unanswered is not None
            assert (unanswered.status, unanswered.failure_reason) == (status, reason)
            assert unanswered.duration_seconds == 0 and unanswered.price is None

        # Hung up through the API: Twilio's REST API ends the call.
        endpoint.answer = {"action": {"action": "connect", "to": {"kind": "user", "value": "ann"}}}
        sid, twiml, _ = fake.ring(line, CALLER)
        client_noun = twiml.find("Dial/Client")
        assert client_noun is not None and client_noun.text is not None
        assert client_noun.text.endswith("_l_ann")
        live_id = endpoint.questions[-1].body["callId"]
        fake.answer(sid, twiml)
        client.voice.calls.record(live_id, action="start")
        assert fake.calls[sid]["recording"] is True
        client.voice.calls.hangup(live_id)
        assert fake.calls[sid]["status"] == "completed"
        hung = client.voice.calls.retrieve(live_id).data
        assert hung is not None and hung.status == "COMPLETED"
        assert fake.end_dial(sid, twiml, "completed", 5).status_code == 200  # late: no change
        again = client.voice.calls.retrieve(live_id).data
        assert again is not None and again.duration_seconds == hung.duration_seconds

        # Unknown numbers are rejected; a wrong signature changes nothing.
        fake.held(stray)
        fake.incoming[stray]["voice_url"] = f"{server.base_url}/providers/twilio/voice"
        assert fake.ring(stray, CALLER)[1].find("Reject") is not None
        refused = fake.ring(line, CALLER, signature="bad")[2]
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "PROVIDER_001"


def test_an_app_user_calls_out_through_twilio(server: LiveServer, fake: FakeTwilioVoice) -> None:
    """The token's grant identity is what Twilio sends back as `From: client:…`; sentd maps it
    to the account, routes through the bound number and asks its callback."""
    org = make_org(server)
    line = _number()
    fake.held(line)
    with (
        CallbackEndpoint() as endpoint,
        sent_dm.Sent(
            base_url=server.base_url, api_key=org.live_key, _strict_response_validation=True
        ) as client,
    ):
        created = client.channels.voice.create(callback_url=endpoint.url, number=line).data
        assert created is not None and created.callback_secret is not None
        endpoint.secret = created.callback_secret
        token = client.voice.tokens.create(identity="agent_7").data
        assert token is not None and token.token is not None and token.number == line
        payload = token.token.split(".")[1]
        grants = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["grants"]
        endpoint.answer = {
            "action": {"action": "connect", "to": {"kind": "number", "value": CALLEE}}
        }
        sid = "CA" + secrets.token_hex(16)
        params = [
            ("AccountSid", ACCOUNT),
            ("CallSid", sid),
            ("From", f"client:{grants['identity']}"),
            ("To", CALLEE),
            ("CallStatus", "ringing"),
            ("Direction", "inbound"),
        ]
        answered = fake._post(f"{server.base_url}/providers/twilio/voice", params)
        assert answered.status_code == 200
        assert "<Number" in answered.text and CALLEE in answered.text
        [question] = endpoint.questions
        assert question.verified and question.body["direction"] == "outbound"
        assert question.body["from"] == {"kind": "user", "value": "agent_7"}
        call = client.voice.calls.retrieve(question.body["callId"]).data
        assert call is not None and call.status == "RINGING" and call.number == line
        assert call.from_ is not None and call.from_.kind == "user"


def test_a_conference_room_on_twilio(server: LiveServer, fake: FakeTwilioVoice) -> None:
    org = make_org(server)
    line = _number()
    fake.held(line)
    with (
        CallbackEndpoint() as endpoint,
        sent_dm.Sent(base_url=server.base_url, api_key=org.live_key) as client,
    ):
        created = client.channels.voice.create(callback_url=endpoint.url, number=line).data
        assert created is not None and created.callback_secret is not None
        endpoint.secret = created.callback_secret
        endpoint.answer = {
            "action": {"action": "connect", "to": {"kind": "conference", "value": "desk"}}
        }
        sid, twiml, _ = fake.ring(line, CALLER)
        room = twiml.find("Dial/Conference")
        assert room is not None and room.text == f"{org.id.hex}-desk"
        host = endpoint.questions[-1].body["callId"]
        participants = client.voice.calls.participants
        with pytest.raises(sent_dm.ConflictError):  # the room has not started at Twilio yet
            participants.add(host, to={"kind": "number", "value": CALLEE})
        fake.answer(sid, twiml)

        added = participants.add(host, to={"kind": "user", "value": "bo"}).data
        assert added is not None and added.id is not None
        [(leg, record)] = [(k, v) for k, v in fake.participants.items() if k != sid]
        assert record["to"].startswith("client:") and record["to"].endswith("_l_bo")
        assert record["from"] == line
        assert fake.participant_status(leg, "in-progress").status_code == 204
        assert [p.id for p in participants.list(host).data or []] == [host, added.id]
        # A premium-rate number is recorded FAILED and never dialled at Twilio.
        blocked = participants.add(host, to={"kind": "number", "value": "+19002345678"}).data
        assert blocked is not None and blocked.status == "FAILED"
        assert blocked.failure_reason == "destination_blocked"
        assert len(fake.participants) == 2

        participants.update(added.id, id=host, muted=True)
        assert fake.participants[leg]["muted"] is True
        participants.remove(added.id, id=host)
        assert fake.participants[leg]["in_room"] is False
        gone = client.voice.calls.retrieve(added.id).data
        assert gone is not None and gone.status == "COMPLETED"
        assert fake.participant_status(leg, "completed", 30).status_code == 204  # late: ignored
        again = client.voice.calls.retrieve(added.id).data
        assert again is not None and again.duration_seconds == gone.duration_seconds

        participants.remove_all(host)
        assert fake.participants[sid]["in_room"] is False
        ended = client.voice.calls.retrieve(host).data
        assert ended is not None and ended.status == "COMPLETED"
