"""Calls played end to end by the simulator engine in test and live mode, driven and read
through the official SDK (default and strict): the timeline, the price and the debit, the
recording and its signed link, the call.* webhooks, the magic numbers, conference rooms."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sent_dm

from sentd.services import calls
from tests.conftest import build_app
from tests.factories import Org, _db, balance_of, make_org
from tests.live_server import LiveServer
from tests.voice_callback import CallbackEndpoint
from tests.waiting import wait_until
from tests.webhook_receiver import WebhookReceiver

CALLER = "+14155550170"


@pytest.fixture(scope="module")
def voice_server(database_url: str) -> Iterator[LiveServer]:
    live = LiveServer(
        build_app(
            database_url,
            run_workers=True,
            simulator_latency_ms=50,
            voice_simulator_call_s=600,
            voice_callback_timeout_s=1,
            webhook_retry_base_s=0.1,
        )
    ).start()
    yield live
    live.stop()


class Line:
    """An org with a voice number whose callback is `endpoint`, and an SDK client."""

    def __init__(
        self, server: LiveServer, endpoint: CallbackEndpoint, *, strict: bool, live: bool
    ) -> None:
        self.server = server
        self.org: Org = make_org(server)
        self.live = live
        self.client = sent_dm.Sent(
            base_url=server.base_url,
            api_key=self.org.live_key if live else self.org.test_key,
            _strict_response_validation=strict,
        )
        created = self.client.channels.voice.create(callback_url=endpoint.url).data
        assert created is not None and created.number and created.callback_secret
        endpoint.secret = created.callback_secret
        self.number: str = created.number

    def call_in(self, caller: str | None = CALLER) -> str:
        row = self.server.run(
            calls.place_inbound(
                _db(self.server),
                livemode=self.live,
                to=self.number,
                caller=caller,
                now=self.server.app.state.clock.now(),
            )
        )
        return str(row["id"])

    def wait_status(self, call_id: str, *statuses: str) -> Any:
        def read() -> Any:
            data = self.client.voice.calls.retrieve(call_id).data
            return data if data is not None and data.status in statuses else None

        return wait_until(read)


def _connect(kind: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"action": {"action": "connect", "to": {"kind": kind, "value": value}, **extra}}


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("live", [False, True])
def test_a_full_call(voice_server: LiveServer, strict: bool, live: bool) -> None:
    with CallbackEndpoint() as endpoint, WebhookReceiver() as receiver:
        endpoint.answer = _connect("number", "+442079460123", record=True)
        line = Line(voice_server, endpoint, strict=strict, live=live)
        hook = line.client.webhooks.create(
            display_name="Calls", endpoint_url=receiver.url, event_types=["call"]
        ).data
        assert hook is not None
        receiver.secret = hook.signing_secret
        before = balance_of(voice_server, line.org.id, livemode=live)

        call_id = line.call_in()
        answered = line.wait_status(call_id, "ANSWERED")
        assert answered.duration_seconds is None and answered.price is None
        [question] = endpoint.questions
        assert question.verified and question.body["callId"] == call_id
        assert question.body["direction"] == "inbound" and question.body["test"] is False
        assert question.body["from"] == {"kind": "number", "value": CALLER}

        # Forward only (events stay due), and little: questions are signed with this clock and
        # receivers refuse timestamps more than 5 minutes off (4 x 61 s in this module).
        voice_server.app.state.clock.advance(timedelta(seconds=61))
        line.client.voice.calls.hangup(call_id)
        done = line.client.voice.calls.retrieve(call_id).data
        assert done is not None and done.status == "COMPLETED"
        assert done.duration_seconds is not None and 61 <= done.duration_seconds < 66
        assert done.price == pytest.approx(0.05)  # two started minutes to GB at 0.025
        assert done.failure_reason is None and done.recording_available is True
        assert done.from_ is not None and done.from_.value == CALLER
        assert done.number == line.number and done.direction == "inbound"
        assert done.mode == "inapp"
        assert done.timeline is not None
        assert [t.status for t in done.timeline] == [
            "INITIATED",
            "RINGING",
            "ANSWERED",
            "COMPLETED",
        ]
        assert balance_of(voice_server, line.org.id, livemode=live) == before - 50_000

        recordings = line.client.voice.calls.list_recordings(call_id).data
        assert recordings is not None and recordings.recordings is not None
        [recording] = recordings.recordings
        assert recording.download_url is not None and recording.url_expires_at is not None
        downloaded = httpx.get(recording.download_url)
        assert downloaded.status_code == 200 and downloaded.headers["content-type"] == "audio/mpeg"
        assert downloaded.content[:2] == b"\xff\xfb"
        tampered = recording.download_url[:-4] + "0000"
        assert httpx.get(tampered).status_code == 403

        deliveries = receiver.wait_for(4)
        assert all(d.verified for d in deliveries)
        by_event = {d.body["event"]: d.body for d in deliveries}
        assert set(by_event) == {
            "call.initiated",
            "call.answered",
            "call.completed",
            "call.recording_ready",
        }
        completed = by_event["call.completed"]["payload"]
        assert completed["call_id"] == call_id and completed["channel"] == "voice"
        assert completed["duration_seconds"] == done.duration_seconds
        assert completed["price"] == pytest.approx(0.05)
        assert "reason" not in completed and "recording_id" not in completed
        assert set(by_event["call.initiated"]["payload"]) == {
            "call_id",
            "account_id",
            "channel",
            "number",
            "updated_at",
        }
        ready = by_event["call.recording_ready"]["payload"]
        assert ready["recording_id"] == recording.recording_id
        sdk_event = sent_dm.types.CallEvent.model_validate(by_event["call.completed"])
        assert sdk_event.payload is not None and sdk_event.payload.call_id == call_id

        # Listing: newest first, no timeline; filters.
        second = line.call_in(None)
        line.wait_status(second, "ANSWERED")
        line.client.voice.calls.hangup(second)
        listed = list(line.client.voice.calls.list())
        assert [c.id for c in listed] == [second, call_id]
        assert all(c.timeline is None for c in listed)
        assert listed[0].from_ is not None and listed[0].from_.kind == "anonymous"
        assert [c.id for c in line.client.voice.calls.list(status="completed")] == [second, call_id]
        assert list(line.client.voice.calls.list(direction="outbound")) == []
        assert [
            c.id for c in line.client.voice.calls.list(number=line.number, to=done.started_at)
        ] == [call_id]
        assert [c.id for c in line.client.voice.calls.list(from_=done.started_at)] == [
            second,
            call_id,
        ]

        with pytest.raises(sent_dm.ConflictError) as ended:
            line.client.voice.calls.hangup(call_id)
        assert isinstance(ended.value.body, dict)
        assert ended.value.body["error"]["code"] == "VOICE_003"
        with pytest.raises(sent_dm.ConflictError):
            line.client.voice.calls.record(call_id, action="start")
        with pytest.raises(sent_dm.NotFoundError):
            line.client.voice.calls.retrieve(str(uuid.uuid4()))
        line.client.close()


@pytest.mark.parametrize(
    ("answer", "status", "reason"),
    [
        (_connect("number", "+14155550001"), "FAILED", None),
        (_connect("number", "+14155550002"), "NO_ANSWER", "no_answer"),
        (_connect("number", "+14155550003"), "REJECTED", "rejected"),
        ({"action": {"action": "reject"}}, "REJECTED", "rejected"),
        (_connect("number", "+19002345678"), "FAILED", "destination_blocked"),
        ({"action": {"action": "voicemail"}}, "FAILED", "invalid_answer"),
        ("not json", "FAILED", "invalid_answer"),
    ],
)
def test_unanswered_ends(
    voice_server: LiveServer, answer: Any, status: str, reason: str | None
) -> None:
    with CallbackEndpoint() as endpoint, WebhookReceiver() as receiver:
        if answer == "not json":
            endpoint.raw = b"<xml/>"
        else:
            endpoint.answer = answer
        line = Line(voice_server, endpoint, strict=True, live=False)
        hook = line.client.webhooks.create(
            display_name="Calls", endpoint_url=receiver.url, event_types=["call.failed"]
        ).data
        assert hook is not None
        receiver.secret = hook.signing_secret
        before = balance_of(voice_server, line.org.id, livemode=False)
        call_id = line.call_in()
        ended = line.wait_status(call_id, status)
        assert ended.failure_reason == reason and ended.price is None
        assert ended.duration_seconds == 0 and ended.ended_at is not None
        [failed] = receiver.wait_for(1)
        assert failed.body["event"] == "call.failed"
        if reason is None:
            assert "reason" not in failed.body["payload"]
        else:
            assert failed.body["payload"]["reason"] == reason
        assert balance_of(voice_server, line.org.id, livemode=False) == before
        line.client.close()


def test_callback_timeout_and_missing_callback(voice_server: LiveServer) -> None:
    with CallbackEndpoint() as endpoint:
        endpoint.delay_s = 3
        line = Line(voice_server, endpoint, strict=False, live=False)
        call_id = line.call_in()
        assert line.wait_status(call_id, "FAILED").failure_reason == "callback_timeout"
        line.client.channels.voice.update(line.number, callback_url=None)
        second = line.call_in()
        rejected = line.wait_status(second, "REJECTED")
        assert rejected.failure_reason == "callback_not_configured"
        line.client.close()


def test_insufficient_balance(voice_server: LiveServer) -> None:
    with CallbackEndpoint() as endpoint:
        endpoint.answer = _connect("number", "+14155550180")
        line = Line(voice_server, endpoint, strict=False, live=False)
        drain = balance_of(voice_server, line.org.id, livemode=False)
        from tests.factories import credit

        credit(voice_server, line.org.id, -drain + 10_000, livemode=False)  # under one minute
        call_id = line.call_in()
        failed = line.wait_status(call_id, "FAILED")
        assert failed.failure_reason == "insufficient_balance"
        assert balance_of(voice_server, line.org.id, livemode=False) == 10_000
        line.client.close()


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("live", [False, True])
def test_conference_room(voice_server: LiveServer, strict: bool, live: bool) -> None:
    with CallbackEndpoint() as endpoint:
        endpoint.answer = _connect("conference", "support-room")
        line = Line(voice_server, endpoint, strict=strict, live=live)
        host = line.call_in()
        line.wait_status(host, "ANSWERED")
        participants = line.client.voice.calls.participants
        [only] = participants.list(host).data or []
        assert (only.id, only.kind, only.value, only.muted) == (host, "number", CALLER, False)

        added = participants.add(host, to={"kind": "number", "value": "+14155550181"}).data
        assert added is not None and added.id is not None and added.status == "INITIATED"
        assert added.to is not None and added.to.value == "+14155550181"
        assert added.from_ is not None and added.from_.value == line.number
        line.wait_status(added.id, "ANSWERED")
        room = participants.list(host).data or []
        assert [p.id for p in room] == [host, added.id]

        participants.update(added.id, id=host, muted=True)
        room = participants.list(host).data or []
        assert [p.muted for p in room] == [False, True]

        with pytest.raises(sent_dm.NotFoundError) as missing:
            participants.update(str(uuid.uuid4()), id=host, muted=True)
        assert isinstance(missing.value.body, dict)
        assert missing.value.body["error"]["code"] == "VOICE_002"

        participants.remove(added.id, id=host)
        assert line.wait_status(added.id, "COMPLETED").price is not None
        assert [p.id for p in participants.list(host).data or []] == [host]

        participants.remove_all(host)
        line.wait_status(host, "COMPLETED")
        for command in (
            lambda: participants.list(host),
            lambda: participants.remove_all(host),
            lambda: participants.add(host, to={"kind": "user", "value": "ann"}),
        ):
            with pytest.raises(sent_dm.ConflictError):
                command()

        endpoint.answer = _connect("user", "agent_1")
        direct = line.call_in()
        line.wait_status(direct, "ANSWERED")
        with pytest.raises(sent_dm.ConflictError) as not_room:
            participants.list(direct)
        assert isinstance(not_room.value.body, dict)
        assert not_room.value.body["error"]["code"] == "VOICE_003"
        line.client.voice.calls.record(direct, action="start")
        line.client.voice.calls.record(direct, action="stop")
        recordings = line.client.voice.calls.list_recordings(direct).data
        assert recordings is not None and len(recordings.recordings or []) == 1
        line.client.voice.calls.hangup(direct)
        line.client.close()


def test_a_profile_call_is_paid_by_its_organization(voice_server: LiveServer) -> None:
    """A profile whose billing model is `organization`: its call is debited from the
    organization's balance, once, and the profile's own balance is untouched."""
    from sentd.db.repos import customers

    org = make_org(voice_server)

    async def profile() -> Any:
        async with _db(voice_server).transaction() as conn:
            return await customers.insert_profile(
                conn,
                organization_id=org.id,
                name="Desk",
                settings={"billing_model": "organization"},
            )

    desk = voice_server.run(profile())
    with (
        CallbackEndpoint() as endpoint,
        sent_dm.Sent(base_url=voice_server.base_url, api_key=org.test_key) as client,
    ):
        as_desk = str(desk["id"])
        endpoint.answer = _connect("number", "+14155550183")
        created = client.channels.voice.create(callback_url=endpoint.url, x_profile_id=as_desk).data
        assert created is not None and created.number and created.callback_secret
        endpoint.secret = created.callback_secret
        org_before = balance_of(voice_server, org.id, livemode=False)
        row = voice_server.run(
            calls.place_inbound(
                _db(voice_server),
                livemode=False,
                to=created.number,
                caller=CALLER,
                now=voice_server.app.state.clock.now(),
            )
        )
        assert row["customer_id"] == desk["id"]
        call_id = str(row["id"])

        def answered() -> bool:
            data = client.voice.calls.retrieve(call_id, x_profile_id=as_desk).data
            return data is not None and data.status == "ANSWERED"

        wait_until(answered)
        client.voice.calls.hangup(call_id, x_profile_id=as_desk)
        with pytest.raises(sent_dm.ConflictError):
            client.voice.calls.hangup(call_id, x_profile_id=as_desk)
        done = client.voice.calls.retrieve(call_id, x_profile_id=as_desk).data
        assert done is not None and done.price == pytest.approx(0.014)
    assert balance_of(voice_server, org.id, livemode=False) == org_before - 14_000
    assert balance_of(voice_server, desk["id"], livemode=False) == 0
    with sent_dm.Sent(base_url=voice_server.base_url, api_key=org.test_key) as org_client:
        assert list(org_client.voice.calls.list()) == []  # the profile's calls are its own


def test_a_step_left_by_a_dead_engine_is_taken_over(voice_server: LiveServer) -> None:
    """A call whose step was claimed by an engine that died (its lease, 5 s here, still running)
    is left alone until the lease runs out, then played by a live engine."""
    with CallbackEndpoint() as endpoint:
        endpoint.answer = {"action": {"action": "reject"}}
        line = Line(voice_server, endpoint, strict=False, live=False)

        async def place_claimed() -> str:
            from sentd.db.repos import customers

            async with _db(voice_server).transaction() as conn:  # placed and leased at once
                clock = voice_server.app.state.clock
                row = await calls.place(
                    conn,
                    customer=await customers.get(conn, line.org.id),
                    livemode=False,
                    direction="inbound",
                    caller=("number", CALLER),
                    callee=("number", line.number),
                    number=line.number,
                    plan={"step": "ask"},
                    now=clock.now(),
                )
                await conn.execute(
                    "UPDATE calls SET lease_until = $2 WHERE id = $1",
                    row["id"],
                    clock.now() + timedelta(seconds=5),
                )
                return str(row["id"])

        call_id = voice_server.run(place_claimed())
        # A call placed after it is played to its end: the engine ran, and left the leased one.
        later = line.call_in()
        line.wait_status(later, "REJECTED")
        assert [q.body["callId"] for q in endpoint.questions] == [later]
        held = line.client.voice.calls.retrieve(call_id).data
        assert held is not None and held.status == "INITIATED"
        assert line.wait_status(call_id, "REJECTED").failure_reason == "rejected"
        assert [q.body["callId"] for q in endpoint.questions] == [later, call_id]
        line.client.close()
