"""Request intake against misbehaving clients, over raw sockets where the attack is below HTTP:
oversized and stalled bodies never reach a route, never fill the in-flight ceiling, and the
legitimate clients keep being served."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.conftest import build_app
from tests.contract import assert_error, assert_ok
from tests.factories import Org, customer_counts, make_org
from tests.live_server import LiveServer

LIMIT = 64 * 1024
BODY_TIMEOUT_S = 6.0
MAX_IN_FLIGHT = 4


@pytest.fixture(scope="module")
def edge(database_url: str) -> Iterator[LiveServer]:
    """A server with a small body limit, a short body timeout and a small in-flight ceiling."""
    server = LiveServer(
        build_app(
            database_url,
            max_body_bytes=LIMIT,
            body_timeout_s=BODY_TIMEOUT_S,
            max_in_flight=MAX_IN_FLIGHT,
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture
def org(edge: LiveServer) -> Org:
    return make_org(edge)


@dataclass
class Raw:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]


def connect(server: LiveServer) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=30)


def head(path: str, headers: dict[str, str], method: str = "POST") -> bytes:
    lines = [
        f"{method} {path} HTTP/1.1",
        "Host: sentd.test",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()  # fmt: skip


def read_response(sock: socket.socket, timeout: float) -> Raw:
    """One HTTP response (with a Content-Length body), read within `timeout` seconds."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head_part, rest = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head_part.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed inside the response body"
        rest += chunk
    return Raw(int(status_line.split()[1]), headers, json.loads(rest[:length]))


def closed_by_server(sock: socket.socket, timeout: float = 10) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def assert_raw_error(response: Raw, code: str, status: int) -> None:
    assert response.status == status, response
    assert response.body["success"] is False
    assert response.body["error"]["code"] == code
    assert response.headers["x-request-id"].startswith("req_")


def test_oversize_content_length_is_refused_at_once(edge: LiveServer, org: Org) -> None:
    """200 MB announced, 1 KiB sent: 413 at once, so the body was never read (nor held)."""
    before = customer_counts(edge, org.id)
    with connect(edge) as sock:
        headers = {
            "x-api-key": org.live_key,
            "content-type": "application/json",
            "content-length": str(200 * 1024 * 1024),
        }
        sock.sendall(head("/v3/contacts", headers) + b'{"phone_number": "' + b"1" * 1024)
        started = time.monotonic()
        response = read_response(sock, timeout=10)
        assert time.monotonic() - started < BODY_TIMEOUT_S  # not a timeout: refused on sight
        assert_raw_error(response, "REQUEST_001", 413)
        assert response.body["error"]["details"] == {
            "body": [f"The body is larger than {LIMIT} bytes"]
        }
        assert response.headers["x-should-retry"] == "false"
        assert response.headers["connection"] == "close"
        assert closed_by_server(sock)
    assert customer_counts(edge, org.id) == before
    assert_served(edge, org)


def assert_served(server: LiveServer, org: Org) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))


def test_oversize_without_a_key_is_refused_too(edge: LiveServer) -> None:
    with connect(edge) as sock:
        sock.sendall(head("/v3/contacts", {"content-length": str(10**9)}) + b"{")
        assert_raw_error(read_response(sock, timeout=10), "REQUEST_001", 413)


def test_a_chunked_body_is_cut_off_at_the_limit(edge: LiveServer, org: Org) -> None:
    before = customer_counts(edge, org.id)
    with connect(edge) as sock:
        headers = {
            "x-api-key": org.live_key,
            "content-type": "application/json",
            "transfer-encoding": "chunked",
        }
        sock.sendall(head("/v3/contacts", headers))
        piece = b" " * 8192
        sent = 0
        while sent <= LIMIT:  # just past the limit; the server answers without the rest
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            sent += len(piece)
        response = read_response(sock, timeout=10)
        assert_raw_error(response, "REQUEST_001", 413)
        assert closed_by_server(sock)
    assert customer_counts(edge, org.id) == before
    assert_served(edge, org)


def test_a_body_under_the_limit_is_served(edge: LiveServer, org: Org) -> None:
    padding = ["p" * 8000] * 7  # ~56 KiB of ignored keys: under 64 KiB
    with httpx.Client(base_url=edge.base_url) as client:
        body = {"phone_number": "+14155550123", "padding": padding}
        response = client.post("/v3/contacts", json=body, headers={"x-api-key": org.live_key})
        assert assert_ok(response, 201)["phone_number"] == "+14155550123"
        chunked = client.post(
            "/v3/contacts",
            content=iter([json.dumps({"phone_number": "+14155550124"}).encode()]),
            headers={"x-api-key": org.live_key, "content-type": "application/json"},
        )
        assert assert_ok(chunked, 201)["phone_number"] == "+14155550124"


