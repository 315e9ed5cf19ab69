"""The access log line of every request, incoming request ids, and `/metrics`."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import OPERATOR, build_app
from tests.contract import assert_error, assert_ok
from tests.factories import make_org
from tests.live_server import LiveServer
from tests.webhook_receiver import WebhookReceiver

TOKEN = "metrics-secret-token"


@pytest.fixture(scope="module")
def observed(database_url: str) -> Iterator[LiveServer]:
    server = LiveServer(
        build_app(database_url, run_workers=True, metrics_token=TOKEN, simulator_latency_ms=50)
    ).start()
    yield server
    server.stop()


@pytest.fixture
def http(observed: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=observed.base_url, timeout=30) as client:
        yield client


def access_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "sentd.access"]


def test_one_access_line_per_request_without_the_key(
    observed: LiveServer, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    org = make_org(observed)
    caplog.set_level(logging.INFO, logger="sentd.access")
    response = http.get("/v3/me", headers={"x-api-key": org.test_key, "x-request-id": "lb-7f3a.9"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "lb-7f3a.9"  # the load balancer's id is kept

    deadline = time.monotonic() + 5
    while not (lines := [r for r in access_records(caplog) if r.request_id == "lb-7f3a.9"]):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.01)
    (line,) = lines
    fields = line.__dict__
    assert (fields["method"], fields["route"], fields["status"]) == ("GET", "/v3/me", 200)
    assert fields["organization_id"] == str(org.id)
    assert fields["key_id"] and fields["bytes"] > 0 and fields["duration_ms"] >= 0
    assert org.test_key not in repr(fields) and org.test_key not in line.getMessage()

    unknown = http.get("/v3/no/such/route", headers={"x-request-id": "bad id with spaces"})
    minted = unknown.headers["x-request-id"]
    assert minted.startswith("req_")  # a malformed incoming id is replaced, not echoed
    deadline = time.monotonic() + 5
    while not (lines := [r for r in access_records(caplog) if r.request_id == minted]):
        assert time.monotonic() < deadline, "no access line"
        time.sleep(0.01)
    assert lines[0].__dict__["route"] == "unmatched" and lines[0].__dict__["status"] == 404
    too_long = http.get("/healthcheck", headers={"x-request-id": "a" * 129})
    assert too_long.headers["x-request-id"].startswith("req_")


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(4))
    return total


def scrape(http: httpx.Client) -> str:
    response = http.get("/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def test_metrics_need_the_operator_token(http: httpx.Client) -> None:
    assert_error(http.get("/metrics"), "AUTH_001")
    assert_error(http.get("/metrics", headers={"authorization": "Bearer nope"}), "AUTH_002")


def test_metrics_are_off_without_a_token(client: httpx.Client) -> None:
    assert_error(client.get("/metrics"), "ROUTE_NOT_FOUND")


def test_metrics_move_with_sends_and_show_the_queues(
    observed: LiveServer, http: httpx.Client
) -> None:
    org = make_org(observed)
    headers = {"x-api-key": org.test_key}
    with WebhookReceiver() as receiver:
        hook = {
            "display_name": "metrics",
            "endpoint_url": receiver.url,
            "event_types": ["messages"],
            "event_filters": {"message": ["delivered"]},
        }
        receiver.secret = assert_ok(http.post("/v3/webhooks", json=hook, headers=headers), 201)[
            "signing_secret"
        ]
        before = scrape(http)
        for n in range(3):
            body = {"to": [f"+14155550{n + 181}"], "text": "metrics"}
            assert_ok(http.post("/v3/messages", json=body, headers=headers), 202)
        receiver.wait_for(3)

        deadline = time.monotonic() + 20
        while True:
            after = scrape(http)
            delivered = sample(after, "sentd_webhook_deliveries_total", outcome="delivered")
            if (
                delivered - sample(before, "sentd_webhook_deliveries_total", outcome="delivered")
                >= 3
            ):
                break
            assert time.monotonic() < deadline, "the deliveries never showed in /metrics"
            time.sleep(0.1)

    def moved(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert moved("sentd_message_accept_duration_seconds_count") == 3
    assert moved("sentd_send_group_sends_sum", outcome="committed") == 3
    assert (
        moved("sentd_http_requests_total", method="POST", route="/v3/messages", status="202") == 3
    )
    assert moved("sentd_message_transitions_total", status="DELIVERED", channel="sms") >= 3
    assert moved("sentd_provider_submissions_total", provider="simulator", outcome="sent") >= 3
    assert moved("sentd_dispatch_duration_seconds_count", provider="simulator") >= 3
    assert moved("sentd_webhook_delivery_duration_seconds_count") >= 3
    assert sample(after, "sentd_db_pool_connections", state="open") >= 1
    assert 'sentd_queue_depth{queue="messages_due"}' in after
    assert 'sentd_queue_oldest_age_seconds{queue="webhook_deliveries_due"}' in after


def test_status_shows_queue_depths_and_ages(client: httpx.Client) -> None:
    queues = assert_ok(client.get("/status", headers=OPERATOR))["components"]["queues"]
    assert set(queues) >= {"messages_due", "webhook_deliveries_due", "template_reviews_due"}
    assert all(q["depth"] >= 0 and q["oldest_age_s"] >= 0 for q in queues.values())


def test_the_grafana_dashboard_uses_only_metrics_sentd_exports() -> None:
    import json
    from pathlib import Path

    from prometheus_client.metrics import MetricWrapperBase

    from sentd import metrics

    families = {
        family.name
        for value in vars(metrics).values()
        if isinstance(value, MetricWrapperBase)
        for family in value.describe()
    } | {"sentd_queue_depth", "sentd_queue_oldest_age_seconds"}
    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    exported = {name + suffix for name in families for suffix in suffixes}
    dashboard = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "grafana-dashboard.json").read_text()
    )
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"sentd_[a-z_]+", target["expr"])
    }
    assert used and used <= exported, used - exported
