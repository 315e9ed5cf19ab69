"""A customer's webhook endpoint, for tests: a real HTTP server (uvicorn) that verifies each
delivery with the `standardwebhooks` library, records it, and answers as told."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Self

from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.live_server import LiveServer


@dataclass
class Delivery:
    event_id: str
    event_type_header: str
    webhook_id: str
    verified: bool
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Behaviour:
    """How the endpoint answers: `fail_first` failures (status `fail_status`) before succeeding,
    optionally with a Retry-After, a redirect, or a delay longer than the sender waits."""

    fail_first: int = 0
    fail_status: int = 500
    retry_after: str | None = None
    redirect_to: str | None = None
    delay_s: float = 0.0
    answered: int = 0


class HookEndpoint:
    """A live HTTP endpoint at `url` whose `_hook` answers every POST; a context manager."""

    def __post_init__(self) -> None:
        self._server = LiveServer(Starlette(routes=[Route("/hook", self._hook, methods=["POST"])]))

    def __enter__(self) -> Self:
        self._server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return f"{self._server.base_url}/hook"

    async def _hook(self, request: Request) -> Response:
        raise NotImplementedError


@dataclass
class WebhookReceiver(HookEndpoint):
    secret: str | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: int = 0
    behaviour: Behaviour = field(default_factory=Behaviour)

    async def _hook(self, request: Request) -> Response:
        raw = await request.body()
        self.attempts += 1
        behaviour = self.behaviour
        if behaviour.delay_s:
            await asyncio.sleep(behaviour.delay_s)
        if behaviour.redirect_to:
            return Response(status_code=302, headers={"location": behaviour.redirect_to})
        if behaviour.answered < behaviour.fail_first:
            behaviour.answered += 1
            headers = {"retry-after": behaviour.retry_after} if behaviour.retry_after else {}
            return Response("not now", status_code=behaviour.fail_status, headers=headers)
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
        self.deliveries.append(
            Delivery(
                event_id=request.headers.get("x-webhook-event-id", ""),
                event_type_header=request.headers.get("x-webhook-event-type", ""),
                webhook_id=request.headers.get("x-webhook-id", ""),
                verified=verified,
                body=body,
                headers=dict(request.headers),
            )
        )
        return Response("ok" if verified else "bad signature", status_code=200 if verified else 401)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[Delivery]:
        deadline = time.monotonic() + timeout
        while len(self.deliveries) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.deliveries)} of {count} deliveries after {timeout} s "
                f"({self.attempts} attempts)"
            )
            time.sleep(0.02)
        return self.deliveries
