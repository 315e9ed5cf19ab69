"""A customer's voice callback endpoint, for tests: a real HTTP server that verifies every
question with the `standardwebhooks` library, records it, and answers as told."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.requests import Request
from starlette.responses import Response

from tests.webhook_receiver import HookEndpoint


@dataclass
class Question:
    verified: bool
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class CallbackEndpoint(HookEndpoint):
    """Answers `answer` (JSON) with `status`; `raw` replaces the JSON body; `delay_s` stalls."""

    secret: str | None = None
    answer: Any = field(default_factory=lambda: {"action": {"action": "reject"}})
    raw: bytes | None = None
    status: int = 200
    delay_s: float = 0.0
    questions: list[Question] = field(default_factory=list)

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        verified = True
        body: dict[str, Any] = {}
        try:
            body = Webhook(self.secret or "").verify(
                raw,
                {
                    "webhook-id": request.headers["x-webhook-id"],
                    "webhook-timestamp": request.headers["x-webhook-timestamp"],
                    "webhook-signature": request.headers["x-webhook-signature"],
                },
            )
        except (WebhookVerificationError, KeyError):
            verified = False
        self.questions.append(Question(verified, body, dict(request.headers)))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if not verified:
            return Response("bad signature", status_code=401)
        content = self.raw if self.raw is not None else orjson.dumps(self.answer)
        return Response(content, status_code=self.status, media_type="application/json")

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Question]:
        deadline = time.monotonic() + timeout
        while len(self.questions) < count:
            assert time.monotonic() < deadline, f"{len(self.questions)} of {count} questions"
            time.sleep(0.02)
        return self.questions
