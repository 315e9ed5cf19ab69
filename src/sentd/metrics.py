"""Prometheus metrics: what every process counts, and the exposition an operator scrapes.

Counters and histograms live in the process that observes them. With several processes on one
host (`sentd serve --workers N`), `PROMETHEUS_MULTIPROC_DIR` names a directory they all write to,
and `exposition()` merges them, so one scrape of any process sees the whole server. Queue depths
are not counted by anyone: they are read from the database at scrape time.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "sentd_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "sentd_http_request_duration_seconds",
    "Time from the request's arrival to the end of its answer.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
ACCEPT_SECONDS = Histogram(
    "sentd_message_accept_duration_seconds",
    "Time to accept a send (POST /v3/messages answered 2xx).",
    buckets=LATENCY_BUCKETS,
)
SEND_GROUPS = Histogram(
    "sentd_send_group_sends",
    "Sends written together by one group commit (1: the send went alone).",
    ["outcome"],  # committed, or alone: a refused charge sent each of the group alone
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
MESSAGE_TRANSITIONS = Counter(
    "sentd_message_transitions_total",
    "Messages moved to a status, by status and channel.",
    ["status", "channel"],
)
PROVIDER_SUBMISSIONS = Counter(
    "sentd_provider_submissions_total",
    "Messages handed to a provider, by provider and outcome (sent, retry, failed).",
    ["provider", "outcome"],
)
DISPATCH_SECONDS = Histogram(
    "sentd_dispatch_duration_seconds",
    "Time a provider took to take a message, by provider.",
    ["provider"],
    buckets=LATENCY_BUCKETS,
)
WEBHOOK_DELIVERIES = Counter(
    "sentd_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome (delivered, retrying, failed).",
    ["outcome"],
)
WEBHOOK_SECONDS = Histogram(
    "sentd_webhook_delivery_duration_seconds",
    "Time a customer's endpoint took to answer a delivery attempt.",
    buckets=LATENCY_BUCKETS,
)
DB_POOL_CONNECTIONS = Gauge(
    "sentd_db_pool_connections",
    "Connections of the processes' database pools: open, and in use.",
    ["state"],
    multiprocess_mode="livesum",
)
DB_POOL_EXHAUSTED = Counter(
    "sentd_db_pool_exhausted_total",
    "Requests shed because no database connection came free in time.",
)
REDIS_BREAKER_OPEN = Gauge(
    "sentd_redis_breaker_open",
    "1 while the Redis circuit breaker is open (rate limits fail open).",
    multiprocess_mode="livemax",
)


def observe_pool(size: int, idle: int) -> None:
    DB_POOL_CONNECTIONS.labels("open").set(size)
    DB_POOL_CONNECTIONS.labels("in_use").set(size - idle)


def forget_this_process() -> None:
    """At exit: drop this process's live gauges from the shared directory."""
    if os.environ.get(MULTIPROC_ENV):
        mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


class QueueGauges:
    """The queues read at scrape time, as two gauge families."""

    def __init__(self, queues: Mapping[str, Mapping[str, float]]) -> None:
        self.queues = queues

    def collect(self) -> Iterable[Metric]:
        depth = GaugeMetricFamily(
            "sentd_queue_depth", "Rows due now in a worker queue.", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "sentd_queue_oldest_age_seconds",
            "How long the oldest row due in a worker queue has waited.",
            labels=["queue"],
        )
        for name, figures in self.queues.items():
            depth.add_metric([name], figures["depth"])
            age.add_metric([name], figures["oldest_age_s"])
        yield depth
        yield age


def exposition(queues: Mapping[str, Mapping[str, float]]) -> bytes:
    """The text a Prometheus scrape gets: every process's metrics, then the queues."""
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)  # type: ignore[no-untyped-call]
        own = generate_latest(merged)
    else:
        own = generate_latest(REGISTRY)
    queue_registry = CollectorRegistry()
    queue_registry.register(QueueGauges(queues))
    return own + generate_latest(queue_registry)
