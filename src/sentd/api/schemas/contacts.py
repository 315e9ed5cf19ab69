"""Bodies and query of the contacts routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, WithJsonSchema

from sentd.api.schemas.bounds import IDENTIFIER, Identifier
from sentd.phones import E164_SCHEMA

ContactChannel = Literal["sms", "whatsapp"]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sandbox: bool | None = None


class ContactCreate(Body):
    # A plain string: the service parses it, so a bad number names `phone_number` in details
    # with VALIDATION_002, and an absent one is VALIDATION_004.
    phone_number: Annotated[Identifier, WithJsonSchema({**E164_SCHEMA, "maxLength": IDENTIFIER})]


class ContactUpdate(Body):
    default_channel: ContactChannel | None = None
    opt_out: bool | None = None


class ContactDelete(Body):
    pass
