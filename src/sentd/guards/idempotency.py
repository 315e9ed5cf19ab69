"""Idempotency keys: at most one execution per (customer, mode, key), and the same answer after.

A request with a key first *claims* it (a committed in-flight record). The operation's response is
stored in the operation's own transaction, so the stored answer exists exactly when the
operation's writes do. A repeat while the first runs gets 409 `CONFLICT_001`; a repeat after gets
the stored response, byte for byte. A key names one operation: its method and path (the route and
the resource it names). The same key on another operation answers 422 `IDEMPOTENCY_001`, never
the other operation's answer.

A claim whose request ended without a stored answer is released. When the release itself fails
(the database was lost mid-request), the process keeps retrying it in the background, and a
retry of the same key in this process releases it first, so the client is not refused for the
lease. A claim whose process died is taken over once its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta

from sentd.clock import Clock
from sentd.db.database import Database
from sentd.db.repos import idempotency_keys
from sentd.db.scope import Scope
from sentd.db.types import Connection
from sentd.errors.exceptions import ApiError

log = logging.getLogger("sentd.idempotency")
HEADER = "Idempotency-Key"
RELEASE_RETRY_FIRST_S = 0.2
RELEASE_RETRY_CAP_S = 2.0
_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")

# Responses that the operation decided are stored; the rest (400, 401, 403, 429, 5xx) are not,
# so a retry runs again.
STORED_ERROR_STATUSES = frozenset({404, 409, 422})
STORED_HEADERS = ("content-type", "location", "x-sandbox", "x-profile-id")


def check_format(value: str | None) -> str | None:
    """The key, None when absent; ApiError VALIDATION_007 when present but malformed."""
    if value is None:
        return None
    if not _FORMAT.fullmatch(value):
        raise ApiError(
            "VALIDATION_007",
            {HEADER: ["Use 1 to 255 characters: letters, digits, '-' and '_'"]},
        )
    return value


def should_store(status: int) -> bool:
    return 200 <= status < 300 or status in STORED_ERROR_STATUSES


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    original_request_id: str


@dataclass(frozen=True, slots=True)
class Claim:
    scope: Scope
    key: str
    request_id: str


def _other_operation(first: str, this: str) -> ApiError:
    return ApiError(
        "IDEMPOTENCY_001",
        {HEADER: [f"This key was first used for {first}; use a new key for {this}"]},
    )


def _in_flight() -> ApiError:
    return ApiError(
        "CONFLICT_001",
        {HEADER: ["A request with this key is still being processed; retry shortly"]},
        headers={"Retry-After": "1"},
    )


class Idempotency:
    def __init__(self, db: Database, clock: Clock, *, ttl_s: float, lease_s: float) -> None:
        self._db = db
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_s)
        self._lease = timedelta(seconds=lease_s)
        # Claims whose release failed, by (scope, key); retried until the database answers.
        self._unreleased: dict[tuple[Scope, str], Claim] = {}
        self._releasing: asyncio.Task[None] | None = None

    async def begin(self, claim: Claim, *, method: str, path: str) -> StoredResponse | None:
        """Claim the key (None) or return the stored response to replay; CONFLICT_001 while
        another request holds it, IDEMPOTENCY_001 when the key belongs to another operation."""
        unreleased = self._unreleased.get((claim.scope, claim.key))
        if unreleased is not None:
            await self._try_release(unreleased)
        try:
            return await self._begin(claim, method=method, path=path)
        except ApiError:
            raise
        except Exception:
            # The claim's COMMIT may have reached the database even though its answer did not.
            # The database just failed: release in the background rather than wait on it again.
            self._release_in_background(claim)
            raise

    async def _begin(self, claim: Claim, *, method: str, path: str) -> StoredResponse | None:
        for _ in range(3):
            async with self._db.transaction() as conn:
                claimed = await idempotency_keys.claim(
                    conn,
                    claim.scope,
                    claim.key,
                    method=method,
                    path=path,
                    request_id=claim.request_id,
                    now=self._clock.now(),
                    lease=self._lease,
                    ttl=self._ttl,
                )
                if claimed:
                    return None
                row = await idempotency_keys.get(conn, claim.scope, claim.key)
            if row is None:
                continue  # released between the two statements: claim again
            if (row["method"], row["path"]) != (method, path):
                raise _other_operation(f"{row['method']} {row['path']}", f"{method} {path}")
            if row["state"] != "completed":
                raise _in_flight()
            return StoredResponse(
                row["response_status"],
                dict(row["response_headers"] or {}),
                bytes(row["response_body"]),
                row["owner_request_id"],
            )
        raise _in_flight()

    async def complete_in(
        self, conn: Connection, claim: Claim, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        """Store the response inside the operation's transaction. If the claim was lost (its
        lease ran out and another request took the key), the operation must not commit."""
        stored = await idempotency_keys.complete(
            conn,
            claim.scope,
            claim.key,
            request_id=claim.request_id,
            status=status,
            headers=headers,
            body=body,
        )
        if not stored:
            raise _in_flight()

    async def complete(
        self, claim: Claim, status: int, headers: dict[str, str], body: bytes
    ) -> None:
        async with self._db.transaction() as conn:
            await self.complete_in(conn, claim, status, headers, body)

    async def release(self, claim: Claim) -> None:
        """Forget the claim of a request that ends without a stored answer. Never raises: when
        the database cannot be reached, the release is retried in the background."""
        if not await self._try_release(claim):
            self._release_in_background(claim)

    def _release_in_background(self, claim: Claim) -> None:
        log.warning(
            "idempotency key %r not released (database unreachable): retrying in the background",
            claim.key,
        )
        self._unreleased[(claim.scope, claim.key)] = claim
        if self._releasing is None or self._releasing.done():
            self._releasing = asyncio.get_running_loop().create_task(self._release_later())

    async def _try_release(self, claim: Claim) -> bool:
        try:
            async with self._db.transaction() as conn:
                await idempotency_keys.release(
                    conn, claim.scope, claim.key, request_id=claim.request_id
                )
        except Exception as exc:
            log.debug("idempotency key %r not released: %s", claim.key, exc)
            return False
        if self._unreleased.get((claim.scope, claim.key)) == claim:
            del self._unreleased[(claim.scope, claim.key)]
        return True

    async def _release_later(self) -> None:
        delay = RELEASE_RETRY_FIRST_S
        while self._unreleased:
            await asyncio.sleep(delay)
            for claim in list(self._unreleased.values()):
                if not await self._try_release(claim):
                    break
            delay = min(delay * 2, RELEASE_RETRY_CAP_S)

    @property
    def unreleased(self) -> int:
        """Claims this process still has to release (their database was unreachable)."""
        return len(self._unreleased)

    async def close(self) -> None:
        if self._releasing is not None:
            self._releasing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._releasing

    async def delete_expired(self) -> int:
        async with self._db.transaction() as conn:
            return await idempotency_keys.delete_expired(conn, self._clock.now())
