"""WhatsApp Cloud API: message-template submission (`POST {base}/{waba_id}/message_templates`),
edits of a submitted template (`POST {base}/{template_id}`) and removal
(`DELETE {base}/{waba_id}/message_templates?name=…&hsm_id=…`).

The verdict does not come back from these calls but later, through Meta's webhook
(`message_template_status_update`, see `sentd.api.routes.whatsapp_webhook`).

Configuration (`WhatsAppConfig.from_settings`): `SENTD_WHATSAPP_API_BASE` (default
`https://graph.facebook.com/v21.0`), `SENTD_WHATSAPP_ACCESS_TOKEN`, `SENTD_WHATSAPP_WABA_ID`,
`SENTD_WHATSAPP_APP_SECRET` (checks the webhook's signature), `SENTD_WHATSAPP_VERIFY_TOKEN` (the
webhook's subscription handshake). A customer's own `whatsapp_account` (waba_id and access_token)
takes precedence over the WABA id and token of the settings.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentd.config import Settings
from sentd.outbound import OutboundClient, OutboundError
from sentd.templating.definition import Definition, Text
from sentd.templating.placeholders import Placeholder, substitute

DEFAULT_API_BASE = "https://graph.facebook.com/v21.0"
TIMEOUT_S = 15.0


# -- configuration --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    waba_id: str
    access_token: str


@dataclass(frozen=True, slots=True)
class WhatsAppConfig:
    api_base: str = DEFAULT_API_BASE
    access_token: str | None = None
    waba_id: str | None = None
    app_secret: str | None = None
    verify_token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WhatsAppConfig:
        """From the `SENTD_WHATSAPP_*` settings (an empty value counts as unset)."""
        return cls(
            api_base=(settings.whatsapp_api_base or DEFAULT_API_BASE).rstrip("/"),
            access_token=settings.whatsapp_access_token or None,
            waba_id=settings.whatsapp_waba_id or None,
            app_secret=settings.whatsapp_app_secret or None,
            verify_token=settings.whatsapp_verify_token or None,
        )

    def credentials_for(self, account: Mapping[str, Any] | None) -> Credentials | None:
        """The customer's own WABA and token when it has both, else those of the settings."""
        account = account or {}
        waba_id, token = account.get("waba_id"), account.get("access_token")
        if waba_id and token:
            return Credentials(str(waba_id), str(token))
        if self.waba_id and self.access_token:
            return Credentials(self.waba_id, self.access_token)
        return None


# -- what is sent ---------------------------------------------------------------------------


def meta_name(display_name: str, template_id: uuid.UUID) -> str:
    """A name WhatsApp accepts (lowercase letters, digits, underscores), unique per template: the
    display name's words and the first 8 hex digits of sentd's id."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")[:400] or "template"
    return f"{base}_{template_id.hex[:8]}"


def _positional(text: Text) -> tuple[str, list[str]]:
    """WhatsApp numbers a component's variables {{1}}, {{2}}… in order of appearance; sentd's
    `{{index:name}}` become those, and each variable's sample is its example."""
    numbers: dict[int, int] = {}
    examples: list[str] = []
    samples = {v.id: v.props.get("sample", "") for v in text.variables}

    def value_of(placeholder: Placeholder) -> str:
        if placeholder.index not in numbers:
            numbers[placeholder.index] = len(numbers) + 1
            examples.append(samples.get(placeholder.index, ""))
        return "{{" + str(numbers[placeholder.index]) + "}}"

    return substitute(text.segments, value_of), examples


_HEADER_FORMATS = {"image": "IMAGE", "video": "VIDEO", "gif": "VIDEO", "document": "DOCUMENT"}


def components(definition: Definition, category: str) -> list[dict[str, Any]]:
    """The template's `components` in the Cloud API's shape, from its WhatsApp body."""
    if category == "AUTHENTICATION":
        return _authentication_components(definition)
    result: list[dict[str, Any]] = []
    header = definition.header
    if header is not None:
        if header.type == "text":
            text, examples = _positional(header.text)
            component: dict[str, Any] = {"type": "HEADER", "format": "TEXT", "text": text}
            if examples:
                component["example"] = {"header_text": examples}
            result.append(component)
        elif header.type == "location":
            result.append({"type": "HEADER", "format": "LOCATION"})
        else:
            result.append(
                {
                    "type": "HEADER",
                    "format": _HEADER_FORMATS[header.type],
                    "example": {"header_handle": [header.example_url or ""]},
                }
            )
    body = definition.body_for("whatsapp")
    if body is not None:
        text, examples = _positional(body.text)
        component = {"type": "BODY", "text": text}
        if examples:
            component["example"] = {"body_text": [examples]}
        result.append(component)
    if definition.footer is not None:
        result.append({"type": "FOOTER", "text": _positional(definition.footer)[0]})
    buttons = [_button(b) for b in definition.buttons]
    if buttons:
        result.append({"type": "BUTTONS", "buttons": buttons})
    return result


