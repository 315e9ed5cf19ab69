"""The API's commands on a live call — hang up, record, add, mute and remove conference
participants — and a recording's audio.

Each command first tells the provider that carries the call (`sentd.providers.voice_commands`,
chosen by the call's `provider` through the `VoiceCommandsFor` the process was built with in
`sentd.wiring`), with no database connection held while it answers; then it records the change
in the operation's transaction and hands the changed row to the caller, who stores its response
in that same transaction:

    async with commands.hang_up(mutation, call_id, prices=prices):
        return await mutation.no_content()

A sandbox request tells no provider (its transaction is rolled back). A provider's refusal is
`502 INTERNAL_003` and changes nothing; a room command before the provider reported the room is
`409 VOICE_003`; a call whose provider this server has not set up is `422 PROVIDER_003`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol, TypeVar

from sentd.auth.principal import Principal
from sentd.clock import Clock
from sentd.db.database import Database
from sentd.db.repos import calls as repo
from sentd.domain.calls import NewParticipant
from sentd.errors.exceptions import ApiError
from sentd.providers.voice_commands import (
    NewLeg,
    RoomNotStarted,
    VoiceCommandError,
    VoiceCommands,
    VoiceCommandsFor,
)
from sentd.services import calls
from sentd.voice import recordings

T = TypeVar("T")
RoomCommand = Callable[[VoiceCommands, str | None, str], Awaitable[None]]


class Operation(Protocol):
    """What the caller's operation offers (the API's `Mutation`): who acts, whether it is a
    sandbox request, and the transaction the change is recorded in."""

    @property
    def principal(self) -> Principal: ...

    @property
    def sandbox(self) -> bool: ...

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...


class RecordingUnavailable(Exception):
    """The provider that keeps a recording is not set up, or did not hand the audio over."""


async def _told(command: Awaitable[T]) -> T:
    try:
        return await command
    except RoomNotStarted as exc:
        raise calls.conflict(str(exc)) from exc
    except VoiceCommandError as exc:
        raise ApiError("INTERNAL_003", {"provider": [str(exc)]}) from exc


def _room_ref(host: Any) -> str | None:
    """The provider's reference of the host call's room, once the provider reported it."""
    room = host["plan"].get("conference_sid")
    return str(room) if room else None


class CallCommands:
    def __init__(self, db: Database, voice: VoiceCommandsFor, clock: Clock) -> None:
        self._db = db
        self._voice = voice
        self._clock = clock

    def _commands(self, row: Any) -> VoiceCommands:
        commands = self._voice(row["provider"])
        if commands is None:
            raise ApiError("PROVIDER_003", {"channel": ["voice"]})
        return commands

    async def _on_call(
        self,
        op: Operation,
        call_id: uuid.UUID,
        command: Callable[[VoiceCommands, str], Awaitable[None]],
    ) -> None:
        """Tell the provider about the call (a live call with a phone leg)."""
        async with self._db.connection() as conn:
            row = await calls.get(conn, op.principal.scope, call_id)
        calls.check_live_phone_call(row)
        if op.sandbox or not row["provider_ref"]:
            return
        await _told(command(self._commands(row), row["provider_ref"]))

    async def _in_room(
        self,
        op: Operation,
        call_id: uuid.UUID,
        participant_ids: list[uuid.UUID] | None,
        command: RoomCommand,
    ) -> None:
        """Tell the provider about the named legs of the call's room (None: every leg)."""
        async with self._db.connection() as conn:
            if participant_ids is None:
                host, legs = await calls.participants(conn, op.principal, call_id, lock=False)
            else:
                legs = [
                    await calls.participant(conn, op.principal, call_id, pid, lock=False)
                    for pid in participant_ids
                ]
                host = await calls.conference_call(conn, op.principal, call_id, lock=False)
        refs = [str(leg["provider_ref"]) for leg in legs if leg["provider_ref"]]
        if op.sandbox or not refs:
            return
        commands, room = self._commands(host), _room_ref(host)
        for ref in refs:
            await _told(command(commands, room, ref))

    @asynccontextmanager
    async def hang_up(
        self, op: Operation, call_id: uuid.UUID, *, prices: dict[str, Any]
    ) -> AsyncIterator[Any]:
        """End the call: answered → COMPLETED (priced), still ringing → NO_ANSWER."""
        await self._on_call(op, call_id, lambda commands, ref: commands.hangup(ref))
        async with op.transaction() as conn:
            yield await calls.hangup(conn, op.principal, call_id, self._clock.now(), prices)

    @asynccontextmanager
    async def record(
        self, op: Operation, call_id: uuid.UUID, action: str, *, base_url: str
    ) -> AsyncIterator[Any]:
        """Start (from the answer, on a ringing call) or stop recording the call."""
        await self._on_call(
            op,
            call_id,
            lambda commands, ref: commands.record(ref, action, base_url=base_url, call_id=call_id),
        )
        async with op.transaction() as conn:
            yield await calls.record(conn, op.principal, call_id, action, self._clock.now())

    @asynccontextmanager
    async def add_participant(
        self,
        op: Operation,
        call_id: uuid.UUID,
        new: NewParticipant,
        *,
        prices: dict[str, Any],
        base_url: str,
    ) -> AsyncIterator[Any]:
        """A new leg in the call's room (the new call's row): dialled by the provider first, under
        the id it is then recorded with; a leg that may not ring is recorded FAILED, never
        dialled."""
        leg_id, leg_ref = await self._dial(op, call_id, new, prices=prices, base_url=base_url)
        async with op.transaction() as conn:
            yield await calls.add_participant(
                conn,
                op.principal,
                call_id,
                kind=new.kind,
                value=new.value,
                caller_id=new.caller_id,
                now=self._clock.now(),
                prices=prices,
                leg_id=leg_id,
                provider_ref=leg_ref,
            )

    async def _dial(
        self,
        op: Operation,
        call_id: uuid.UUID,
        new: NewParticipant,
        *,
        prices: dict[str, Any],
        base_url: str,
    ) -> tuple[uuid.UUID | None, str | None]:
        async with self._db.connection() as conn:
            host, value, shown = await calls.check_participant(
                conn,
                op.principal,
                call_id,
                kind=new.kind,
                value=new.value,
                caller_id=new.caller_id,
                lock=False,
            )
            if op.sandbox:
                return None, None
            commands = self._commands(host)
            may_ring = await calls.participant_can_ring(
                conn, host, kind=new.kind, value=value, shown=shown, prices=prices
            )
        if not may_ring:
            return None, None
        leg = NewLeg(
            id=uuid.uuid4(),
            kind=new.kind,
            value=value,
            caller=shown,
            customer_id=host["customer_id"],
            livemode=host["livemode"],
        )
        ref = await _told(commands.add_participant(_room_ref(host), leg, base_url=base_url))
        return (leg.id, ref) if ref is not None else (None, None)

    @asynccontextmanager
    async def mute(
        self, op: Operation, call_id: uuid.UUID, participant_id: uuid.UUID, muted: bool
    ) -> AsyncIterator[None]:
        await self._in_room(
            op, call_id, [participant_id], lambda c, room, ref: c.mute(room, ref, muted)
        )
        async with op.transaction() as conn:
            await calls.mute(conn, op.principal, call_id, participant_id, muted)
            yield

    @asynccontextmanager
    async def remove(
        self,
        op: Operation,
        call_id: uuid.UUID,
        participant_id: uuid.UUID,
        *,
        prices: dict[str, Any],
    ) -> AsyncIterator[None]:
        """Take one leg out of the room: its call ends."""
        await self._in_room(op, call_id, [participant_id], lambda c, room, ref: c.kick(room, ref))
        async with op.transaction() as conn:
            await calls.remove(
                conn, op.principal, call_id, participant_id, self._clock.now(), prices
            )
            yield

    @asynccontextmanager
    async def remove_all(
        self, op: Operation, call_id: uuid.UUID, *, prices: dict[str, Any]
    ) -> AsyncIterator[None]:
        """Empty the room, the call itself included."""
        await self._in_room(op, call_id, None, lambda c, room, ref: c.kick(room, ref))
        async with op.transaction() as conn:
            await calls.remove_all(conn, op.principal, call_id, self._clock.now(), prices)
            yield

    async def recording_audio(self, recording: Any) -> bytes:
        """The MP3 of a ready recording (a `calls.recording` row): the simulator's, made here, or
        the one the provider keeps, fetched with no database connection held."""
        if not recording["media_url"]:
            return recordings.simulated_mp3(recording["duration_seconds"] or 0)
        async with self._db.connection() as conn:
            provider = await repo.provider_of(conn, recording["call_id"])
        commands = self._voice(provider or "")
        if commands is None:
            raise RecordingUnavailable("The recording's provider is not configured")
        try:
            return await commands.recording_audio(recording["media_url"])
        except VoiceCommandError as exc:
            raise RecordingUnavailable("The provider did not hand over the recording") from exc
