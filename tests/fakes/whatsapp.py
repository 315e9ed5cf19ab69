"""A fake of the WhatsApp Cloud API (template and message endpoints), as a real HTTP server on
loopback.

It answers what sentd calls:

* `POST {base}/{waba_id}/message_templates` — create: checks the bearer token of the WABA and the
  body's shape, answers `{"id", "status": "PENDING", "category"}`;
* `POST {base}/{template_id}` — edit: `{"success": true}`;
* `DELETE {base}/{waba_id}/message_templates?name=…&hsm_id=…` — `{"success": true}`;
* `POST {base}/{phone_number_id}/messages` — send: checks the bearer token of the phone number
  (`phone_numbers`) and the body as Graph does (`messaging_product`, `to`, `type`; a template's
  `name`, `language.code`, that the name is one of `templates` — `132001` otherwise — and, when
  the template's BODY is known, its parameter count — `132000`; a text's `text.body`), answers
  `{"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid.…"}]}` and
  keeps what it sent in `sent`;

and plays Meta's side of the webhook: `send_status_update` POSTs any signed payload to sentd
(`status_update`: a template's verdict; `message_status`: a message's `sent`, `delivered`, `read`
or `failed`; `inbound_message`: a message from a user), `send_message_status` and `send_inbound`
build and send the last two in one call, `subscribe` performs the GET handshake. Every sender
takes `signature=` to send a wrong one.

Knobs: `fail_next` (answer `fail_status` — 500 by default, or 429 — that many times),
`refuse_with` (answer template calls 400 with that message), `refused_numbers` (digits of
recipients a send is refused for: 400, code 131026), `delay_s` (wait that long before answering),
`early_verdict` (`(webhook_url, app_secret, event)`: post the verdict to sentd before answering
the create call, as Meta's webhook may overtake its own answer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

API_VERSION = "v21.0"


class FakeWhatsApp:
    def __init__(self, tokens: dict[str, str], phone_numbers: dict[str, str] | None = None) -> None:
        """`tokens`: the access token each WABA id accepts; `phone_numbers`: the access token
        each phone number id accepts (the senders of messages)."""
        self.tokens = dict(tokens)
        self.phone_numbers = dict(phone_numbers or {})
        self.requests: list[dict[str, Any]] = []
        self.templates: dict[str, dict[str, Any]] = {}  # by template id
        self.sent: list[dict[str, Any]] = []  # messages accepted: phone_number_id, wamid, body
        self.fail_next = 0
        self.fail_status = 500
        self.refuse_with: str | None = None
        self.refused_numbers: set[str] = set()
        self.delay_s = 0.0
        self.early_verdict: tuple[str, str, str] | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}/{API_VERSION}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeWhatsApp:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length", 0))
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        record = {
            "method": method,
            "path": parts.path,
            "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "headers": {k.lower(): v for k, v in handler.headers.items()},
            "json": body,
        }
        if self.delay_s:
            time.sleep(self.delay_s)
        with self._lock:
            self.requests.append(record)
            status, answer = self._answer(method, parts.path, record)
        payload = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, method: str, path: str, record: dict[str, Any]) -> tuple[int, Any]:
        if self.fail_next > 0:
            self.fail_next -= 1
            if self.fail_status == 429:
                return 429, _error("(#130429) Rate limit hit", 130429)
            return self.fail_status, _error("An unexpected error has occurred", 2)
        segments = [s for s in path.split("/") if s]
        if not segments or segments[0] != API_VERSION:
            return 404, _error("Unknown path", 100)
        segments = segments[1:]
        token = record["headers"].get("authorization", "").removeprefix("Bearer ")
        if len(segments) == 2 and segments[1] == "message_templates":
            waba_id = segments[0]
            if self.tokens.get(waba_id) != token:
                return 401, _error("Invalid OAuth access token", 190)
            if method == "DELETE":
                return self._delete(record["query"])
            return self._create(waba_id, record["json"])
        if len(segments) == 2 and segments[1] == "messages" and method == "POST":
            phone_number_id = segments[0]
            if phone_number_id not in self.phone_numbers:
                return 400, _error(f"Unsupported post request. Object {phone_number_id}", 100)
            if self.phone_numbers[phone_number_id] != token:
                return 401, _error("Invalid OAuth access token", 190)
            return self._send(phone_number_id, record["json"])
        if len(segments) == 1 and method == "POST":
            template = self.templates.get(segments[0])
            if template is None or self.tokens.get(template["waba_id"]) != token:
                return 404, _error("Unsupported post request", 100)
            if self.refuse_with:
                return 400, _error(self.refuse_with, 100, user_message=self.refuse_with)
            template.update(record["json"] or {}, status="PENDING")
            return 200, {"success": True}
        return 404, _error("Unknown path", 100)

    def _create(self, waba_id: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not {"name", "language", "category", "components"} <= set(
            body
        ):
            return 400, _error("Invalid parameter", 100)
        if self.refuse_with:
            return 400, _error(self.refuse_with, 100, user_message=self.refuse_with)
        if any(
            t["name"] == body["name"] and t["language"] == body["language"]
            for t in self.templates.values()
        ):
            return 400, _error("Content in this language already exists", 100)
        template_id = str(secrets.randbelow(10**15) + 10**15)
        self.templates[template_id] = {**body, "waba_id": waba_id, "status": "PENDING"}
        if self.early_verdict is not None:
            url, secret, event = self.early_verdict
            payload = status_update(waba_id, template_id, event, name=body["name"])
            assert send_status_update(url, payload, secret).status_code == 200
        return 200, {"id": template_id, "status": "PENDING", "category": body["category"]}

    def _send(self, phone_number_id: str, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, _error("(#100) Invalid parameter", 100)
        for name in ("messaging_product", "to", "type"):
            if not body.get(name):
                return 400, _error(f"(#100) The parameter {name} is required.", 100)
        if body["messaging_product"] != "whatsapp":
            return 400, _error("(#100) Param messaging_product must be 'whatsapp'", 100)
        kind = body["type"]
        if kind == "text":
            text = body.get("text")
            if not isinstance(text, dict) or not text.get("body"):
                return 400, _error("(#100) The parameter text['body'] is required.", 100)
        elif kind == "template":
            problem = self._check_template(body.get("template"))
            if problem is not None:
                return problem
        else:
            return 400, _error(f"(#100) Param type '{kind}' is not supported here", 100)
        wa_id = re.sub(r"\D", "", str(body["to"]))
        if wa_id in self.refused_numbers:
            return 400, _error(
                "(#131026) Message undeliverable",
                131026,
                details="The recipient cannot receive this message",
            )
        wamid = "wamid." + secrets.token_urlsafe(24)
        self.sent.append({"phone_number_id": phone_number_id, "wamid": wamid, "body": body})
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": wa_id}],
            "messages": [{"id": wamid}],
        }

    def _check_template(self, template: Any) -> tuple[int, Any] | None:
        if not isinstance(template, dict) or not template.get("name"):
            return 400, _error("(#100) The parameter template['name'] is required.", 100)
        language = template.get("language")
        if not isinstance(language, dict) or not language.get("code"):
            return 400, _error(
                "(#100) The parameter template['language']['code'] is required.", 100
            )
        known = [
            t
            for t in self.templates.values()
            if t["name"] == template["name"] and t["language"] == language["code"]
        ]
        if not known:
            return 404, _error(
                "(#132001) Template name does not exist in the translation",
                132001,
                details=f"template name ({template['name']}) does not exist in {language['code']}",
            )
        expected = _body_parameter_count(known[0])
        given = sum(
            len(c.get("parameters") or [])
            for c in template.get("components") or []
            if isinstance(c, dict) and str(c.get("type", "")).lower() == "body"
        )
        if expected is not None and given != expected:
            return 400, _error(
                "(#132000) Number of parameters does not match the expected number of params",
                132000,
                details=f"body: number of localizable_params ({given}) does not match the "
                f"expected number of params ({expected})",
            )
        return None

    def add_template(
        self, name: str, language: str = "en_US", body: str | None = None, waba_id: str = ""
    ) -> str:
        """A template WhatsApp knows (as if created and approved there); its id."""
        template_id = str(secrets.randbelow(10**15) + 10**15)
        components = [{"type": "BODY", "text": body}] if body is not None else []
        self.templates[template_id] = {
            "name": name,
            "language": language,
            "category": "UTILITY",
            "components": components,
            "waba_id": waba_id,
            "status": "APPROVED",
        }
        return template_id

    def _delete(self, query: dict[str, str]) -> tuple[int, Any]:
        template = self.templates.pop(query.get("hsm_id", ""), None)
        if template is None:
            return 400, _error("Message template not found", 100)
        return 200, {"success": True}

    # -- for tests -------------------------------------------------------------------------

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            assert time.monotonic() < deadline, f"got {len(self.requests)} of {count} requests"
            time.sleep(0.02)
        return self.requests


def _error(
    message: str, code: int, user_message: str | None = None, details: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if user_message:
        error["error_user_msg"] = user_message
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = secrets.token_urlsafe(12)
    return {"error": error}


def _body_parameter_count(template: dict[str, Any]) -> int | None:
    """How many `{{n}}` the template's BODY has; None when its body is not known."""
    for component in template.get("components") or []:
        if isinstance(component, dict) and component.get("type") == "BODY":
            if component.get("text") is None:
                return None
            return len(set(re.findall(r"\{\{(\d+)\}\}", str(component["text"]))))
    return None