def _button(button: Any) -> dict[str, Any]:
    kind = button.type
    if kind == "URL":
        samples = {v.id: v.props.get("sample", "") for v in button.variables}
        url = substitute(button.url_segments, lambda p: "{{1}}")
        entry: dict[str, Any] = {"type": "URL", "text": button.text, "url": url}
        if any(isinstance(s, Placeholder) for s in button.url_segments):
            entry["example"] = [substitute(button.url_segments, lambda p: samples.get(p.index, ""))]
        return entry
    if kind == "PHONE_NUMBER":
        return {"type": kind, "text": button.text, "phone_number": button.props["phoneNumber"]}
    if kind == "COPY_CODE":
        return {"type": kind, "example": button.props.get("offerCode") or "CODE"}
    return {"type": kind, "text": button.text}


def _authentication_components(definition: Definition) -> list[dict[str, Any]]:
    config = definition.authentication_config
    body: dict[str, Any] = {"type": "BODY"}
    if config is not None and config.add_security_recommendation is not None:
        body["add_security_recommendation"] = config.add_security_recommendation
    result = [body]
    if config is not None and config.code_expiration_minutes is not None:
        result.append({"type": "FOOTER", "code_expiration_minutes": config.code_expiration_minutes})
    otp_type = next(
        (b.props["otpType"] for b in definition.buttons if b.props.get("otpType")), "COPY_CODE"
    )
    result.append({"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": otp_type}]})
    return result


# -- the client -----------------------------------------------------------------------------


class WhatsAppError(Exception):
    pass


class WhatsAppRefused(WhatsAppError):
    """WhatsApp answered 4xx: the request (the template, the credentials) is not acceptable."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason


class WhatsAppUnavailable(WhatsAppError):
    """No usable answer (network, 429, 5xx): worth trying again later."""


@dataclass(frozen=True, slots=True)
class Submission:
    whatsapp_template_id: str
    status: str  # PENDING, APPROVED or REJECTED as WhatsApp reports it


class WhatsAppTemplates:
    def __init__(self, http: OutboundClient, api_base: str) -> None:
        self._http = http
        self._base = api_base.rstrip("/")

    async def create(
        self,
        credentials: Credentials,
        *,
        name: str,
        language: str,
        category: str,
        components: list[dict[str, Any]],
    ) -> Submission:
        body = {"name": name, "language": language, "category": category, "components": components}
        answer = await self._call(
            "POST", f"{self._base}/{credentials.waba_id}/message_templates", credentials, body
        )
        template_id = answer.get("id")
        if not template_id:
            raise WhatsAppUnavailable(f"no template id in WhatsApp's answer: {answer!r}")
        status = str(answer.get("status") or "PENDING").upper()
        return Submission(str(template_id), status)

    async def edit(
        self,
        credentials: Credentials,
        whatsapp_template_id: str,
        *,
        category: str,
        components: list[dict[str, Any]],
    ) -> Submission:
        body = {"category": category, "components": components}
        await self._call("POST", f"{self._base}/{whatsapp_template_id}", credentials, body)
        return Submission(whatsapp_template_id, "PENDING")

    async def delete(
        self, credentials: Credentials, *, name: str, whatsapp_template_id: str
    ) -> None:
        await self._call(
            "DELETE",
            f"{self._base}/{credentials.waba_id}/message_templates",
            credentials,
            params={"name": name, "hsm_id": whatsapp_template_id},
        )

    async def _call(
        self,
        method: str,
        url: str,
        credentials: Credentials,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {credentials.access_token}"}
        try:
            response = await self._http.request(
                method,
                url,
                json=body,
                params=params,
                headers=headers,
                timeout_s=TIMEOUT_S,
                body_limit=1 << 20,  # the whole answer: it is parsed
            )
        except OutboundError as exc:
            raise WhatsAppUnavailable(f"{method} {url}: {exc}") from exc
        answer = response.json()
        if response.status == 429 or response.status >= 500:
            raise WhatsAppUnavailable(f"{method} {url} answered {response.status}")
        if not response.ok:
            raise WhatsAppRefused(response.status, _reason(answer, response.text()))
        if not isinstance(answer, dict):
            raise WhatsAppUnavailable(f"{method} {url}: the answer is not a JSON object")
        return answer


def _reason(answer: Any, text: str) -> str:
    error = answer.get("error") if isinstance(answer, dict) else None
    if isinstance(error, dict):
        for key in ("error_user_msg", "message"):
            if error.get(key):
                return str(error[key])
    return text[:500] or "no reason given"
