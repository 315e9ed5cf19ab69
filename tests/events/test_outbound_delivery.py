"""Webhook delivery through the outbound layer, end to end: international URLs, a webhook whose
attempts all raise next to a healthy one, receivers that close connections, DNS rebinding, and
slow endpoints under `POST /v3/webhooks/{id}/test`."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sentd.events.emit import emit_many
from sentd.outbound.resolvers import use_resolver
from sentd.workers.runner import WorkerContext
from sentd.workers.webhook_delivery import deliver_due
from tests.conftest import build_app
from tests.contract import assert_ok
from tests.factories import Org, make_org
from tests.live_server import LiveServer
from tests.outbound.servers import ScriptedResolver
from tests.webhook_receiver import Behaviour, WebhookReceiver

PUBLIC = "93.184.216.34"  # only ever a DNS answer here: never connected to


@pytest.fixture
def dns() -> Iterator[ScriptedResolver]:
    resolver = ScriptedResolver({})
    use_resolver(resolver)
    yield resolver
    use_resolver(None)


def start(database_url: str, **overrides: Any) -> LiveServer:
    """A server without worker loops: the test runs delivery itself (`deliver`), so that what it
    emitted is claimed in one batch."""
    settings = {"webhook_retry_base_s": 0.05, "webhook_retry_cap_s": 0.1, **overrides}
    return LiveServer(build_app(database_url, **settings)).start()


@pytest.fixture(scope="module")
def quiet(database_url: str) -> Iterator[LiveServer]:
    live = start(database_url)
    yield live
    live.stop()


def state_of(live: LiveServer) -> Any:
    return live.app.state  # type: ignore[attr-defined]


def deliver(live: LiveServer) -> None:
    state = state_of(live)
    context = WorkerContext(
        state.db, state.settings, state.idempotency, state.clock, state.providers
    )
    live.run(deliver_due(context))


def subscribe(live: LiveServer, org: Org, url: str, **fields: Any) -> dict[str, Any]:
    body = {"display_name": "Hook", "endpoint_url": url, "event_types": ["contact"], **fields}
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        response = client.post("/v3/webhooks", json=body, headers={"x-api-key": org.live_key})
    data: dict[str, Any] = assert_ok(response, 201)
    return data


def emit(live: LiveServer, org: Org, count: int) -> list[str]:
    async def go() -> list[uuid.UUID]:
        async with state_of(live).db.transaction() as conn:
            return await emit_many(
                conn,
                customer_id=org.id,
                organization_id=org.id,
                livemode=True,
                events=[("contact.opt_out", "opt_out", {"n": n}) for n in range(count)],
                now=state_of(live).clock.now(),
            )

    return [str(event_id) for event_id in live.run(go())]


def attempts_of(live: LiveServer, webhook_id: str) -> list[Any]:
    async def go() -> list[Any]:
        async with state_of(live).db.connection() as conn:
            return list(
                await conn.fetch(
                    "SELECT d.event_id, d.state, a.attempt, a.http_status, a.error "
                    "FROM webhook_deliveries d JOIN webhook_attempts a ON a.delivery_id = d.id "
                    "WHERE d.webhook_id = $1 ORDER BY d.seq, a.attempt",
                    uuid.UUID(webhook_id),
                )
            )

    return live.run(go())


def until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@dataclass
class AnyPathReceiver(WebhookReceiver):
    """A verifying receiver on every path; records each request's raw path and host."""

    raw_paths: list[bytes] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # by webhook id

    def __post_init__(self) -> None:
        app = Starlette(routes=[Route("/{rest:path}", self._any, methods=["POST"])])
        self._server = LiveServer(app)

    async def _any(self, request: Request) -> Response:
        self.raw_paths.append(request.scope["raw_path"])
        self.hosts.append(request.headers["host"])
        self.secret = self.secrets.get(request.headers.get("x-webhook-id", ""), "unknown")
        return await self._hook(request)

    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])


def test_an_idn_host_and_a_non_ascii_path_are_stored_normalised_and_delivered(
    quiet: LiveServer, dns: ScriptedResolver
) -> None:
    dns.scripts["xn--e1afmkfd.xn--p1ai"] = ["127.0.0.1"]
    org = make_org(quiet)
    with AnyPathReceiver() as receiver:
        port = receiver.port()
        by_host = subscribe(quiet, org, f"http://пример.рф:{port}/hook")
        by_path = subscribe(quiet, org, f"http://127.0.0.1:{port}/вебхук?тема=опт аут")
        assert by_host["endpoint_url"] == f"http://xn--e1afmkfd.xn--p1ai:{port}/hook"
        path = "/%D0%B2%D0%B5%D0%B1%D1%85%D1%83%D0%BA"
        query = "?%D1%82%D0%B5%D0%BC%D0%B0=%D0%BE%D0%BF%D1%82%20%D0%B0%D1%83%D1%82"
        assert by_path["endpoint_url"] == f"http://127.0.0.1:{port}{path}{query}"
        with httpx.Client(base_url=quiet.base_url) as client:
            shown = client.get(f"/v3/webhooks/{by_path['id']}", headers={"x-api-key": org.live_key})
        assert assert_ok(shown)["endpoint_url"] == by_path["endpoint_url"]

        receiver.secrets = {w["id"]: w["signing_secret"] for w in (by_host, by_path)}
        emit(quiet, org, 1)
        deliver(quiet)
        until(lambda: len(receiver.deliveries) == 2)
        assert sorted(receiver.raw_paths) == sorted([b"/hook", path.encode()])
        assert f"xn--e1afmkfd.xn--p1ai:{port}" in receiver.hosts
        assert {d.webhook_id for d in receiver.deliveries} == {by_host["id"], by_path["id"]}
        assert all(d.verified for d in receiver.deliveries)


