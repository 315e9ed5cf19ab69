"""Checks every request's decoded input once, before any route sees it.

* **NUL characters.** PostgreSQL text cannot hold `\\u0000`, and no field of the API means one. A
  NUL in any string or key of a JSON body, a form body, a query parameter or the path is
  400 `VALIDATION_001` naming the field.
* **Ceilings.** Every string, list and map of a JSON body has a bound even where the schema is
  free-form (a template `definition`, `channels`): strings at most `MAX_STRING` characters,
  keys `MAX_KEY`, lists `MAX_ITEMS` items, maps `MAX_KEYS` keys, nesting `MAX_DEPTH` levels;
  query values `MAX_QUERY_VALUE` characters and `MAX_QUERY_PARAMS` parameters. Past one →
  400 `VALIDATION_005` naming the field. Tighter bounds per field live in the schemas
  (`sentd.api.schemas`); docs/limits.md lists them all.
* **Strict JSON.** A JSON body must be RFC 8259 JSON in UTF-8 (no `NaN`, no unpaired surrogate,
  which PostgreSQL could not store either); otherwise 400 `VALIDATION_001`.

The functions return the error to answer, or None; they know nothing of ASGI.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

import orjson

from sentd.errors.exceptions import ApiError

MAX_STRING = 8192
MAX_KEY = 256
MAX_ITEMS = 1000
MAX_KEYS = 1000
MAX_DEPTH = 20
MAX_QUERY_VALUE = 2048
MAX_QUERY_PARAMS = 100

NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (\\u0000)"


def _shown(key: str) -> str:
    """A key as it may appear in `details`: no NUL, not unbounded."""
    key = key.replace(NUL, "\\u0000")
    return key if len(key) <= 64 else key[:64] + "…"


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{_shown(key)}" if path else _shown(key)


def _invalid(path: str, message: str) -> ApiError:
    return ApiError("VALIDATION_001", {path or "body": [message]})


def _out_of_range(path: str, message: str) -> ApiError:
    return ApiError("VALIDATION_005", {path or "body": [message]})


class _Problem:
    """Where the scan stopped: the path from the offending value up to the root, and why."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        self.message = message
        self.reversed_path: list[str | int] = []

    def error(self) -> ApiError:
        path = ""
        for key in reversed(self.reversed_path):
            path = _join(path, key)
        return ApiError(self.code, {path or "body": [self.message]})


def _string_problem(value: str) -> _Problem | None:
    if len(value) > MAX_STRING:
        return _Problem("VALIDATION_005", f"At most {MAX_STRING} characters")
    if NUL in value:
        return _Problem("VALIDATION_001", NUL_MESSAGE)
    return None


def _scan(node: Any, depth: int) -> _Problem | None:
    """Paths are built only for the value that fails, so a clean body costs one pass of type
    checks (a few microseconds for a typical send)."""
    if depth >= MAX_DEPTH:
        return _Problem("VALIDATION_005", f"Nested more than {MAX_DEPTH} levels deep")
    items: Iterable[tuple[str | int, Any]]
    if type(node) is dict:
        if len(node) > MAX_KEYS:
            return _Problem("VALIDATION_005", f"At most {MAX_KEYS} keys")
        items = node.items()
    else:
        if len(node) > MAX_ITEMS:
            return _Problem("VALIDATION_005", f"At most {MAX_ITEMS} items")
        items = enumerate(node)
    for key, value in items:
        problem: _Problem | None = None
        if type(key) is str and (len(key) > MAX_KEY or NUL in key):
            problem = _Problem(
                "VALIDATION_005" if len(key) > MAX_KEY else "VALIDATION_001",
                f"Keys have at most {MAX_KEY} characters" if len(key) > MAX_KEY else NUL_MESSAGE,
            )
        else:
            kind = type(value)
            if kind is str:
                problem = _string_problem(value)
            elif kind is dict or kind is list:
                problem = _scan(value, depth + 1)
        if problem is not None:
            problem.reversed_path.append(key)
            return problem
    return None


def check_json_value(value: Any) -> ApiError | None:
    """The first NUL or ceiling problem in a decoded JSON document, or None."""
    if isinstance(value, str):
        problem = _string_problem(value)
    elif isinstance(value, dict | list):
        problem = _scan(value, 0)
    else:
        problem = None
    return problem.error() if problem is not None else None


def check_json_body(body: bytes) -> ApiError | None:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return _invalid("body", f"The body is not valid JSON: {exc}")
    return check_json_value(value)


def check_pairs(pairs: Iterable[tuple[str, str]], *, max_value: int | None) -> ApiError | None:
    """NUL and ceilings in name/value pairs (a query string or a form body)."""
    for count, (name, value) in enumerate(pairs, start=1):
        if NUL in name or NUL in value:
            return _invalid(_shown(name), NUL_MESSAGE)
        if max_value is not None and len(value) > max_value:
            return _out_of_range(_shown(name), f"At most {max_value} characters")
        if max_value is not None and count > MAX_QUERY_PARAMS:
            return _out_of_range("query", f"At most {MAX_QUERY_PARAMS} parameters")
    return None


def check_query(query_string: bytes) -> ApiError | None:
    if not query_string:
        return None
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    return check_pairs(pairs, max_value=MAX_QUERY_VALUE)


def check_path(path: str) -> ApiError | None:
    return _invalid("path", NUL_MESSAGE) if NUL in path else None


def check_form_body(body: bytes) -> ApiError | None:
    pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    return check_pairs(pairs, max_value=None)


def is_json(content_type: str | None) -> bool:
    """What FastAPI decodes as JSON: no content type, `application/json`, `…+json`."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def is_form(content_type: str | None) -> bool:
    if not content_type:
        return False
    return content_type.split(";", 1)[0].strip().lower() == "application/x-www-form-urlencoded"


def check_body(content_type: str | None, body: bytes) -> ApiError | None:
    if not body:
        return None
    if is_json(content_type):
        return check_json_body(body)
    if is_form(content_type):
        return check_form_body(body)
    return None
