"""A delivery receipt that arrives before the dispatcher has recorded the message as sent is
kept and applied once it has."""

from __future__ import annotations

import time
import uuid

import httpx

from sentd.providers.base import OutboundMessage, Submission
from sentd.services import lifecycle
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


class FastProvider:
    """Answers the submission, and its 'delivered' receipt arrives before SENT is committed."""

    name = "twilio"  # stands in for the configured SMS provider
    channels = frozenset({"sms"})

    def __init__(self, server: LiveServer) -> None:
        self.server = server

    async def submit(self, message: OutboundMessage) -> Submission:
        provider_id = f"fast-{message.id}"
        db = self.server.app.state.db
        async with db.transaction() as conn:
            await lifecycle.record_provider_status(
                conn,
                provider="twilio",
                provider_message_id=provider_id,
                status="DELIVERED",
                now=self.server.app.state.clock.now(),
            )
        return Submission(provider_id)


def test_early_delivery_receipt_is_applied(database_url: str) -> None:
    server = LiveServer(build_app(database_url, run_workers=True, sms_provider="twilio")).start()
    try:
        server.app.state.providers.register(FastProvider(server))
        org = make_org(server)
        with httpx.Client(base_url=server.base_url) as client:
            headers = {"x-api-key": org.live_key}
            body = {"to": ["+14155550220"], "text": "quick", "channel": ["sms"]}
            message_id = assert_ok(client.post("/v3/messages", json=body, headers=headers), 202)[
                "recipients"
            ][0]["message_id"]
            deadline = time.monotonic() + 10
            while True:
                data = assert_ok(client.get(f"/v3/messages/{message_id}", headers=headers))
                if data["status"] == "DELIVERED":
                    break
                assert time.monotonic() < deadline, data["status"]
                time.sleep(0.05)
            assert [e["status"] for e in data["events"]] == [
                "QUEUED",
                "ACCEPTED",
                "SENT",
                "DELIVERED",
            ]
            assert uuid.UUID(data["id"])
    finally:
        server.stop()
