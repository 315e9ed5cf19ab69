"""Twilio (SMS and MMS) over its Messages REST API.

`submit` makes one `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded,
with HTTP Basic auth (account SID : auth token):

| field | value |
|---|---|
| `To` | the recipient, E.164 |
| `From` | the message's own sender, else `SENTD_TWILIO_FROM_NUMBER` |
| `MessagingServiceSid` | `SENTD_TWILIO_MESSAGING_SERVICE_SID`, when there is no `From` |
| `Body` | the rendered text (left out of an MMS that has only media) |
| `MediaUrl` | once per attachment, MMS only |
| `StatusCallback` | `{public_url}/providers/twilio/status?message_id={id}` (with public_url) |

How the answer is read:

| Twilio answers | result |
|---|---|
| 2xx with a `sid` | `Submission(sid)` |
| 401 / 403 | permanent, `TWILIO_AUTH` (wrong account SID or token) |
| 408, 429, 3xx, 5xx, time-out, no connection | transient, `INTERNAL_003` (retried) |
| other 4xx (400 `{"code": 21211, …}`) | permanent, `TWILIO_<code>` (`TWILIO_21211`, …) |

**Duplicates.** Twilio's Messages API has no idempotency key: two identical POSTs are two
messages. sentd commits the Twilio SID only after `submit` returns, so when the process dies (or
its database transaction fails) after Twilio accepted the POST and before that commit, the
message's lease expires, the dispatcher takes it again and Twilio sends it a second time. The same
holds for a time-out or a dropped connection *after* the request was written: Twilio may have
accepted it, but sentd cannot tell, treats it as transient and retries. Only a failure to connect
is known not to have reached Twilio. The window is therefore "from the moment the request is sent
until the SID is committed", plus the read time-out. sentd's message id travels in the
`StatusCallback` URL (the one per-message value Twilio echoes back), so a status callback for an
SID sentd does not know, naming a message that has another SID, exposes such a duplicate in the
log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sentd.config import Settings
from sentd.outbound import Answer, OutboundClient
from sentd.providers.base import (
    TRANSIENT,
    OutboundMessage,
    ProviderError,
    Submission,
    call,
)

log = logging.getLogger("sentd.providers.twilio")

API_VERSION = "2010-04-01"
STATUS_PATH = "/providers/twilio/status"
INBOUND_PATH = "/providers/twilio/inbound"
TRANSIENT_CODE = TRANSIENT
AUTH_CODE = "TWILIO_AUTH"
NO_SENDER_CODE = "TWILIO_21603"  # Twilio's own code for "a 'From' phone number is required"
BAD_RESPONSE_CODE = "TWILIO_BAD_RESPONSE"
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class TwilioConfig:
    api_base: str
    account_sid: str
    auth_token: str
    from_number: str | None = None
    messaging_service_sid: str | None = None
    public_url: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TwilioConfig | None:
        """The configuration, or None without an account SID and auth token."""
        sid, token = settings.twilio_account_sid, settings.twilio_auth_token
        if not sid or not token:
            return None
        public_url = settings.public_url
        return cls(
            api_base=settings.twilio_api_base.rstrip("/"),
            account_sid=sid,
            auth_token=token,
            from_number=settings.twilio_from_number or None,
            messaging_service_sid=settings.twilio_messaging_service_sid or None,
            public_url=public_url.rstrip("/") if public_url else None,
        )

    @property
    def messages_url(self) -> str:
        return f"{self.api_base}/{API_VERSION}/Accounts/{quote(self.account_sid)}/Messages.json"


def status_callback_url(public_url: str, message_id: Any) -> str:
    return f"{public_url}{STATUS_PATH}?message_id={message_id}"


class TwilioProvider:
    name = "twilio"
    channels = frozenset({"sms", "mms"})

    def __init__(self, config: TwilioConfig, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.config = config
        self.timeout_s = timeout_s
        # The operator's configured base: trusted, not under the customer-URL policy.
        self._http = OutboundClient(checked=False)

    async def aclose(self) -> None:
        await self._http.aclose()

    def form(self, message: OutboundMessage) -> list[tuple[str, str]]:
        """The form fields of the Messages POST for `message` (in order; `MediaUrl` repeats)."""
        fields: list[tuple[str, str]] = [("To", message.to)]
        sender = message.from_number or self.config.from_number
        if sender:
            fields.append(("From", sender))
        elif self.config.messaging_service_sid:
            fields.append(("MessagingServiceSid", self.config.messaging_service_sid))
        media = message.media_urls if message.channel == "mms" else []
        if message.text or not media:
            fields.append(("Body", message.text))
        fields += [("MediaUrl", url) for url in media]
        if self.config.public_url:
            callback = status_callback_url(self.config.public_url, message.id)
            fields.append(("StatusCallback", callback))
        return fields

    async def submit(self, message: OutboundMessage) -> Submission:
        if message.channel not in self.channels:
            raise ProviderError(
                f"Twilio does not send {message.channel} messages",
                transient=False,
                reason_code="TWILIO_CHANNEL",
            )
        fields = self.form(message)
        if not any(name in ("From", "MessagingServiceSid") for name, _ in fields):
            raise ProviderError(
                "No sender: the message names no number and neither SENTD_TWILIO_FROM_NUMBER "
                "nor SENTD_TWILIO_MESSAGING_SERVICE_SID is set",
                transient=False,
                reason_code=NO_SENDER_CODE,
            )
        answer = await call(
            "Twilio",
            self._http,
            "POST",
            self.config.messages_url,
            data=fields,
            headers={"accept": "application/json"},
            auth=(self.config.account_sid, self.config.auth_token),
            timeout_s=self.timeout_s,
        )
        return self._read(message, answer)

    def _read(self, message: OutboundMessage, answer: Answer) -> Submission:
        status = answer.status
        body = answer.json()
        if 200 <= status < 300:
            sid = body.get("sid") if isinstance(body, dict) else None
            if isinstance(sid, str) and sid:
                log.info("message %s: Twilio %s (%s)", message.id, sid, body.get("status"))
                return Submission(sid)
            # Twilio took it but named no SID: retrying would send it again.
            raise ProviderError(
                f"Twilio answered {status} without a message SID",
                transient=False,
                reason_code=BAD_RESPONSE_CODE,
            )
        code, text = _error_of(body)
        detail = f"Twilio answered {status}" + (f" (error {code})" if code else "")
        detail += f": {text}" if text else ""
        if status in (401, 403):
            raise ProviderError(detail, transient=False, reason_code=AUTH_CODE)
        if status in (408, 429) or status >= 500 or 300 <= status < 400:
            raise ProviderError(detail, transient=True, reason_code=TRANSIENT_CODE)
        reason_code = f"TWILIO_{code}" if code else f"TWILIO_HTTP_{status}"
        raise ProviderError(detail, transient=False, reason_code=reason_code)


def _error_of(body: Any) -> tuple[str | None, str | None]:
    """Twilio's error body: `{"code": 21211, "message": "…", "more_info": "…", "status": 400}`."""
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    message = body.get("message")
    return (str(code) if code is not None else None), (str(message) if message else None)


def from_settings(settings: Settings) -> TwilioProvider | None:
    """The Twilio provider when an account SID and auth token are set."""
    config = TwilioConfig.from_settings(settings)
    if config is None:
        wanted = [
            channel for channel in ("sms", "mms") if settings.live_provider(channel) == "twilio"
        ]
        if wanted:
            log.warning(
                "%s set to twilio, but SENTD_TWILIO_ACCOUNT_SID / SENTD_TWILIO_AUTH_TOKEN are "
                "not: live %s messages have no provider",
                ", ".join(f"SENTD_{c.upper()}_PROVIDER" for c in wanted),
                "/".join(wanted),
            )
        return None
    if not config.from_number and not config.messaging_service_sid:
        log.warning(
            "Twilio has no default sender (SENTD_TWILIO_FROM_NUMBER or "
            "SENTD_TWILIO_MESSAGING_SERVICE_SID): only messages naming their own number can go"
        )
    if not config.public_url:
        log.warning(
            "SENTD_PUBLIC_URL is not set: Twilio messages carry no StatusCallback, so they get no "
            "delivery receipts"
        )
    return TwilioProvider(config)
