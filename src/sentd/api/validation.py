"""Request validation errors → one catalog code and `details` keyed by field path.

Each pydantic error type maps to a specific code. When every error of a request maps to the same
code, that code answers; mixed kinds, malformed JSON and wrong JSON types answer VALIDATION_001.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sentd.errors.exceptions import ApiError

GENERIC = "VALIDATION_001"

CODE_BY_ERROR_TYPE: dict[str, str] = {
    "phone_number": "VALIDATION_002",
    "uuid_parsing": "VALIDATION_003",
    "uuid_type": "VALIDATION_003",
    "uuid_version": "VALIDATION_003",
    "url_not_normalizable": "VALIDATION_003",  # a URL with no canonical form (sentd.outbound.urls)
    "missing": "VALIDATION_004",
    "greater_than": "VALIDATION_005",
    "greater_than_equal": "VALIDATION_005",
    "less_than": "VALIDATION_005",
    "less_than_equal": "VALIDATION_005",
    "too_short": "VALIDATION_005",
    "too_long": "VALIDATION_005",
    "string_too_short": "VALIDATION_005",
    "string_too_long": "VALIDATION_005",
    "out_of_range": "VALIDATION_005",
    "enum": "VALIDATION_006",
    "literal_error": "VALIDATION_006",
    "idempotency_key": "VALIDATION_007",
}

_LOCATION_ROOTS = {"body", "query", "path", "header", "cookie"}


def field_path(loc: Sequence[str | int]) -> str:
    """`("body", "to", 1)` → `to[1]`; `("body", "template", "id")` → `template.id`."""
    parts = list(loc)
    if parts and parts[0] in _LOCATION_ROOTS:
        parts = parts[1:]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _message(error: Mapping[str, Any]) -> str:
    if error["type"] == "missing":
        return "This field is required"
    if error["type"] == "json_invalid":
        return "The body is not valid JSON"
    return str(error.get("msg", "Invalid value"))


def api_error_from(errors: Iterable[Mapping[str, Any]]) -> ApiError:
    details: dict[str, list[str]] = {}
    codes: set[str] = set()
    for error in errors:
        codes.add(CODE_BY_ERROR_TYPE.get(str(error["type"]), GENERIC))
        details.setdefault(field_path(error.get("loc", ())), []).append(_message(error))
    code = codes.pop() if len(codes) == 1 else GENERIC
    return ApiError(code, details)
