"""What a voice provider's callbacks tell sentd about a call, in sentd's words: the HTTP edge
translates a provider's form (Twilio's `CallStatus`, `DialCallStatus`, …) into these, and the
domain actions of `sentd.services.provider_calls` move the call on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Party:
    """One end of a call: `number` (E.164), `user` (an app user's identity), `conference` (a
    room's name) or `anonymous` (a withheld or unusable caller; no value)."""

    kind: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class AppCaller:
    """An app user dialling out through the provider's client: the account and mode its
    namespaced identity names, and the identity itself."""

    customer_id: uuid.UUID
    livemode: bool
    identity: str


@dataclass(frozen=True, slots=True)
class ArrivingCall:
    """A call the provider reports arriving: `caller` is an `AppCaller` when an app user dials
    out (then `callee` is whom it dials), else the far party ringing a voice number `callee`.
    `routable` is False when the provider named a party sentd cannot route (such a call is
    turned away)."""

    provider: str
    provider_ref: str
    caller: Party | AppCaller
    callee: Party
    routable: bool = True


@dataclass(frozen=True, slots=True)
class LegAnswered:
    """The dialled leg answered, or joined the room `conference_ref` (the provider's id of the
    room, kept to address it later)."""

    conference_ref: str | None = None


@dataclass(frozen=True, slots=True)
class LegEnded:
    """The dialled leg ended. `answered`: it was talking (COMPLETED, priced on `duration_s` when
    the provider reports it); otherwise it ended unanswered with `status` (FAILED, NO_ANSWER or
    REJECTED) and `reason` (the call's failure_reason)."""

    answered: bool
    duration_s: int | None = None
    status: str = "FAILED"
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class NewParticipant:
    """A leg the API asks to dial into a call's room: `kind` `number` (E.164 or a number as
    typed) or `user` (an app user's identity), and the caller id to show (None: the call's
    number)."""

    kind: str
    value: str
    caller_id: str | None = None
