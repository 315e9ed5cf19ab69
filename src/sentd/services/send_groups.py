"""Group commit: concurrent sends of one customer in one process share one transaction.

A send alone pays for a transaction of its own: a connection, the context query, the insert,
the charge and a COMMIT (a WAL flush) — and the charge holds the organization's counter and
balance rows until that COMMIT is on disk, so the organization's sends queue behind each other.
`SendGroups.send` runs sends that arrive while an earlier group of the same customer is being
written as one group:

* one context query for all their recipients (`messages.read_context`);
* each send planned and gated on its own (`messages.plan_in`, the caller's `admit`): a send
  refused there gets its own refusal and leaves the group, its neighbours go on;
* one transaction: every send's rows in one statement (`sends.insert_many_messages`), and
  every send's charge, each with its own ledger entry, as the final statement with the COMMIT.

Nobody gets an answer before the group's COMMIT. When one charge of the group is refused (the
quota or the balance would run out inside the group) nothing was committed: each send of the
group then runs alone, in order, so each gets exactly the answer it would have had alone, and the
count and the balance stay exact; likewise when the group's inserts fail (one send's rows that
the database refuses fail that send only). A failure after the COMMIT was sent is every member's
(it may have committed, so nothing is retried). A send alone in its group runs exactly as
`messages.send` does.

Sends only join a group when their answer is theirs alone to give: with an `Idempotency-Key`
(the stored answer is written in the send's own transaction) or in sandbox mode (rolled back)
the caller runs `messages.send` itself. Members of a group share the customer, the mode and the
template they name; the group does not wait for company — it takes whoever queued while the
previous group ran, at most `max_sends`. Up to `writers` groups of one customer are written at
once (one's round trips overlap the next one's planning; their charges still queue on the
customer's rows in PostgreSQL).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sentd.auth.principal import Principal
from sentd.db.database import Database
from sentd.db.final_statement import transaction
from sentd.db.repos import sends
from sentd.db.types import Connection
from sentd.domain.messages import SendRequest
from sentd.errors.exceptions import ApiError
from sentd.metrics import SEND_GROUPS
from sentd.services import messages
from sentd.services.messages import Acceptance, Admit, Charge, Environment

# (customer, mode, template id, template name): what one context query can serve.
GroupKey = tuple[uuid.UUID, bool, uuid.UUID | None, str | None]


@dataclass(eq=False)
class _Send:
    principal: Principal
    request: SendRequest
    env: Environment
    reference: str
    admit: Admit | None
    answer: asyncio.Future[dict[str, Any]]


class _Refused(Exception):
    """One charge of a group was refused: nothing of the group was committed."""


class _NotWritten(Exception):
    """The group's inserts failed (before its COMMIT was sent): nothing was committed."""


class _GroupCharge:
    """The final statement of a group: each send's charge (`sentd_charge`) in order."""

    def __init__(self, charges: list[Charge]) -> None:
        self.sql = ";\n".join(charge.sql for charge in charges)

    async def refusal(self, conn: Connection, code: str) -> ApiError:
        raise _Refused(code)


