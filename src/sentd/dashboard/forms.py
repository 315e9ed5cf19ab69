"""Forms that create things: the posted fields are checked by the API's own request models
(`sentd.api.schemas`) and then handed to the same services, so a form accepts exactly what the
API accepts. Every problem is shown next to its field with the catalog code and meaning the API
would have answered (`VALIDATION_002 — Invalid phone number format`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sentd.api.validation import CODE_BY_ERROR_TYPE, GENERIC, field_path
from sentd.errors.catalog import get_spec
from sentd.errors.exceptions import ApiError

M = TypeVar("M", bound=BaseModel)
FORM = "form"  # problems that belong to no one field, shown above the form


@dataclass
class Problem:
    code: str
    messages: list[str] = field(default_factory=list)

    @property
    def meaning(self) -> str:
        return get_spec(self.code).message


Problems = dict[str, Problem]


def _field_of(path: str, fields: Mapping[str, str]) -> str:
    """The form field an API detail path belongs to: its first part (`event_types[2]` →
    `event_types`), renamed by `fields` (`definition` → `body`); else the whole form."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head in fields:
        return fields[head]
    return head if head in fields.values() else FORM


def _add(problems: Problems, name: str, code: str, message: str) -> None:
    problem = problems.setdefault(name, Problem(code))
    if problem.code != code:
        problem.code = GENERIC
    problem.messages.append(message)


def parse(model: type[M], data: Mapping[str, Any], fields: Mapping[str, str]) -> M | Problems:
    """`data` checked by `model`, or the problems keyed by form field."""
    try:
        return model.model_validate(dict(data))
    except ValidationError as exc:
        problems: Problems = {}
        for error in exc.errors():
            code = CODE_BY_ERROR_TYPE.get(str(error["type"]), GENERIC)
            message = "This field is required" if error["type"] == "missing" else error["msg"]
            _add(problems, _field_of(field_path(error["loc"]), fields), code, str(message))
        return problems


def from_api_error(error: ApiError, fields: Mapping[str, str]) -> Problems:
    """A service's refusal as problems keyed by form field (its one code on each)."""
    problems: Problems = {}
    details = error.details or {}
    if not details:
        _add(problems, FORM, error.code, get_spec(error.code).cause)
    for path, messages in details.items():
        name = _field_of(path, fields)
        for message in messages:
            text = message if name != FORM or path in ("", "body") else f"{path}: {message}"
            _add(problems, name, error.code, text)
    return problems
