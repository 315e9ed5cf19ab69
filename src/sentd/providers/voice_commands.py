"""The commands sentd sends the voice provider that carries a live call: hang up, start or stop
recording, dial a new leg into a conference room, mute a leg, take a leg out of the room, and
fetch a recording's audio.

`VoiceCommands` is the interface; `sentd.providers.twilio_voice.TwilioVoice` implements it for
calls Twilio carries, `Simulated` for the calls sentd's own engine plays (`workers/voice_calls.py`
steps those from their rows, so there is nothing to send). The services are handed the commands
of each provider by `sentd.wiring` (`VoiceCommandsFor`, by the provider's name on the call).

References are the provider's: `call_ref` a call's (Twilio's `CallSid`), `room_ref` a conference
room's (`ConferenceSid`, None until the provider reported it). A provider builds its own callback
URLs from `base_url`, where it reaches sentd.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class VoiceCommandError(Exception):
    """The provider refused the command, or could not be reached: nothing changed."""


class RoomNotStarted(VoiceCommandError):
    """A room command before the provider reported the room (its `room_ref` is None)."""


@dataclass(frozen=True, slots=True)
class NewLeg:
    """A leg to dial into a room: the id sentd records it under, who it rings (`kind` `number`,
    `value` E.164; or `user`, an app user's identity of `customer_id` in `livemode`) and the
    number shown to it."""

    id: uuid.UUID
    kind: str
    value: str
    caller: str
    customer_id: uuid.UUID
    livemode: bool


class VoiceCommands(Protocol):
    name: str

    async def hangup(self, call_ref: str) -> None:
        """End the call."""
        ...

    async def record(
        self, call_ref: str, action: str, *, base_url: str, call_id: uuid.UUID
    ) -> None:
        """Start (`action` "start") or stop ("stop") recording the call."""
        ...

    async def add_participant(
        self, room_ref: str | None, leg: NewLeg, *, base_url: str
    ) -> str | None:
        """Dial `leg` into the room: the provider's reference of the new leg, or None when
        sentd's engine plays the leg itself."""
        ...

    async def mute(self, room_ref: str | None, call_ref: str, muted: bool) -> None:
        """Mute or unmute one leg in the room."""
        ...

    async def kick(self, room_ref: str | None, call_ref: str) -> None:
        """Take one leg out of the room (its call ends)."""
        ...

    async def recording_audio(self, media_url: str) -> bytes:
        """The audio (MP3) of a recording the provider made."""
        ...


VoiceCommandsFor = Callable[[str], VoiceCommands | None]
"""The commands of the provider a call names (`calls.provider`); None when this server has no
such provider set up."""


class Simulated:
    """The calls sentd's engine plays: every command is already the change of the call's row
    that the service records, so none is sent anywhere."""

    name = "simulator"

    async def hangup(self, call_ref: str) -> None:
        return None

    async def record(
        self, call_ref: str, action: str, *, base_url: str, call_id: uuid.UUID
    ) -> None:
        return None

    async def add_participant(
        self, room_ref: str | None, leg: NewLeg, *, base_url: str
    ) -> str | None:
        return None

    async def mute(self, room_ref: str | None, call_ref: str, muted: bool) -> None:
        return None

    async def kick(self, room_ref: str | None, call_ref: str) -> None:
        return None

    async def recording_audio(self, media_url: str) -> bytes:
        raise VoiceCommandError("The simulator keeps no recordings at a provider")
