"""How many PostgreSQL connections a sentd process may open: the arithmetic deployments rely on.

An API process holds its pool plus one connection for LISTEN (key revocations, maintenance, plan
changes). A `sentd worker` sizes its pool to its concurrency, so that concurrency and not the
pool bounds it, and listens on nothing.
"""

from __future__ import annotations

from sentd.config import Settings

WORKER_POOL_HEADROOM = 4  # the loops besides the dispatcher and the delivery loop


def worker_pool_size(settings: Settings) -> int:
    return max(settings.db_pool_max_size, settings.worker_concurrency + WORKER_POOL_HEADROOM)


def api_process_connections(settings: Settings) -> int:
    return settings.db_pool_max_size + 1


def worker_process_connections(settings: Settings) -> int:
    return worker_pool_size(settings)
