"""`/providers/twilio/status` and `/providers/twilio/inbound`: Twilio's callbacks.

Twilio POSTs form-encoded parameters and signs each request with `X-Twilio-Signature`: base64 of
HMAC-SHA1, keyed with the account's auth token (`SENTD_TWILIO_AUTH_TOKEN`), over the full URL it
called followed by every POST parameter, sorted by name, each written as name + value. sentd
rebuilds that URL as `{SENTD_PUBLIC_URL}{path}[?query]` when public_url is set (behind a proxy the
request's own URL is not the one Twilio called), else from the request itself; like Twilio's own
validators it also accepts the URL with the default port added or removed. A missing or wrong
signature, or no auth token to check it with, answers 401 `PROVIDER_001` and changes nothing.

* `POST /status` — a status callback (`MessageSid`, `MessageStatus`, `ErrorCode`, …):
  `sent` → SENT, `delivered` → DELIVERED, `read` → READ, `undelivered`/`failed` → FAILED with
  reason code `TWILIO_<ErrorCode>`; `queued`, `accepted`, `sending` and the rest are acknowledged
  and ignored. The lifecycle only moves forward, so late or repeated callbacks change nothing.
* `POST /inbound` — an incoming SMS/MMS (`MessageSid`, `From`, `To`, `Body`, `NumMedia`,
  `MediaUrl{i}`, `MediaContentType{i}`): stored for the customer owning `To` (with the keyword
  handling of `services.inbound`), answered with an empty TwiML `<Response/>` so Twilio replies
  nothing itself.

Each callback runs in one transaction; a failure answers 500 and nothing of it is kept.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from starlette.responses import Response

from sentd.api.envelope import ok
from sentd.db.database import Database
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError
from sentd.phones import InvalidPhoneNumber, normalize_e164
from sentd.services import inbound, lifecycle

log = logging.getLogger("sentd.providers.twilio")

router = APIRouter(prefix="/providers/twilio", tags=["providers"])

PROVIDER = "twilio"
SIGNATURE_HEADER = "x-twilio-signature"
SIGNATURE_ERROR = "PROVIDER_001"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'

STATUSES = {
    "sent": "SENT",
    "delivered": "DELIVERED",
    "read": "READ",
    "undelivered": "FAILED",
    "failed": "FAILED",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}


# -- signatures ----------------------------------------------------------------------------------


def signature_of(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The `X-Twilio-Signature` Twilio sends for a POST of `params` to `url`."""
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def url_to_sign(request: Request, public_url: str | None) -> str:
    """The URL Twilio called: the public base plus this path (and query), or the request's own."""
    if not public_url:
        return str(request.url)
    url = public_url.rstrip("/") + request.url.path
    query = request.url.query
    return f"{url}?{query}" if query else url