def test_an_unauthenticated_body_is_never_read(edge: LiveServer) -> None:
    """No key: 401 as soon as the headers are in, although the announced body never comes."""
    with connect(edge) as sock:
        sock.sendall(head("/v3/contacts", {"content-length": "1000", "x-api-key": "sk_live_nope"}))
        started = time.monotonic()
        assert_raw_error(read_response(sock, timeout=10), "AUTH_002", 401)
        assert time.monotonic() - started < BODY_TIMEOUT_S


def test_stalled_bodies_do_not_starve_legitimate_clients(edge: LiveServer, org: Org) -> None:
    """Many times the in-flight ceiling of authenticated clients announce a body and stall. While
    they wait, everyone else is served and the process stays ready; each stalled request then
    answers 408 REQUEST_002 and its connection is closed; none of them wrote anything."""
    stalled: list[socket.socket] = []
    before = customer_counts(edge, org.id)
    try:
        for _ in range(MAX_IN_FLIGHT * 10):
            sock = connect(edge)
            headers = {
                "x-api-key": org.live_key,
                "content-type": "application/json",
                "content-length": "100",
            }
            sock.sendall(head("/v3/contacts", headers) + b'{"phone_number": "+1415')
            stalled.append(sock)
        started = time.monotonic()
        with httpx.Client(base_url=edge.base_url, timeout=10) as client:
            for _ in range(20):
                assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
            created = client.post(
                "/v3/contacts",
                json={"phone_number": "+14155550142"},
                headers={"x-api-key": org.live_key},
            )
            assert_ok(created, 201)
            assert_ok(client.get("/health/ready"))
        served_within = time.monotonic() - started
        assert served_within < BODY_TIMEOUT_S, "the legitimate requests were held up"
        for sock in stalled:
            response = read_response(sock, timeout=BODY_TIMEOUT_S + 30)
            assert_raw_error(response, "REQUEST_002", 408)
            assert response.headers["x-should-retry"] == "true"
            assert closed_by_server(sock)
    finally:
        for sock in stalled:
            sock.close()
    after = customer_counts(edge, org.id)
    assert after["contacts"] == before["contacts"] + 1  # only the legitimate one
    assert after["idempotency_keys"] == before["idempotency_keys"]


def test_a_trickled_body_is_bounded_in_time_too(edge: LiveServer, org: Org) -> None:
    """A byte now and then does not extend the body timeout: it bounds the whole body."""
    with connect(edge) as sock:
        headers = {"x-api-key": org.live_key, "content-length": "1000"}
        sock.sendall(head("/v3/contacts", headers))
        started = time.monotonic()
        stop = threading.Event()

        def trickle() -> None:
            while not stop.wait(0.5):
                try:
                    sock.sendall(b" ")
                except OSError:
                    return

        thread = threading.Thread(target=trickle)
        thread.start()
        try:
            assert_raw_error(read_response(sock, timeout=BODY_TIMEOUT_S + 30), "REQUEST_002", 408)
        finally:
            stop.set()
            thread.join()
        assert time.monotonic() - started < BODY_TIMEOUT_S + 20


def test_readiness_reports_a_full_ceiling(database_url: str) -> None:
    server = LiveServer(build_app(database_url, max_in_flight=1)).start()
    try:
        org = make_org(server)
        slow: list[httpx.Response] = []

        def send_slow() -> None:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                slow.append(
                    client.get("/v3/_probe/slow?seconds=2", headers={"x-api-key": org.live_key})
                )

        thread = threading.Thread(target=send_slow)
        thread.start()
        with httpx.Client(base_url=server.base_url) as client:
            deadline = time.monotonic() + 10
            while (ready := client.get("/health/ready")).status_code == 200:
                assert time.monotonic() < deadline, "never reported unready"
                time.sleep(0.02)
            error = assert_error(ready, "INTERNAL_005")
            assert error["details"] == {"service": ["1 of 1 requests in flight"]}
            assert ready.headers["retry-after"] == "1"
            thread.join()
            assert_ok(slow[0])
            assert_ok(client.get("/health/ready"))
    finally:
        server.stop()
