"""HTTP hygiene: security headers, no server banner, doc_url never from an arbitrary Host,
/status details only for the operator, and the full Allow list on 405."""

from __future__ import annotations

import uuid

import httpx
import pytest

from sentd.api.public_url import base_url
from sentd.config import Settings
from tests.conftest import OPERATOR
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


@pytest.mark.parametrize(
    "path", ["/healthcheck", "/v3/me", "/v3/nothing-here", "/errors", "/openapi.json"]
)
def test_every_response_says_nosniff_and_names_no_server(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "server" not in response.headers


@pytest.mark.parametrize("path", ["/errors", "/errors/AUTH_001", "/docs"])
def test_html_pages_forbid_framing_and_carry_a_policy(client: httpx.Client, path: str) -> None:
    response = client.get(path, headers={"accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_json_responses_carry_no_page_policy(client: httpx.Client) -> None:
    assert "x-frame-options" not in client.get("/healthcheck").headers


def test_doc_url_ignores_an_arbitrary_host_header(server: LiveServer, client: httpx.Client) -> None:
    response = client.get("/v3/me", headers={"host": "evil.example"})
    error = assert_error(response, "AUTH_001")
    assert error["doc_url"] == f"{server.base_url}/errors/AUTH_001"
    validation = client.post("/v3/_probe/validation", json={}, headers={"host": "evil.example"})
    assert assert_error(validation, "VALIDATION_004")["doc_url"].startswith(server.base_url)


def _scope(host: str, server: tuple[str, int] = ("10.0.0.5", 8000)) -> dict[str, object]:
    return {"scheme": "http", "server": server, "headers": [(b"host", host.encode())]}


def test_doc_url_base_comes_from_configuration() -> None:
    plain = Settings(database_url="postgresql://unused/unused")
    assert base_url(_scope("evil.example"), plain) == "http://10.0.0.5:8000"
    assert base_url(_scope("x", ("::1", 80)), plain) == "http://[::1]"
    hosts = Settings(database_url="postgresql://unused/unused", public_hosts=["api.example.com"])
    assert base_url(_scope("API.example.com"), hosts) == "http://api.example.com"
    assert base_url(_scope("evil.example"), hosts) == "http://10.0.0.5:8000"
    public = Settings(database_url="postgresql://unused/unused", public_url="https://sent.example/")
    assert base_url(_scope("evil.example"), public) == "https://sent.example"


def test_status_details_only_for_the_operator(client: httpx.Client) -> None:
    assert assert_ok(client.get("/status")) == {"status": "ok"}
    wrong = client.get("/status", headers={"authorization": "Bearer not-the-token"})
    assert assert_ok(wrong) == {"status": "ok"}
    detailed = assert_ok(client.get("/status", headers=OPERATOR))
    assert detailed["components"]["database"]["status"] == "ok"


def test_status_without_a_configured_token_shows_no_details(database_url: str) -> None:
    from tests.conftest import build_app

    server = LiveServer(build_app(database_url, status_token=None)).start()
    try:
        with httpx.Client(base_url=server.base_url) as client:
            assert assert_ok(client.get("/status", headers=OPERATOR)) == {"status": "ok"}
            assert assert_ok(client.get("/status", headers={"authorization": "Bearer"})) == {
                "status": "ok"
            }
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", f"/v3/contacts/{uuid.uuid4()}", "DELETE, GET, PATCH"),
        ("DELETE", "/v3/contacts", "GET, POST"),
        ("POST", f"/v3/webhooks/{uuid.uuid4()}", "DELETE, GET, PUT"),
        ("DELETE", "/v3/me", "GET"),
    ],
)
def test_405_lists_every_allowed_method(
    server: LiveServer, client: httpx.Client, method: str, path: str, allow: str
) -> None:
    org = make_org(server)
    response = client.request(method, path, headers={"x-api-key": org.live_key})
    assert_error(response, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow
