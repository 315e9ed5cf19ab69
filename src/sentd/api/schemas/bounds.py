"""The size bounds of request fields, named once. Every string, list and map of every body has
one (docs/limits.md lists them by field); past it the answer is 400 `VALIDATION_005` naming the
field. Free-form parts (a template `definition`, `channels`) fall under the ceilings of
`sentd.api.input_limits`."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

NAME = 200  # display names, people's and organizations' names, subjects
EMAIL = 254  # RFC 5321's longest address
URL = 2048  # endpoint URLs, media URLs, icons, callback URLs
IDENTIFIER = 64  # provider ids, codes, tax ids, postal codes, phone numbers as plain text
SECRET = 1024  # provider access tokens
DESCRIPTION = 1000  # descriptions, notes, addresses
PARAMETER_VALUE = 2048  # one template parameter (a URL for media headers)
MAX_PARAMETERS = 100  # template parameters in one send
MAX_MEDIA_URLS = 10  # MMS attachments
MAX_EVENT_TYPES = 100  # event types of one webhook
MAX_FILTER_FAMILIES = 20  # families in event_filters
MAX_FILTER_VALUES = 50  # values per family in event_filters
MAX_COUNTRIES = 250  # destination countries of a brand

Name = Annotated[str, Field(max_length=NAME)]
Email = Annotated[str, Field(max_length=EMAIL)]
Url = Annotated[str, Field(max_length=URL)]
Identifier = Annotated[str, Field(max_length=IDENTIFIER)]
Secret = Annotated[str, Field(max_length=SECRET)]
Description = Annotated[str, Field(max_length=DESCRIPTION)]
ParameterName = Annotated[str, Field(max_length=IDENTIFIER)]
ParameterValue = Annotated[str, Field(max_length=PARAMETER_VALUE)]
Parameters = Annotated[dict[ParameterName, ParameterValue], Field(max_length=MAX_PARAMETERS)]
