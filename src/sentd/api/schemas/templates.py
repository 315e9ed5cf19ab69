"""Bodies and query of the template routes. Top-level keys are snake_case; `definition` is the
camelCase model of §5.1, validated in full by `sentd.templating.definition` (its problems answer
VALIDATION_001 with paths such as `definition.body.multiChannel.template`, so it is taken here as
an object and handed over whole; the OpenAPI document shows its schema, `TemplateDefinition`).
Unknown keys are ignored and `null` is accepted for every optional field (it means "leave as it
is" on update)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from sentd.domain.templates import TemplateChanges, TemplateInput

Category = Literal["MARKETING", "UTILITY", "AUTHENTICATION"]
Status = Literal["DRAFT", "PENDING", "APPROVED", "REJECTED", "PAUSED", "DISABLED", "REVOKED"]
RESERVED_PREFIX = "sent_"

_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


def _language(value: str) -> str:
    if not _LANGUAGE.fullmatch(value):
        raise PydanticCustomError("language", "Use a language code such as en_US, pt_BR or fr")
    return value


def _name(value: str) -> str:
    if value.strip() != value or not value:
        raise PydanticCustomError("template_name", "No leading or trailing spaces")
    if value.lower().startswith(RESERVED_PREFIX):
        raise PydanticCustomError(
            "template_name", f"Names starting with {RESERVED_PREFIX} are reserved"
        )
    return value


# Declared in the OpenAPI document as the validators check them (the reserved prefix aside).
LANGUAGE_SCHEMA = {"pattern": r"^[a-z]{2,3}(_[A-Z]{2})?$"}
TRIMMED = {"pattern": r"^\S([\s\S]*\S)?$"}

# The definition's schema, from its pydantic models, is a component of the OpenAPI document:
# `api/openapi.py` adds it and its parts (named Template…) and puts a reference where a schema
# names it with COMPONENT (FastAPI cannot resolve a reference to a component it did not make).
COMPONENT = "x-sentd-component"
DEFINITION_SCHEMA = "TemplateDefinition"
DefinitionObject = Annotated[
    dict[str, Any], WithJsonSchema({"type": "object", COMPONENT: DEFINITION_SCHEMA})
]

Language = Annotated[
    str, Field(max_length=16, json_schema_extra=LANGUAGE_SCHEMA), AfterValidator(_language)
]
Name = Annotated[
    str, Field(min_length=1, max_length=200, json_schema_extra=TRIMMED), AfterValidator(_name)
]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TemplateCreate(Body):
    definition: DefinitionObject
    category: Category | None = None
    language: Language | None = None
    name: Name | None = None  # not in the SDK's create; accepted (else derived from the content)
    submit_for_review: bool | None = None
    auto_create_for_sp: bool | None = None
    creation_source: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    sandbox: bool | None = None

    def to_input(self) -> TemplateInput:
        return TemplateInput(
            definition=self.definition,
            category=self.category,
            language=self.language,
            name=self.name,
            submit_for_review=bool(self.submit_for_review),
            auto_create_for_sp=bool(self.auto_create_for_sp),
            creation_source=self.creation_source,
        )


class TemplateUpdate(Body):
    name: Name | None = None
    category: Category | None = None
    language: Language | None = None
    definition: DefinitionObject | None = None
    submit_for_review: bool | None = None
    sandbox: bool | None = None

    def to_changes(self) -> TemplateChanges:
        return TemplateChanges(
            name=self.name,
            category=self.category,
            language=self.language,
            definition=self.definition,
            submit_for_review=bool(self.submit_for_review),
        )


class TemplateDelete(Body):
    delete_from_meta: bool | None = None
    sandbox: bool | None = None
