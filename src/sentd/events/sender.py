"""One signed POST of an event to a webhook endpoint: Standard Webhooks signatures under Sent's
header names. The worker and `POST /v3/webhooks/{id}/test` both send through here."""

from __future__ import annotations

import email.utils
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httptools
import httpx
import orjson
from standardwebhooks import Webhook

from sentd.events.catalog import family_of
from sentd.events.http1 import ConnectionClosed, Connections, decode
from sentd.net import ForbiddenDestination, check_resolved

RESPONSE_BODY_LIMIT = 2048
USER_AGENT = "sentd-webhooks/1"


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
        "user-agent": USER_AGENT,
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
    client: httpx.AsyncClient | Connections,
    *,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout_s: float,
    allow_private: bool,
) -> Outcome:
    """POST once; redirects are not followed (a 3xx is a failure)."""
    try:
        await check_resolved(url, allow_private)
        if isinstance(client, Connections):
            status, answered, raw = await client.post(url, body, headers, timeout_s)
            text = decode(raw, answered.get("content-type"))[:RESPONSE_BODY_LIMIT]
            return Outcome(status, text, None, _retry_after(answered.get("retry-after")))
        response = await client.post(
            url, content=body, headers=headers, timeout=timeout_s, follow_redirects=False
        )
    except ForbiddenDestination as exc:
        return Outcome(None, None, f"destination refused: {exc}")
    except (httpx.TimeoutException, TimeoutError):
        return Outcome(None, None, f"no answer within {timeout_s:g} s")
    except (httpx.HTTPError, OSError, httptools.HttpParserError, ConnectionClosed) as exc:
        return Outcome(None, None, f"connection failed: {exc.__class__.__name__}: {exc}")
    text = response.text[:RESPONSE_BODY_LIMIT]
    return Outcome(
        response.status_code, text, None, _retry_after(response.headers.get("retry-after"))
    )
