"""Bodies of the webhook routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from sentd.api.schemas.bounds import (
    IDENTIFIER,
    MAX_EVENT_TYPES,
    MAX_FILTER_FAMILIES,
    MAX_FILTER_VALUES,
    URL,
)
from sentd.domain.webhooks import WebhookInput
from sentd.events.catalog import EVENT_NAMES, FAMILIES, FAMILY_ALIASES, normalize_subscription
from sentd.outbound.urls import (
    HTTP_URL_PATTERN,
    URL_NOT_NORMALIZABLE,
    InvalidUrl,
    NotHttpUrl,
    normalize_url,
)


def _event_type(value: str) -> str:
    normalized = normalize_subscription(value)
    if normalized is None:
        raise PydanticCustomError(
            "enum", "Not an event type sentd emits: see /v3/webhooks/event-types"
        )
    return normalized


def _filters(value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
    if value is None:
        return None
    out: dict[str, list[str]] = {}
    for family, wanted in value.items():
        canonical = FAMILY_ALIASES.get(family, family)
        if normalize_subscription(canonical) != canonical or "." in canonical:
            raise PydanticCustomError("enum", f"No event family {family!r}")
        out[canonical] = wanted
    return out


def _url(value: str) -> str:
    """The normalised URL (what is stored, shown and requested)."""
    try:
        return normalize_url(value)
    except NotHttpUrl as exc:
        raise PydanticCustomError("url", "Endpoint URL must be an http:// or https:// URL") from exc
    except InvalidUrl as exc:
        raise PydanticCustomError(URL_NOT_NORMALIZABLE, str(exc)) from exc


# What the validators check, declared in the OpenAPI document too.
EVENT_TYPES = sorted({*FAMILY_ALIASES, *(f.field for f in FAMILIES), *EVENT_NAMES})
FILTER_FAMILIES = [*FAMILY_ALIASES, *(f.field for f in FAMILIES)]
HTTP_URL = {"pattern": HTTP_URL_PATTERN}

EventType = Annotated[
    str,
    Field(max_length=IDENTIFIER, json_schema_extra={"enum": EVENT_TYPES}),
    AfterValidator(_event_type),
]
FilterValue = Annotated[str, Field(max_length=IDENTIFIER)]
EventFilters = Annotated[
    dict[
        Annotated[str, Field(max_length=IDENTIFIER)],
        Annotated[list[FilterValue], Field(max_length=MAX_FILTER_VALUES)],
    ]
    | None,
    Field(
        max_length=MAX_FILTER_FAMILIES,
        json_schema_extra={"propertyNames": {"enum": FILTER_FAMILIES}},
    ),
    AfterValidator(_filters),
]
EventTypes = Annotated[list[EventType], Field(max_length=MAX_EVENT_TYPES)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sandbox: bool | None = None


class SenderProfileRules(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_types: EventTypes = Field(default_factory=list)
    event_filters: EventFilters = None


class WebhookBody(Body):
    """Create and update (PUT: the whole webhook) take the same body."""

    display_name: Annotated[str, Field(min_length=1, max_length=200)]
    endpoint_url: Annotated[
        str, Field(max_length=URL, json_schema_extra=HTTP_URL), AfterValidator(_url)
    ]
    event_types: Annotated[EventTypes, Field(min_length=1)]
    event_filters: EventFilters = None
    retry_count: Annotated[int, Field(ge=1, le=5)] = 3
    timeout_seconds: Annotated[int, Field(ge=5, le=120)] = 30
    sender_profile: SenderProfileRules | None = None

    def to_input(self) -> WebhookInput:
        return WebhookInput(
            display_name=self.display_name,
            endpoint_url=self.endpoint_url,
            event_types=tuple(self.event_types),
            event_filters=self.event_filters,
            retry_count=self.retry_count,
            timeout_seconds=self.timeout_seconds,
            sender_profile=self.sender_profile.model_dump() if self.sender_profile else None,
        )


class ToggleBody(Body):
    is_active: bool


class TestBody(Body):
    event_type: Annotated[str, Field(max_length=IDENTIFIER)] = "message.sent"
