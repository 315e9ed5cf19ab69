"""A fake of Twilio's Messages API, as a real HTTP server on loopback.

It answers what sentd calls, checking what Twilio checks:

* `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, with HTTP Basic
  auth `AccountSid:AuthToken` (wrong credentials: 401, code 20003; credentials of another
  account than the path's: 403, code 20003; a `suspended` account: 403, code 10001). `To` must
  be there (21604) and E.164 (21211); `From` or `MessagingServiceSid` (21603; a service SID
  starts with `MG`, 21701); `Body` or `MediaUrl` (21602); `Body` at most 1600 characters
  (21617); media URLs http(s) (21620). It answers 201 with a message resource as Twilio does
  (`sid` "SM…", `status` "queued", or "accepted" when a Messaging Service chooses the sender).

and plays Twilio's side of the callbacks, signed as Twilio signs them (`X-Twilio-Signature`:
base64 HMAC-SHA1 over the URL and the sorted parameters, keyed with the auth token):
`send_status(sid, "delivered")` posts to the message's `StatusCallback`, `send_inbound(url, …)`
posts an incoming message; both take `signature=` to send a wrong one.

Knobs: `fail_next` (answer `fail_status`, 500 or 429, that many times), `refuse` (number →
Twilio error code, answered with 400), `suspended` (account SIDs answered 403), `delay_s` (wait
before answering), `route_callbacks_to` (a base URL that stands for a reverse proxy: callbacks
are signed for the public URL Twilio was given but posted to this base, path and query kept).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterable
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

API_VERSION = "2010-04-01"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_MESSAGES_PATH = re.compile(rf"^/{API_VERSION}/Accounts/([^/]+)/Messages\.json$")

ERRORS = {
    10001: "Account is not active",
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "An internal server error has occurred",
    21211: "The 'To' number {to} is not a valid phone number.",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21617: "The concatenated message body exceeds the 1600 character limit.",
    21620: "Invalid media URL(s).",
    21701: "The Messaging Service Sid {sid} is invalid.",
}


def sign(auth_token: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """`X-Twilio-Signature` for a POST of `params` to `url`, computed as Twilio documents it."""
    data = url
    for name, value in sorted(params):
        data += name + value
    mac = hmac.new(auth_token.encode("utf-8"), data.encode("utf-8"), hashlib.sha1)
    return base64.b64encode(mac.digest()).decode("ascii")


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class FakeTwilio:
    def __init__(self, accounts: dict[str, str]) -> None:
        """`accounts`: the auth token of each account SID."""
        self.accounts = dict(accounts)
        self.requests: list[dict[str, Any]] = []
        self.messages: dict[str, dict[str, Any]] = {}  # the message resources, by SID
        self.fail_next = 0
        self.fail_status = 500
        self.refuse: dict[str, int] = {}
        self.delay_s = 0.0
        self.suspended: set[str] = set()
        self.route_callbacks_to: str | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                fake._reply(self, 405, _error(20004, "Method not allowed", 405))

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        port = self._server.server_address[1]
        self.base_url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeTwilio:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API ---------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length", 0))
        raw = handler.rfile.read(length) if length else b""
        form = parse_qsl(raw.decode("ascii"), keep_blank_values=True)
        record = {
            "method": "POST",
            "path": urlsplit(handler.path).path,
            "headers": {k.lower(): v for k, v in handler.headers.items()},
            "form": form,
            "auth": _basic_auth(handler.headers.get("authorization", "")),
        }
        with self._lock:
            self.requests.append(record)
            delay = self.delay_s
        if delay:
            time.sleep(delay)
        with self._lock:
            status, answer = self._answer(record)
        self._reply(handler, status, answer)

    def _reply(self, handler: BaseHTTPRequestHandler, status: int, answer: Any) -> None:
        payload = json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("content-type", "application/json; charset=utf-8")
            handler.send_header("content-length", str(len(payload)))
            handler.send_header("twilio-request-id", new_sid("RQ"))
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a time-out test)

    def _answer(self, record: dict[str, Any]) -> tuple[int, Any]:
        if self.fail_next > 0:
            self.fail_next -= 1
            if self.fail_status == 429:
                return 429, _error(20429, ERRORS[20429], 429)
            return self.fail_status, _error(20500, ERRORS[20500], self.fail_status)
        match = _MESSAGES_PATH.match(record["path"])
        if match is None:
            return 404, _error(20404, "The requested resource was not found", 404)
        auth = record["auth"]
        if auth is None or self.accounts.get(auth[0]) != auth[1]:
            return 401, _error(20003, ERRORS[20003], 401)
        if auth[0] != match.group(1):
            return 403, _error(20003, ERRORS[20003], 403)
        if auth[0] in self.suspended:
            return 403, _error(10001, ERRORS[10001], 403)
        content_type = record["headers"].get("content-type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return 400, _error(21602, ERRORS[21602], 400)
        return self._create(auth[0], record["form"])

    def _create(self, account_sid: str, form: list[tuple[str, str]]) -> tuple[int, Any]:
        first = dict(reversed(form))
        media = [value for name, value in form if name == "MediaUrl"]
        to = first.get("To", "")
        sender, service = first.get("From"), first.get("MessagingServiceSid")
        body = first.get("Body", "")
        if not to:
            return _refusal(21604)
        if not _E164.match(to):
            return _refusal(21211, to=to)
        if not sender and not service:
            return _refusal(21603)
        if service and not service.startswith("MG"):
            return _refusal(21701, sid=service)
        if not body and not media:
            return _refusal(21602)
        if len(body) > 1600:
            return _refusal(21617)
        if any(not url.startswith(("http://", "https://")) for url in media):
            return _refusal(21620)
        if to in self.refuse:
            return _refusal(self.refuse[to], to=to)
        sid = new_sid("MM" if media else "SM")
        now = formatdate(usegmt=True)
        message = {
            "account_sid": account_sid,
            "api_version": API_VERSION,
            "body": body,
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": sender,
            "messaging_service_sid": service,
            "num_media": str(len(media)),
            "num_segments": str(max(1, -(-len(body) // 160))),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "queued" if sender else "accepted",
            "subresource_uris": {
                "media": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}/Media.json"
            },
            "to": to,
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{sid}.json",
        }
        self.messages[sid] = {
            **message,
            "media_urls": media,
            "status_callback": first.get("StatusCallback"),
        }
        return 201, message

    # -- Twilio's callbacks ----------------------------------------------------------------

    def _deliver(
        self, url: str, params: list[tuple[str, str]], token: str, signature: str | None
    ) -> httpx.Response:
        """POST `params` to `url` as Twilio does: signed for `url`, sent to the proxy's base
        when `route_callbacks_to` is set."""
        target = url
        if self.route_callbacks_to:
            public, proxy = urlsplit(url), urlsplit(self.route_callbacks_to)
            target = urlunsplit(
                (proxy.scheme, proxy.netloc, public.path, public.query, public.fragment)
            )
        headers = {
            "x-twilio-signature": signature if signature is not None else sign(token, url, params),
            "user-agent": "TwilioProxy/1.1",
            "i-twilio-idempotency-token": secrets.token_hex(16),
        }
        return httpx.post(target, data=_multi(params), headers=headers, timeout=10)

    def send_status(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
        signature: str | None = None,
    ) -> httpx.Response:
        """A status callback for message `sid` to its StatusCallback (or `url`)."""
        message = self.messages[sid]
        target = url or message["status_callback"]
        assert target, f"message {sid} has no StatusCallback"
        message["status"] = status
        account_sid = message["account_sid"]
        params: list[tuple[str, str]] = [
            ("AccountSid", account_sid),
            ("ApiVersion", API_VERSION),
            ("From", message["from"] or "+15005550006"),
            ("MessageSid", sid),
            ("MessageStatus", status),
            ("SmsSid", sid),
            ("SmsStatus", status),
            ("To", message["to"]),
        ]
        if message["messaging_service_sid"]:
            params.append(("MessagingServiceSid", message["messaging_service_sid"]))
        if error_code is not None:
            params.append(("ErrorCode", str(error_code)))
        return self._deliver(target, params, self.accounts[account_sid], signature)

    def send_inbound(
        self,
        url: str,
        *,
        from_number: str,
        to_number: str,
        body: str,
        media: list[tuple[str, str]] | None = None,
        account_sid: str | None = None,
        sid: str | None = None,
        signature: str | None = None,
    ) -> tuple[str, httpx.Response]:
        """An incoming message posted to `url`; `media` is [(url, content type)]. Returns the
        message SID and sentd's answer."""
        account_sid = account_sid or next(iter(self.accounts))
        media = media or []
        sid = sid or new_sid("MM" if media else "SM")
        params: list[tuple[str, str]] = [
            ("ToCountry", "US"),
            ("ToState", "CA"),
            ("SmsMessageSid", sid),
            ("NumMedia", str(len(media))),
            ("ToCity", "SAN FRANCISCO"),
            ("FromZip", ""),
            ("SmsSid", sid),
            ("FromState", ""),
            ("SmsStatus", "received"),
            ("FromCity", ""),
            ("Body", body),
            ("FromCountry", "US"),
            ("To", to_number),
            ("ToZip", ""),
            ("NumSegments", "1"),
            ("MessageSid", sid),
            ("AccountSid", account_sid),
            ("From", from_number),
            ("ApiVersion", API_VERSION),
        ]
        for i, (media_url, content_type) in enumerate(media):
            params += [(f"MediaContentType{i}", content_type), (f"MediaUrl{i}", media_url)]
        return sid, self._deliver(url, params, self.accounts[account_sid], signature)

    # -- for tests -------------------------------------------------------------------------

    def sent_to(self, number: str) -> list[dict[str, Any]]:
        return [m for m in self.messages.values() if m["to"] == number]

    def wait_for_message(self, number: str, timeout: float = 15.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = self.sent_to(number)
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no message to {number} reached the fake"
            time.sleep(0.02)


def _basic_auth(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(value).decode().partition(":")
    except ValueError:
        return None
    return (user, password) if sep else None


def _error(code: int, message: str, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _refusal(code: int, **values: str) -> tuple[int, Any]:
    return 400, _error(code, ERRORS[code].format(**values), 400)


def _multi(params: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in params:
        out.setdefault(name, []).append(value)
    return out
