"""Bodies of the users routes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

AssignableRole = Literal["admin", "billing", "developer"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _email(value: str) -> str:
    value = value.strip()
    if len(value) > 254 or not _EMAIL.match(value):
        raise PydanticCustomError("email", "Not a valid email address")
    return value


NAME_MAX_LENGTH = 200


def _name(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > NAME_MAX_LENGTH:
        # "too_long" maps to VALIDATION_005 (pydantic's own max_length says "string_too_long")
        raise PydanticCustomError("too_long", f"At most {NAME_MAX_LENGTH} characters")
    return value or None


class _Body(BaseModel):
    """Every mutating body: `sandbox` is accepted, unknown keys are ignored, and `null` reads as
    an absent field (so a required field sent as null is `VALIDATION_004`)."""

    sandbox: bool | None = None

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {key: value for key, value in data.items() if value is not None}
        return data


class InviteBody(_Body):
    # Bounded before the validators strip spaces, with room for the spaces.
    email: Annotated[str, Field(max_length=1000), AfterValidator(_email)]
    role: AssignableRole
    name: Annotated[str | None, Field(max_length=1000), AfterValidator(_name)] = None


class UpdateRoleBody(_Body):
    role: AssignableRole


class RemoveBody(_Body):
    pass
