"""The `limits` storage of a process: Redis when `SENTD_REDIS_URL` is set (shared by every process),
memory otherwise (per process)."""

from __future__ import annotations

from limits.aio.storage import MemoryStorage, Storage
from limits.storage import storage_from_string


def make_storage(redis_url: str | None) -> Storage:
    if redis_url:
        uri = redis_url if redis_url.startswith("async+") else "async+" + redis_url
        storage = storage_from_string(uri)
        assert isinstance(storage, Storage)
        return storage
    return MemoryStorage()
