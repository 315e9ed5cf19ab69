"""`Mutation`: what every mutating route opts into with one line,

    m: Mutation = mutation(Permission.MESSAGING)

and then runs its writes in `async with m.transaction() as conn:` and answers `await m.respond(…)`.
It brings authentication, the permission and rate-limit checks, the `Idempotency-Key` (claim,
conflict, replay, and the stored response committed with the operation's own writes) and sandbox
mode (`"sandbox": true` in the body: the same transaction, rolled back, `X-Sandbox: true`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import Depends, Request
from starlette.responses import Response

from sentd.api.deps import require
from sentd.api.envelope import error_response, ok, request_id_of
from sentd.api.public_url import base_url
from sentd.api.responses import PrebuiltResponse
from sentd.auth.permissions import Permission
from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.final_statement import FinalStatement, Transaction, transaction
from sentd.db.scope import Scope
from sentd.errors.exceptions import ApiError
from sentd.guards.idempotency import (
    HEADER,
    STORED_HEADERS,
    Claim,
    Idempotency,
    StoredResponse,
    check_format,
    should_store,
)
from sentd.guards.rate_limits import RateClass

MUTATION_MARK = "__sentd_mutation__"


class Mutation:
    def __init__(
        self, request: Request, principal: Principal, key: str | None, sandbox: bool
    ) -> None:
        self.request = request
        self.principal = principal
        self.sandbox = sandbox
        self._db: Database = request.app.state.db
        self._idempotency: Idempotency = request.app.state.idempotency
        self._claim = (
            Claim(principal.scope, key, request_id_of(request)) if key is not None else None
        )
        self._conn: Any = None
        self._unit: Transaction | None = None
        self._response: Response | None = None

    @property
    def scope(self) -> Scope:
        return self.principal.scope

    @property
    def answer_is_its_own(self) -> bool:
        """With an `Idempotency-Key` (its answer is stored with its writes) or in sandbox mode
        (rolled back), the operation needs a transaction of its own."""
        return self._claim is not None or self.sandbox

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        claim = self._claim
        if claim is not None:
            stored = await self._idempotency.begin(
                claim, method=self.request.method, path=self.request.url.path
            )
            if stored is not None:
                raise PrebuiltResponse(_replay(stored))
        try:
            async with transaction(self._db, commit=not self.sandbox) as unit:
                self._unit = unit
                self._conn = unit.conn
                yield unit.conn
        except ApiError as error:
            if claim is not None and should_store(error.status):
                response = error_response(error, request_id_of(self.request), _base(self.request))
                await self._complete_or_release(claim, response)
                raise PrebuiltResponse(response) from error
            if claim is not None:
                await self._idempotency.release(claim)
            raise
        except BaseException:
            if claim is not None:
                await self._idempotency.release(claim)
            raise
        finally:
            self._conn = None
            self._unit = None
        if claim is not None and self.sandbox and self._response is not None:
            await self._complete_or_release(claim, self._response)

    async def _complete_or_release(self, claim: Claim, response: Response) -> None:
        """Store an answer in a transaction of its own; if that fails, release the claim (the
        operation wrote nothing that commits), so a retry runs instead of waiting for the lease."""
        try:
            await self._idempotency.complete(claim, *self._parts(response))
        except BaseException:
            await self._idempotency.release(claim)
            raise

    def commit_with(self, statement: FinalStatement) -> None:
        """Send `statement` in the same round trip as the COMMIT (`sentd.db.final_statement`
        runs it; a `Mutation` is a `Unit`); its refusal becomes the operation's error. In
        sandbox mode it runs, then rolls back."""
        if self._unit is None:
            raise RuntimeError("commit_with() belongs inside `async with mutation.transaction()`")
        self._unit.commit_with(statement)

    async def respond(self, data: Any, status: int = 200) -> Response:
        """The success response; with an idempotency key it is stored in this transaction."""
        return await self._finish(ok(self.request, data, status))

    async def no_content(self) -> Response:
        return await self._finish(Response(status_code=204))

    async def _finish(self, response: Response) -> Response:
        if self._conn is None:
            raise RuntimeError("respond() belongs inside `async with mutation.transaction()`")
        self._response = response
        if self._claim is not None and not self.sandbox:
            await self._idempotency.complete_in(self._conn, self._claim, *self._parts(response))
        return response

    def _parts(self, response: Response) -> tuple[int, dict[str, str], bytes]:
        extra: dict[str, str] = self.request.state.response_headers
        headers = {k.lower(): v for k, v in response.headers.items()}
        headers |= {k.lower(): v for k, v in extra.items()}
        kept = {name: headers[name] for name in STORED_HEADERS if name in headers}
        return response.status_code, kept, bytes(response.body)


def _replay(stored: StoredResponse) -> Response:
    headers = dict(stored.headers)
    headers["Idempotent-Replayed"] = "true"
    headers["X-Original-Request-Id"] = stored.original_request_id
    media_type = headers.pop("content-type", None)
    return Response(stored.body, stored.status, headers=headers, media_type=media_type)


def _base(request: Request) -> str:
    return base_url(request.scope, request.app.state.settings)


async def _sandbox_flag(request: Request) -> bool:
    body = await request.body()
    if not body:
        return False
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return isinstance(parsed, dict) and parsed.get("sandbox") is True


def mutation(permission: Permission, rate: RateClass = RateClass.STANDARD) -> Any:
    """The dependency of a mutating route: `m: Mutation = mutation(Permission.X)`."""

    async def build(request: Request, principal: Principal = require(permission, rate)) -> Mutation:
        key = check_format(request.headers.get(HEADER))
        sandbox = await _sandbox_flag(request)
        if sandbox:
            request.state.response_headers["X-Sandbox"] = "true"
        return Mutation(request, principal, key, sandbox)

    setattr(build, MUTATION_MARK, True)
    return Depends(build)
