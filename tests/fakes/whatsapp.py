"""A fake of the WhatsApp Cloud API's template endpoints, as a real HTTP server on loopback.

It answers what sentd calls:

* `POST {base}/{waba_id}/message_templates` — create: checks the bearer token of the WABA and the
  body's shape, answers `{"id", "status": "PENDING", "category"}`;
* `POST {base}/{template_id}` — edit: `{"success": true}`;
* `DELETE {base}/{waba_id}/message_templates?name=…&hsm_id=…` — `{"success": true}`;

and plays Meta's side of the webhook: `send_status_update` POSTs a signed
`message_template_status_update` to sentd, `subscribe` performs the GET handshake.

Knobs: `fail_next` (answer 500 that many times), `refuse_with` (answer 400 with that message),
`early_verdict` (`(webhook_url, app_secret, event)`: post the verdict to sentd before answering
the create call, as Meta's webhook may overtake its own answer).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

API_VERSION = "v21.0"


class FakeWhatsApp:
    def __init__(self, tokens: dict[str, str]) -> None:
        """`tokens`: the access token each WABA id accepts."""
        self.tokens = dict(tokens)
        self.requests: list[dict[str, Any]] = []
        self.templates: dict[str, dict[str, Any]] = {}  # by template id
        self.fail_next = 0
        self.refuse_with: str | None = None
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
            return 500, {"error": {"message": "An unexpected error has occurred", "code": 2}}
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


def _error(message: str, code: int, user_message: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if user_message:
        error["error_user_msg"] = user_message
    return {"error": error}


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
