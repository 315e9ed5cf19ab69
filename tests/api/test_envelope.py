"""Envelope, standard headers, unknown routes and wrong methods."""

from __future__ import annotations

import httpx

from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer


def test_success_has_envelope_and_headers(server: LiveServer, client: httpx.Client) -> None:
    org = make_org(server)
    data = assert_ok(client.get("/v3/me", headers={"x-api-key": org.live_key}))
    assert data["id"] == str(org.id)


def test_every_request_gets_its_own_request_id(client: httpx.Client) -> None:
    ids = {client.get("/healthcheck").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_route_answers_route_not_found(client: httpx.Client) -> None:
    error = assert_error(client.get("/v3/nothing-here"), "ROUTE_NOT_FOUND")
    assert error["details"] == {"path": ["No route /v3/nothing-here"]}


def test_wrong_method_answers_method_not_allowed(client: httpx.Client) -> None:
    response = client.delete("/v3/me")
    assert_error(response, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"


def test_doc_url_serves_the_code_page(client: httpx.Client) -> None:
    error = assert_error(client.get("/v3/me"), "AUTH_001")
    page = client.get(error["doc_url"], headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "AUTH_001" in page.text and "User is not authenticated" in page.text
    as_json = assert_ok(client.get(error["doc_url"]))
    assert as_json["status"] == 401 and as_json["message"] == "User is not authenticated"


def test_errors_index_lists_the_whole_catalog(client: httpx.Client) -> None:
    from sentd.errors.catalog import CATALOG

    listed = assert_ok(client.get("/errors"))["errors"]
    assert [e["code"] for e in listed] == list(CATALOG)
    assert all(e["cause"] and e["remediation"] for e in listed)


def test_unknown_error_code_page(client: httpx.Client) -> None:
    assert_error(client.get("/errors/NOPE_999"), "ROUTE_NOT_FOUND")