class SendGroups:
    """The groups of one process (see the module's docstring)."""

    def __init__(self, db: Database, *, max_sends: int = 64, writers: int = 2) -> None:
        self._db = db
        self._max_sends = max_sends
        self._writers_per_key = writers
        self._waiting: dict[GroupKey, list[_Send]] = {}
        self._writing: Counter[GroupKey] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()  # kept until done (the loop holds weak refs)

    async def send(
        self,
        principal: Principal,
        request: SendRequest,
        env: Environment,
        *,
        reference: str,
        admit: Admit | None = None,
    ) -> dict[str, Any]:
        """Send `request` as `messages.send` would in a transaction of its own, its answer given
        once it is committed; `admit` gates it once it is planned (it raises to refuse)."""
        template = request.template
        key: GroupKey = (
            principal.customer_id,
            principal.livemode,
            template.id if template else None,
            template.name if template else None,
        )
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        queue = self._waiting.setdefault(key, [])
        queue.append(_Send(principal, request, env, reference, admit, answer))
        if self._writing[key] < self._writers_per_key:
            self._writing[key] += 1
            writer = asyncio.create_task(self._write_groups(key))
            self._tasks.add(writer)
            writer.add_done_callback(self._tasks.discard)
        # The group goes on if this caller goes away: what it writes is committed either way.
        return await asyncio.shield(answer)

    async def _write_groups(self, key: GroupKey) -> None:
        """Write the queue of `key` group after group until it is empty."""
        try:
            while queue := self._waiting.get(key):
                group, rest = queue[: self._max_sends], queue[self._max_sends :]
                if rest:
                    self._waiting[key] = rest
                else:
                    del self._waiting[key]
                try:
                    await self._write(group)
                except BaseException as error:  # every caller hears of it
                    for member in group:
                        _fail(member, error)
                    if not isinstance(error, Exception):
                        raise
        finally:
            # No await between the empty queue and this: a send queued later starts a writer.
            self._writing[key] -= 1
            if not self._writing[key]:
                del self._writing[key]
                for member in self._waiting.pop(key, []):  # only when the writer itself failed
                    _fail(member, asyncio.CancelledError())

    async def _write(self, group: list[_Send]) -> None:
        if len(group) == 1:
            SEND_GROUPS.labels("committed").observe(1)
            await self._alone(group[0], group[0].admit)
            return
        planned = await self._plan(group)
        if not planned:
            return
        try:
            async with transaction(self._db) as unit:
                try:
                    await sends.insert_many_messages(unit.conn, [a.writes for _, a in planned])
                except Exception as error:
                    raise _NotWritten() from error
                unit.commit_with(_GroupCharge([a.charge for _, a in planned]))
        except (_Refused, _NotWritten):
            # Somewhere in the group the quota or a balance ran out, or one send's rows failed:
            # each alone, in order (they were admitted already), so each has its own answer. A
            # failure once the COMMIT was sent is not retried: it may have committed.
            SEND_GROUPS.labels("alone").observe(len(planned))
            for member, _ in planned:
                await self._alone(member, None)
            return
        SEND_GROUPS.labels("committed").observe(len(planned))
        for member, accepted in planned:
            _answer(member, accepted.data)

    async def _plan(self, group: list[_Send]) -> list[tuple[_Send, Acceptance]]:
        """Check, plan and admit each send of the group; the refused get their refusal."""
        checked: list[_Send] = []
        numbers: dict[str, None] = {}  # every recipient of the group, once
        for member in group:
            try:
                numbers.update(dict.fromkeys(messages.check_shape(member.request, member.env.now)))
            except Exception as error:
                _fail(member, error)
            else:
                checked.append(member)
        if not checked:
            return []
        first = checked[0]
        async with self._db.connection() as conn:
            context = await messages.read_context(
                conn, first.principal, list(numbers), first.request.template
            )
        planned: list[tuple[_Send, Acceptance]] = []
        admitted = await asyncio.gather(
            *(self._plan_one(member, context) for member in checked), return_exceptions=True
        )
        for member, outcome in zip(checked, admitted, strict=True):
            if isinstance(outcome, BaseException):
                _fail(member, outcome)
            else:
                planned.append((member, outcome))
        return planned

    async def _plan_one(self, member: _Send, context: messages.Context) -> Acceptance:
        env = member.env
        template, planned = messages.plan_in(
            context,
            member.principal,
            member.request,
            now=env.now,
            providers=env.providers,
            prices=env.prices,
        )
        if member.admit is not None:
            await member.admit(len(planned))
        return messages.accept(
            member.principal,
            member.request,
            template,
            planned,
            context,
            now=env.now,
            request_id=member.reference,
        )

    async def _alone(self, member: _Send, admit: Admit | None) -> None:
        try:
            async with transaction(self._db) as unit:
                data = await messages.send(
                    unit.conn,
                    unit,
                    member.principal,
                    member.request,
                    member.env,
                    reference=member.reference,
                    admit=admit,
                )
        except Exception as error:
            _fail(member, error)
        else:
            _answer(member, data)


def _answer(member: _Send, data: dict[str, Any]) -> None:
    if not member.answer.done():
        member.answer.set_result(data)


def _fail(member: _Send, error: BaseException) -> None:
    if not member.answer.done():
        member.answer.set_exception(error)
