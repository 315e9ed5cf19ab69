"""One signed POST of an event to a webhook endpoint: Standard Webhooks signatures under Sent's
header names. The worker and `POST /v3/webhooks/{id}/test` both send through here."""

from __future__ import annotations

import email.utils
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks import Webhook

from sentd.events.catalog import family_of
from sentd.outbound import ForbiddenDestination, OutboundClient, OutboundError

RESPONSE_BODY_LIMIT = 2048


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int | None
    body: str | None
    error: str | None
    retry_after_s: float | None = None

    @property
    def succeeded(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410

    def describe(self) -> str:
        if self.succeeded:
            return f"The endpoint answered {self.status}"
        if self.status is not None:
            return f"The endpoint answered {self.status}"
        return f"The delivery failed: {self.error}"


def signed_request(
    *,
    secret: str,
    webhook_id: uuid.UUID,
    event_id: uuid.UUID,
    event_type: str,
    envelope: dict[str, Any],
    now: datetime,
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(envelope)
    msg_id = str(webhook_id)
    timestamp = now.astimezone(UTC)
    signature = Webhook(secret).sign(msg_id, timestamp, body.decode())
    headers = {
        "content-type": "application/json",
        "x-webhook-id": msg_id,
        "x-webhook-timestamp": str(int(timestamp.timestamp())),
        "x-webhook-signature": signature,
        "x-webhook-event-id": str(event_id),
        "x-webhook-event-type": family_of(event_type).header,
    }
    return body, headers


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


async def send(
    client: OutboundClient,
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
) -> Outcome:
    """POST once (the client follows no redirect: a 3xx is a failure). Whatever goes wrong is
    the outcome's `error`; this never raises (but for cancellation)."""
    try:
        answer = await client.request(
            "POST", url, data=body, headers=headers, timeout_s=timeout_s, body_limit=8 * 1024
        )
    except ForbiddenDestination as exc:
        return Outcome(None, None, f"destination refused: {exc}")
    except OutboundError as exc:
        return Outcome(None, None, str(exc) if exc.timed_out else f"connection failed: {exc}")
    except Exception as exc:  # a bug must cost this delivery only
        return Outcome(None, None, f"sending failed: {type(exc).__name__}: {exc}")
    return Outcome(
        answer.status,
        answer.text()[:RESPONSE_BODY_LIMIT],
        None,
        _retry_after(answer.headers.get("retry-after")),
    )