def test_a_webhook_whose_attempts_all_raise_harms_no_other(
    quiet: LiveServer, dns: ScriptedResolver
) -> None:
    dns.scripts["poison.example"] = ["raise"]  # the client raises on every attempt
    healthy_org, poisoned_org = make_org(quiet), make_org(quiet)
    with WebhookReceiver() as receiver:
        healthy = subscribe(quiet, healthy_org, receiver.url)
        receiver.secret = healthy["signing_secret"]
        poisoned = subscribe(quiet, poisoned_org, "http://poison.example/hook", retry_count=2)
        poison_events = emit(quiet, poisoned_org, 3)
        healthy_events = emit(quiet, healthy_org, 5)  # claimed in the same batch as the poison

        def poison_done() -> bool:
            deliver(quiet)
            return len(attempts_of(quiet, poisoned["id"])) == 3 * 3

        until(poison_done)
        deliver(quiet)
        received = [d.event_id for d in receiver.deliveries]
        assert sorted(received) == sorted(healthy_events)  # each exactly once
        assert all(d.verified for d in receiver.deliveries)
        attempts = attempts_of(quiet, poisoned["id"])
        assert {str(a["event_id"]) for a in attempts} == set(poison_events)
        assert all(a["state"] == "failed" and a["http_status"] is None for a in attempts)
        assert all("the resolver broke" in a["error"] for a in attempts)
        assert [a["attempt"] for a in attempts] == [1, 2, 3] * 3


class ClosingHandler(socketserver.BaseRequestHandler):
    """Answers one request as if the connection stayed open, then closes it."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if b"content-length" in line.lower()
        )
        while len(body) < length:
            body += sock.recv(65536)
        self.server.answered += 1  # type: ignore[attr-defined]
        sock.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        sock.close()


def test_a_receiver_that_closes_every_connection_gets_50_deliveries_without_a_failure(
    database_url: str,
) -> None:
    live = start(database_url, webhook_max_in_flight=1)  # one after the other, on one connection
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), ClosingHandler)
    server.answered = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        org = make_org(live)
        webhook = subscribe(live, org, f"http://127.0.0.1:{server.server_address[1]}/hook")
        emit(live, org, 50)
        deliver(live)
        attempts = attempts_of(live, webhook["id"])
        assert len(attempts) == 50
        assert [a["error"] for a in attempts if a["error"]] == []
        assert all(a["http_status"] == 200 and a["state"] == "delivered" for a in attempts)
        assert server.answered == 50  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        live.stop()


def test_a_name_rebound_inward_after_saving_is_refused_at_connect(
    database_url: str, dns: ScriptedResolver
) -> None:
    strict = start(database_url, webhook_allow_private=False)
    try:
        with WebhookReceiver() as receiver:
            port = receiver.url.rsplit(":", 1)[1].split("/")[0]
            dns.scripts["rebind.example"] = [PUBLIC, "127.0.0.1"]
            org = make_org(strict)
            webhook = subscribe(strict, org, f"http://rebind.example:{port}/hook")
            emit(strict, org, 1)
            deliver(strict)
            [attempt] = attempts_of(strict, webhook["id"])
            assert attempt["http_status"] is None and attempt["state"] == "retrying"
            assert "destination refused" in attempt["error"] and "127.0.0.1" in attempt["error"]
            assert receiver.attempts == 0
            assert dns.lookups == ["rebind.example", "rebind.example"]  # saving, connecting
    finally:
        strict.stop()


def test_slow_test_endpoints_do_not_starve_the_api(database_url: str) -> None:
    live = start(database_url, rate_sensitive_per_minute=1000, rate_sensitive_burst=100)
    try:
        org = make_org(live)
        headers = {"x-api-key": org.live_key}
        with WebhookReceiver(behaviour=Behaviour(delay_s=5)) as receiver:
            webhook = subscribe(live, org, receiver.url, timeout_seconds=20)
            receiver.secret = webhook["signing_secret"]

            def test_send(_: int) -> dict[str, Any]:
                with httpx.Client(base_url=live.base_url, timeout=60) as client:
                    response = client.post(
                        f"/v3/webhooks/{webhook['id']}/test", json={}, headers=headers
                    )
                    data: dict[str, Any] = assert_ok(response)
                    return data

            with ThreadPoolExecutor(20) as pool, httpx.Client(base_url=live.base_url) as client:
                sends = [pool.submit(test_send, n) for n in range(20)]
                until(lambda: receiver.attempts == 20)  # all 20 wait on the slow endpoint
                for _ in range(5):
                    began = time.monotonic()
                    me = client.get("/v3/me", headers=headers, timeout=10)
                    assert me.status_code == 200 and time.monotonic() - began < 1.0
                    assert not any(send.done() for send in sends)
                results = [send.result() for send in sends]
        assert all(r["success"] for r in results)
    finally:
        live.stop()
