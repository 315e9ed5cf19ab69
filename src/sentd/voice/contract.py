"""The question/answer contract with a voice number's callback URL (see docs/voice.md).

When a call needs routing sentd POSTs a *question* (JSON, camelCase) signed like a webhook
delivery (Standard Webhooks: `x-webhook-id`, `x-webhook-timestamp`, `x-webhook-signature`, with the
number's `callback_secret`), and reads the *answer*: `{"action": {"action": "connect", ...}}` or
`{"action": {"action": "reject"}}`. This module builds questions and judges answers; it does no I/O.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from standardwebhooks import Webhook

from sentd.phones import InvalidPhoneNumber, normalize_e164

QUESTION_TYPE = "call.request"
USER_AGENT = "sentd-voice/1"
IDENTITY = re.compile(r"^[A-Za-z0-9_-]{1,200}$")
ROOM = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
ACTIONS = ("connect", "reject")
TARGET_KINDS = ("user", "number", "conference")
RING_DEFAULT_S = 30
RING_LIMITS_S = (5, 120)
RESPONSE_BODY_LIMIT = 2048


@dataclass(frozen=True, slots=True)
class Party:
    kind: str  # user | number | conference | anonymous
    value: str | None

    def wire(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass(frozen=True, slots=True)
class Question:
    call_id: uuid.UUID
    account_id: uuid.UUID
    number: str
    direction: str  # inbound | outbound
    caller: Party
    callee: Party
    test: bool = False

    def body(self, now: datetime) -> dict[str, Any]:
        return {
            "type": QUESTION_TYPE,
            "test": self.test,
            "callId": str(self.call_id),
            "accountId": str(self.account_id),
            "number": self.number,
            "direction": self.direction,
            "from": self.caller.wire(),
            "to": self.callee.wire(),
            "timestamp": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def signed_question(question: Question, secret: str, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The request body, byte for byte, and every header sentd adds (the signature included)."""
    body = orjson.dumps(question.body(now))
    msg_id = f"q_{uuid.uuid4().hex}"
    timestamp = now.astimezone(UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "x-webhook-id": msg_id,
        "x-webhook-timestamp": str(int(timestamp.timestamp())),
        "x-webhook-signature": Webhook(secret).sign(msg_id, timestamp, body.decode()),
        "x-webhook-event-type": QUESTION_TYPE,
    }
    return body, headers


@dataclass(frozen=True, slots=True)
class AnswerError:
    reason: str  # timeout | connection_failed | http_error | malformed_json | missing_action |
    # unknown_action | invalid_value
    message: str
    path: str | None = None

    @property
    def outcome(self) -> str:
        """The callback test's outcome for this error."""
        if self.reason in ("timeout", "connection_failed", "http_error"):
            return self.reason
        return "invalid_answer"

    @property
    def failure_reason(self) -> str:
        """The call's failure_reason: no usable answer in time, or an unusable one."""
        return "callback_timeout" if self.outcome != "invalid_answer" else "invalid_answer"

    def wire(self) -> dict[str, Any]:
        return {"reason": self.reason, "message": self.message, "path": self.path}


@dataclass(frozen=True, slots=True)
class Reply:
    """What the callback did: an HTTP status and body, or a failure to get one."""

    status: int | None
    body: str | None
    failure: str | None = None  # timeout | connection_failed
    detail: str = ""


def judge(
    reply: Reply, *, number: str, own_numbers: frozenset[str]
) -> dict[str, Any] | AnswerError:
    """The normalized answer (numbers in E.164, caller id filled in), or why there is none."""
    if reply.failure is not None:
        return AnswerError(reply.failure, reply.detail or reply.failure)
    assert reply.status is not None
    if not 200 <= reply.status < 300:
        return AnswerError("http_error", f"The callback answered HTTP {reply.status}; use 2xx")
    try:
        parsed = orjson.loads(reply.body or "")
    except orjson.JSONDecodeError:
        return AnswerError("malformed_json", "The answer is not a JSON document")
    if not isinstance(parsed, dict):
        return AnswerError("malformed_json", "The answer must be a JSON object", "")
    action = parsed.get("action")
    if action is None:
        return AnswerError("missing_action", "The answer has no action object", "action")
    if not isinstance(action, dict):
        return AnswerError("invalid_value", "action must be an object", "action")
    name = action.get("action")
    if name is None:
        return AnswerError("missing_action", "The action names no action", "action.action")
    if name not in ACTIONS:
        return AnswerError(
            "unknown_action",
            f"Unknown action {name!r}; use one of {', '.join(ACTIONS)}",
            "action.action",
        )
    if name == "reject":
        return {"action": {"action": "reject"}}
    return _connect(action, number, own_numbers)


def _invalid(message: str, path: str) -> AnswerError:
    return AnswerError("invalid_value", message, path)


def _connect(
    action: dict[str, Any], number: str, own_numbers: frozenset[str]
) -> dict[str, Any] | AnswerError:
    target = action.get("to")
    if not isinstance(target, dict):
        return _invalid("connect needs to: {kind, value}", "action.to")
    kind, value = target.get("kind"), target.get("value")
    if kind not in TARGET_KINDS:
        return _invalid(f"to.kind must be one of {', '.join(TARGET_KINDS)}", "action.to.kind")
    if not isinstance(value, str):
        return _invalid("to.value must be a string", "action.to.value")
    if kind == "number":
        try:
            value = normalize_e164(value)
        except InvalidPhoneNumber as exc:
            return _invalid(f"to.value: {exc}", "action.to.value")
    elif kind == "user" and not IDENTITY.fullmatch(value):
        return _invalid("A user is letters, digits, - and _, up to 200", "action.to.value")
    elif kind == "conference" and not ROOM.fullmatch(value):
        return _invalid("A room is letters, digits, - and _, up to 128", "action.to.value")
    caller_id = action.get("callerId")
    if caller_id is None:
        caller_id = number
    elif not isinstance(caller_id, str):
        return _invalid("callerId must be an E.164 string", "action.callerId")
    else:
        try:
            caller_id = normalize_e164(caller_id)
        except InvalidPhoneNumber as exc:
            return _invalid(f"callerId: {exc}", "action.callerId")
        if caller_id not in own_numbers:
            return _invalid("callerId must be one of your voice numbers", "action.callerId")
    record = action.get("record", False)
    if not isinstance(record, bool):
        return _invalid("record must be true or false", "action.record")
    ring = action.get("timeoutSeconds", RING_DEFAULT_S)
    low, high = RING_LIMITS_S
    if not isinstance(ring, int) or isinstance(ring, bool) or not low <= ring <= high:
        return _invalid(f"timeoutSeconds must be an integer {low}-{high}", "action.timeoutSeconds")
    return {
        "action": {
            "action": "connect",
            "to": {"kind": kind, "value": value},
            "callerId": caller_id,
            "record": record,
            "timeoutSeconds": ring,
        }
    }