def _url_variants(url: str) -> list[str]:
    """`url`, and the same with its scheme's default port written out or left off."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None:
        return [url]
    try:
        port = parts.port
    except ValueError:
        return [url]
    if port is None:
        other = parts._replace(netloc=f"{parts.netloc}:{default}")
    elif port == default:
        other = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    else:
        return [url]
    return [url, urlunsplit(other)]


def _check_signature(
    auth_token: str | None, header: str | None, url: str, params: list[tuple[str, str]]
) -> None:
    if not auth_token:
        raise ApiError(
            SIGNATURE_ERROR,
            {SIGNATURE_HEADER: ["SENTD_TWILIO_AUTH_TOKEN is not set: sentd cannot check it"]},
        )
    if not header:
        raise ApiError(SIGNATURE_ERROR, {SIGNATURE_HEADER: ["The signature header is missing"]})
    given = header.strip().encode()
    for candidate in _url_variants(url):
        if hmac.compare_digest(given, signature_of(auth_token, candidate, params).encode()):
            return
    raise ApiError(SIGNATURE_ERROR, {SIGNATURE_HEADER: ["The signature does not match"]})


async def _verified_params(request: Request) -> dict[str, str]:
    """The POST parameters (first value of each), once the signature over them checks out."""
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    pairs: list[tuple[str, str]] = []
    if content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="replace")
    settings = request.app.state.settings
    _check_signature(
        settings.twilio_auth_token,
        request.headers.get(SIGNATURE_HEADER),
        url_to_sign(request, settings.public_url),
        pairs,
    )
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    return params


def _require(params: dict[str, str], *names: str) -> None:
    missing = {
        name: ["Twilio always sends this parameter"] for name in names if not params.get(name)
    }
    if missing:
        raise ApiError("VALIDATION_001", missing)


# -- status callbacks ----------------------------------------------------------------------------


@router.post("/status")
async def status_callback(request: Request) -> Response:
    params = await _verified_params(request)
    params.setdefault("MessageSid", params.get("SmsSid", ""))
    params.setdefault("MessageStatus", params.get("SmsStatus", ""))
    _require(params, "MessageSid", "MessageStatus")
    sid, twilio_status = params["MessageSid"], params["MessageStatus"].strip().lower()
    status = STATUSES.get(twilio_status)
    if status is None:
        log.info("Twilio %s: status %r needs no change", sid, twilio_status)
        return ok(request, {"recorded": False})
    reason_code = reason = None
    if status == "FAILED":
        error_code = params.get("ErrorCode", "").strip()
        reason_code = f"TWILIO_{error_code or twilio_status.upper()}"
        reason = params.get("ErrorMessage") or (
            f"Twilio reports the message {twilio_status}"
            + (f" (error {error_code})" if error_code else "")
        )
    db: Database = request.app.state.db
    async with db.transaction() as conn:
        recorded = await lifecycle.record_provider_status(
            conn,
            provider=PROVIDER,
            provider_message_id=sid,
            status=status,
            now=request.app.state.clock.now(),
            reason_code=reason_code,
            reason=reason,
        )
        if not recorded:
            await _note_foreign_sid(conn, sid, request.query_params.get("message_id"))
    return ok(request, {"recorded": recorded})


async def _note_foreign_sid(conn: Connection, sid: str, reference: str | None) -> None:
    """Log when a callback's SID is not the one stored for the sentd message its URL names: the
    trace of a message Twilio accepted twice (see `providers.twilio`), or of a callback that
    overtook the commit of its SID."""
    if not reference:
        return
    try:
        message_id = uuid.UUID(reference)
    except ValueError:
        return
    message = await lifecycle.message(conn, message_id)
    if message is not None and message.provider_message_id != sid:
        log.warning(
            "Twilio callback for %s names sentd message %s, which has Twilio id %s: a second "
            "submission of that message, or a callback ahead of its commit",
            sid,
            message_id,
            message.provider_message_id,
        )


# -- inbound messages ----------------------------------------------------------------------------


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


def _media(params: dict[str, str]) -> list[dict[str, Any]]:
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError:
        count = 0
    media: list[dict[str, Any]] = []
    for i in range(max(0, min(count, 20))):
        url = params.get(f"MediaUrl{i}")
        if url:
            media.append(
                {
                    "url": url,
                    "mime_type": params.get(f"MediaContentType{i}") or None,
                    "size_bytes": None,  # not downloaded: Twilio's media URLs may need its auth
                    "hash_sha256": None,
                }
            )
    return media


@router.post("/inbound")
async def inbound_message(request: Request) -> Response:
    params = await _verified_params(request)
    params.setdefault("MessageSid", params.get("SmsMessageSid", ""))
    _require(params, "MessageSid", "From", "To")
    sid, to_number = params["MessageSid"], params["To"].strip()
    try:
        from_number = normalize_e164(params["From"].strip())
    except InvalidPhoneNumber:
        # A short code or an alphanumeric sender: no contact can hold it, and Twilio would not
        # make a retry any different.
        log.warning("Twilio inbound %s from %r: not an E.164 number, ignored", sid, params["From"])
        return _twiml()
    media = _media(params)
    now = request.app.state.clock.now()
    db: Database = request.app.state.db
    async with db.transaction() as conn:
        owner = await inbound.owner_of_number(conn, to_number)
        if owner is None:
            log.warning(
                "Twilio inbound %s to %s: no customer owns that number, ignored", sid, to_number
            )
            return _twiml()
        stored = await inbound.receive(
            conn,
            customer_id=owner["id"],
            organization_id=owner["organization_id"],
            livemode=True,
            channel="mms" if media else "sms",
            from_number=from_number,
            to_number=to_number,
            text=params.get("Body") or None,
            provider=PROVIDER,
            provider_message_id=sid,
            received_at=now,
            media=media or None,
            keywords=request.app.state.keywords,
        )
    if stored is None:
        log.info("Twilio inbound %s: already received", sid)
    return _twiml()
