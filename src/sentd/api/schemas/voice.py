"""Bodies and queries of the voice routes (`/v3/channels/voice`, `/v3/voice/*`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sentd.api.schemas.bounds import Identifier
from sentd.domain.calls import NewParticipant
from sentd.domain.voice_numbers import VoiceNumberChanges
from sentd.outbound.urls import URL_NOT_NORMALIZABLE, InvalidUrl, NotHttpUrl, normalize_url


def _url(value: str) -> str:
    """The normalised URL (what is stored, shown and called), as for webhooks."""
    try:
        return normalize_url(value)
    except NotHttpUrl as exc:
        raise PydanticCustomError("url", "callback_url must be an http:// or https:// URL") from exc
    except InvalidUrl as exc:
        raise PydanticCustomError(URL_NOT_NORMALIZABLE, str(exc)) from exc


def _status(value: str) -> str:
    upper = value.upper()
    if upper not in ("ACTIVE", "INACTIVE"):
        raise PydanticCustomError("enum", "status is ACTIVE or INACTIVE")
    return upper


CallbackUrl = Annotated[str, Field(max_length=2048), AfterValidator(_url)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sandbox: bool | None = None


class VoiceNumberCreate(Body):
    callback_url: CallbackUrl
    # Plain strings: the service parses them so a bad one names its field with VALIDATION_002.
    number: Identifier | None = None
    area_code: Annotated[str, Field(max_length=3)] | None = None
    default_for_app_calls: bool | None = None


class VoiceNumberUpdate(Body):
    status: Annotated[str, Field(max_length=8), AfterValidator(_status)] | None = None
    default_for_app_calls: bool | None = None
    callback_url: CallbackUrl | None = None

    def to_changes(self) -> VoiceNumberChanges:
        """A `null` status or default counts as not given; a `null` callback_url removes it."""
        given = {name for name in self.model_fields_set if name != "sandbox"}
        given -= {
            name for name in ("status", "default_for_app_calls") if getattr(self, name) is None
        }
        return VoiceNumberChanges(
            status=self.status,
            default_for_app_calls=self.default_for_app_calls,
            callback_url=self.callback_url,
            given=frozenset(given),
        )


class TokenCreate(Body):
    identity: Annotated[str, Field(max_length=200)]
    number: Identifier | None = None
    ttl: Annotated[int, Field(ge=1, le=3600)] | None = None


class RecordBody(Body):
    action: Literal["start", "stop"]


class ParticipantTarget(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: Literal["user", "number"]
    value: Annotated[str, Field(min_length=1, max_length=200)]


class ParticipantAdd(Body):
    to: ParticipantTarget
    caller_id: Identifier | None = None

    def to_input(self) -> NewParticipant:
        return NewParticipant(kind=self.to.kind, value=self.to.value, caller_id=self.caller_id)


class ParticipantUpdate(Body):
    muted: bool