def status_update(
    waba_id: str,
    template_id: str,
    event: str,
    *,
    name: str = "template",
    language: str = "en_US",
    reason: str = "NONE",
) -> dict[str, Any]:
    """The body Meta posts for a template's status change."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "time": int(time.time()),
                "changes": [
                    {
                        "field": "message_template_status_update",
                        "value": {
                            "event": event,
                            "message_template_id": int(template_id),
                            "message_template_name": name,
                            "message_template_language": language,
                            "reason": reason,
                        },
                    }
                ],
            }
        ],
    }


def sign(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def send_status_update(
    webhook_url: str,
    payload: dict[str, Any],
    app_secret: str,
    *,
    signature: str | None = None,
) -> httpx.Response:
    """POST `payload` to sentd's webhook as Meta does, signed with `app_secret` (or with the given
    `signature`, to send a wrong one)."""
    body = json.dumps(payload).encode()
    headers = {
        "content-type": "application/json",
        "x-hub-signature-256": signature if signature is not None else sign(app_secret, body),
    }
    return httpx.post(webhook_url, content=body, headers=headers, timeout=10)


def subscribe(webhook_url: str, verify_token: str, challenge: str) -> httpx.Response:
    """Meta's GET handshake when the webhook is configured."""
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    return httpx.get(webhook_url, params=params, timeout=10)


