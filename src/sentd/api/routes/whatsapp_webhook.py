"""`/providers/whatsapp/webhook`: what Meta's WhatsApp Cloud API posts to sentd.

* `GET` is Meta's subscription handshake: with `hub.mode=subscribe` and the `hub.verify_token`
  sentd is configured with (`SENTD_WHATSAPP_VERIFY_TOKEN`), answer `hub.challenge` as plain text;
  otherwise 403 `PROVIDER_002`.
* `POST` carries `{"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes":
  [{"field": …, "value": {…}}]}]}`, signed: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the
  raw body under the app secret>` (`SENTD_WHATSAPP_APP_SECRET`). A missing or wrong signature is
  401 `PROVIDER_001` and changes nothing. Each change goes to the handler of its `field` in the
  table the app was built with (`app.state.whatsapp_handlers`, from `sentd.wiring`); all of one
  delivery run in one transaction, so a failure answers 500 and Meta delivers it again (handlers
  must tolerate repeats). Fields without a handler are acknowledged and ignored.

The handlers live with the provider (`sentd.providers.whatsapp_webhook`, `whatsapp_messages`):
`messages` (inbound messages and delivery statuses) and `message_template_status_update`
(template verdicts).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response

from sentd.api.envelope import ok
from sentd.db.database import Database
from sentd.errors.exceptions import ApiError
from sentd.providers.whatsapp_templates import WhatsAppConfig
from sentd.providers.whatsapp_webhook import Change, Handler

log = logging.getLogger("sentd.providers.whatsapp")

router = APIRouter(prefix="/providers/whatsapp", tags=["providers"])

SIGNATURE_HEADER = "x-hub-signature-256"


def signature_of(secret: str, body: bytes) -> str:
    """The `X-Hub-Signature-256` value Meta sends for `body`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_signature(config: WhatsAppConfig, header: str | None, body: bytes) -> None:
    if not config.app_secret:
        raise ApiError(
            "PROVIDER_001",
            {SIGNATURE_HEADER: ["SENTD_WHATSAPP_APP_SECRET is not set: sentd cannot check it"]},
        )
    if not header:
        raise ApiError("PROVIDER_001", {SIGNATURE_HEADER: ["The signature header is missing"]})
    expected = signature_of(config.app_secret, body).encode()
    if not hmac.compare_digest(header.strip().encode(), expected):
        raise ApiError("PROVIDER_001", {SIGNATURE_HEADER: ["The signature does not match"]})


@router.get("")
@router.get("/webhook")
async def verify_subscription(
    request: Request,
    mode: Annotated[str | None, Query(alias="hub.mode")] = None,
    verify_token: Annotated[str | None, Query(alias="hub.verify_token")] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge")] = None,
) -> Response:
    config = WhatsAppConfig.from_settings(request.app.state.settings)
    expected = config.verify_token
    if (
        mode != "subscribe"
        or not expected
        or verify_token is None
        or not hmac.compare_digest(verify_token.encode(), expected.encode())
    ):
        raise ApiError("PROVIDER_002", {"hub.verify_token": ["Not the configured verify token"]})
    return PlainTextResponse(challenge or "")


def _changes(payload: Any, received_at: datetime) -> list[Change]:
    if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
        raise ApiError("VALIDATION_001", {"entry": ["Expected Meta's webhook shape: entry[]"]})
    changes: list[Change] = []
    for entry in payload["entry"]:
        if not isinstance(entry, dict):
            continue
        waba_id = str(entry["id"]) if entry.get("id") is not None else None
        for change in entry.get("changes") or []:
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                field = str(change.get("field") or "")
                changes.append(Change(waba_id, field, change["value"], received_at))
    return changes


@router.post("")
@router.post("/webhook")
async def receive(request: Request) -> Response:
    body = await request.body()
    config = WhatsAppConfig.from_settings(request.app.state.settings)
    _check_signature(config, request.headers.get(SIGNATURE_HEADER), body)
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ApiError("VALIDATION_001", {"body": ["The body is not valid JSON"]}) from exc
    changes = _changes(payload, request.app.state.clock.now())
    handled = ignored = 0
    db: Database = request.app.state.db
    handlers: Mapping[str, Handler] = request.app.state.whatsapp_handlers
    async with db.transaction() as conn:
        for change in changes:
            handler = handlers.get(change.field)
            if handler is None:
                log.info("WhatsApp webhook: no handler for field %r", change.field)
                ignored += 1
                continue
            await handler(conn, change)
            handled += 1
    return ok(request, {"handled": handled, "ignored": ignored})
