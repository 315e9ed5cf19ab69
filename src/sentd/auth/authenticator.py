"""From an `x-api-key` value to a `Principal`, with a short-lived cache.

A cache hit costs no database round trip. Entries live `ttl` seconds (`SENTD_AUTH_CACHE_TTL_S`);
revoking a key sends `NOTIFY sentd_key_revoked`, and every API process listening drops the entry
at once, so a revoked key stops working immediately, not after the TTL. Changing an
organization's plan or limits sends `NOTIFY sentd_limits_changed`, which drops its keys' entries
the same way, so the new limits apply at once. Expiry is checked on every
request, cached or not. A cache miss also records `last_used_at`, so that column is exact to
within the TTL.

The cache is only as good as the notifications: while the process's LISTEN connection is down
(the database restarted), the cache is off (`suspend_cache`) and every request asks the
database; when it is back, the cache starts empty (`resume_cache`), since it may have missed a
revocation meanwhile.

Suspending an organization sends the same NOTIFY for every key of it and its profiles; a key that
is refused only because its organization is suspended raises `OrganizationSuspended` (never
cached, so resuming needs no notice).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sentd.auth import keys as key_format
from sentd.auth.permissions import Role
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.repos import api_keys
from sentd.plans import effective_limits


class OrganizationSuspended(Exception):
    """The key is valid, but the operator suspended its organization."""


class Authenticator:
    def __init__(self, db: Database, ttl_s: float, request_rates: dict[str, int]) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._request_rates = request_rates
        self._cache: dict[bytes, tuple[float, Principal, datetime | None]] = {}
        self._caching = True
        self._generation = 0  # bumped on every invalidation: a read from before is not cached

    def cached(self, plaintext: str) -> Principal | None:
        """The principal of a key this process authenticated moments ago and was told nothing
        since (revocation, plan change, suspension), without asking the database; None when it
        must be asked."""
        if not key_format.is_well_formed(plaintext):
            return None
        entry = self._cache.get(key_format.digest(plaintext))
        if entry is None or entry[0] <= time.monotonic():
            return None
        _, principal, expires_at = entry
        if expires_at is not None and expires_at <= datetime.now(UTC):
            return None
        return principal

    async def authenticate(self, plaintext: str) -> Principal | None:
        if not key_format.is_well_formed(plaintext):
            return None
        digest = key_format.digest(plaintext)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is not None and cached[0] > now:
            _, principal, expires_at = cached
            if expires_at is None or expires_at > datetime.now(UTC):
                return principal
            self._cache.pop(digest, None)
            return None
        generation = self._generation
        async with self._db.connection() as conn:
            row = await api_keys.touch_active(conn, digest)
            suspended = row is None and await api_keys.is_suspended_key(conn, digest)
        if row is None:
            self._cache.pop(digest, None)
            if suspended:
                raise OrganizationSuspended
            return None
        principal = principal_from_row(row, self._request_rates)
        if self._ttl_s > 0 and self._caching and generation == self._generation:
            self._cache[digest] = (now + self._ttl_s, principal, row["expires_at"])
        return principal

    def suspend_cache(self) -> None:
        """Notifications may be missed from now on: cache nothing, drop what is cached."""
        self._caching = False
        self._generation += 1
        self._cache.clear()

    def resume_cache(self) -> None:
        """Notifications flow again: cache from an empty cache."""
        self._cache.clear()
        self._caching = True
        self._generation += 1

    def forget(self, digest: bytes) -> None:
        self._cache.pop(digest, None)
        self._generation += 1  # a read racing with the revocation must not re-cache the key

    def on_limits_changed(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        """asyncpg LISTEN callback for `sentd_limits_changed` (payload: an organization's id):
        its keys' cached principals carry the old plan and limits, so they are dropped."""
        stale = [
            digest
            for digest, (_, principal, _) in self._cache.items()
            if str(principal.organization_id) == payload
        ]
        for digest in stale:
            self._cache.pop(digest, None)

    def on_revoked(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        """asyncpg LISTEN callback for `sentd_key_revoked` (payload: the key's digest in hex)."""
        try:
            self.forget(bytes.fromhex(payload))
        except ValueError:
            self._cache.clear()


def principal_from_row(row: Any, request_rates: dict[str, int]) -> Principal:
    """The principal a key's row (`api_keys.touch_active`) authenticates as."""
    return Principal(
        key_id=row["id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        livemode=row["livemode"],
        key_customer_id=row["customer_id"],
        key_customer_kind=row["customer_kind"],
        organization_id=row["organization_id"],
        customer_id=row["customer_id"],
        plan=row["plan"],
        limits=effective_limits(row["plan"], row["limit_overrides"] or {}, request_rates),
    )
