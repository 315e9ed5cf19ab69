"""The body of `POST /v3/messages`, as the official SDKs send it."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sentd.api.schemas.bounds import MAX_MEDIA_URLS, Name, Parameters, Url
from sentd.api.schemas.timestamps import Timestamp
from sentd.domain.messages import SendRequest, TemplateRef
from sentd.phones import E164

SendChannel = Literal["sent", "sms", "whatsapp", "mms", "rcs"]
MAX_RECIPIENTS = 1000


def _exactly_one(first: str, first_type: str, second: str, second_type: str) -> dict[str, Any]:
    """JSON Schema for "give `first` or `second`, not both or neither" (null counts as absent)."""
    return {
        "anyOf": [
            {
                "required": [first],
                "properties": {first: {"type": first_type}, second: {"type": "null"}},
            },
            {
                "required": [second],
                "properties": {second: {"type": second_type}, first: {"type": "null"}},
            },
        ]
    }


# The rules services/messages.py checks across fields, declared in the OpenAPI document. (The
# schedule window, 1 minute to 30 days from now, depends on the clock and is only described.)
SEND_RULES: dict[str, Any] = {
    "allOf": [
        _exactly_one("template", "object", "text", "string"),
        {
            "if": {
                "required": ["channel"],
                "properties": {"channel": {"type": "array", "contains": {"const": "mms"}}},
            },
            "then": {
                "required": ["media_urls"],
                "properties": {"media_urls": {"type": "array", "minItems": 1}},
            },
        },
    ]
}


class TemplateChoice(BaseModel):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra=_exactly_one("id", "string", "name", "string")
    )
    id: uuid.UUID | None = None
    name: Name | None = None
    parameters: Parameters | None = None


class SendBody(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra=SEND_RULES)
    # minItems declared only: an empty list is VALIDATION_004 ("at least one recipient").
    to: Annotated[list[E164], Field(max_length=MAX_RECIPIENTS, json_schema_extra={"minItems": 1})]
    channel: Annotated[list[SendChannel], Field(max_length=5)] | None = None
    template: TemplateChoice | None = None
    text: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    media_urls: Annotated[list[Url], Field(max_length=MAX_MEDIA_URLS)] | None = None
    subject: Annotated[str, Field(max_length=200)] | None = None
    scheduled_at: Annotated[
        Timestamp | None, Field(description="Between 1 minute and 30 days from now, with an offset")
    ] = None
    # Sender restrictions, keyed by channel: accepted, not acted on.
    channels: (
        Annotated[dict[Annotated[str, Field(max_length=20)], Any], Field(max_length=5)] | None
    ) = None
    sandbox: bool | None = None

    def to_input(self) -> SendRequest:
        template = self.template
        return SendRequest(
            to=list(self.to),
            channel=list(self.channel) if self.channel is not None else None,
            template=TemplateRef(template.id, template.name, template.parameters)
            if template is not None
            else None,
            text=self.text,
            media_urls=self.media_urls,
            subject=self.subject,
            scheduled_at=self.scheduled_at,
        )