# -- Meta's webhook: field "messages" ---------------------------------------------------------


def _messages_change(
    value: dict[str, Any], *, phone_number_id: str, display_phone_number: str, waba_id: str
) -> dict[str, Any]:
    metadata = {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": waba_id,
                "changes": [
                    {
                        "field": "messages",
                        "value": {"messaging_product": "whatsapp", "metadata": metadata, **value},
                    }
                ],
            }
        ],
    }


def message_status(
    wamid: str,
    status: str,
    *,
    recipient: str,
    phone_number_id: str = "0",
    display_phone_number: str = "15550000000",
    waba_id: str = "0",
    error: tuple[int, str] | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    """The body Meta posts when a sent message changes status (`sent`, `delivered`, `read`,
    `failed` — with `error` as `(code, title)`). `recipient`: the recipient's number, with or
    without '+'."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient.lstrip("+"),
    }
    if status == "sent":
        item["conversation"] = {
            "id": secrets.token_hex(16),
            "origin": {"type": "utility"},
            "expiration_timestamp": str(int(time.time()) + 86400),
        }
        item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": "utility"}
    if error is not None:
        code, title = error
        item["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": title},
            }
        ]
    return _messages_change(
        {"statuses": [item]},
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def inbound_message(
    sender: str,
    *,
    text: str | None = None,
    kind: str = "text",
    content: dict[str, Any] | None = None,
    wamid: str | None = None,
    name: str = "Ada",
    phone_number_id: str = "0",
    display_phone_number: str = "15550000000",
    waba_id: str = "0",
) -> dict[str, Any]:
    """The body Meta posts when a user writes to the business number. `sender`: the user's number
    (with or without '+'). A `text` message by default; otherwise `kind` and its `content` (for
    example `kind="button", content={"text": "Yes", "payload": "yes"}`, or `kind="interactive",
    content={"type": "button_reply", "button_reply": {"id": "1", "title": "Yes"}}`)."""
    wa_id = sender.lstrip("+")
    item: dict[str, Any] = {
        "from": wa_id,
        "id": wamid or "wamid." + secrets.token_urlsafe(24),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content if content is not None else {"body": text or ""},
    }
    return _messages_change(
        {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [item]},
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def send_message_status(
    webhook_url: str,
    app_secret: str,
    wamid: str,
    status: str,
    *,
    signature: str | None = None,
    **fields: Any,
) -> httpx.Response:
    """Build a `message_status` (`fields` as there) and POST it signed (or with `signature`)."""
    payload = message_status(wamid, status, **fields)
    return send_status_update(webhook_url, payload, app_secret, signature=signature)


def send_inbound(
    webhook_url: str,
    app_secret: str,
    sender: str,
    *,
    signature: str | None = None,
    **fields: Any,
) -> httpx.Response:
    """Build an `inbound_message` (`fields` as there) and POST it signed (or with `signature`)."""
    payload = inbound_message(sender, **fields)
    return send_status_update(webhook_url, payload, app_secret, signature=signature)
