"""The body of `POST /v3/messages`, as the official SDKs send it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sentd.api.schemas.bounds import MAX_MEDIA_URLS, Name, Parameters, Url
from sentd.phones import E164

SendChannel = Literal["sent", "sms", "whatsapp", "mms", "rcs"]
MAX_RECIPIENTS = 1000


class TemplateChoice(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: uuid.UUID | None = None
    name: Name | None = None
    parameters: Parameters | None = None


class SendBody(BaseModel):
    model_config = ConfigDict(extra="ignore")
    to: Annotated[list[E164], Field(max_length=MAX_RECIPIENTS)]
    channel: Annotated[list[SendChannel], Field(max_length=5)] | None = None
    template: TemplateChoice | None = None
    text: Annotated[str, Field(min_length=1, max_length=4096)] | None = None
    media_urls: Annotated[list[Url], Field(max_length=MAX_MEDIA_URLS)] | None = None
    subject: Annotated[str, Field(max_length=200)] | None = None
    scheduled_at: datetime | None = None
    # Sender restrictions, keyed by channel: accepted, not acted on.
    channels: (
        Annotated[dict[Annotated[str, Field(max_length=20)], Any], Field(max_length=5)] | None
    ) = None
    sandbox: bool | None = None
