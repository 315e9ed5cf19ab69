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


def check_json_value(value: Any) -> ApiError | None:
    """The first NUL or ceiling problem in a decoded JSON document, or None."""
    # Iterative, so that depth is checked before Python's own recursion limit could matter.
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if len(node) > MAX_STRING:
                return _out_of_range(path, f"At most {MAX_STRING} characters")
            if NUL in node:
                return _invalid(path, NUL_MESSAGE)
        elif isinstance(node, list):
            if depth >= MAX_DEPTH:
                return _out_of_range(path, f"Nested more than {MAX_DEPTH} levels deep")
            if len(node) > MAX_ITEMS:
                return _out_of_range(path, f"At most {MAX_ITEMS} items")
            stack.extend((item, _join(path, i), depth + 1) for i, item in enumerate(node))
        elif isinstance(node, dict):
            if depth >= MAX_DEPTH:
                return _out_of_range(path, f"Nested more than {MAX_DEPTH} levels deep")
            if len(node) > MAX_KEYS:
                return _out_of_range(path, f"At most {MAX_KEYS} keys")
            for key, item in node.items():
                child = _join(path, key)
                if len(key) > MAX_KEY:
                    return _out_of_range(child, f"Keys have at most {MAX_KEY} characters")
                if NUL in key:
                    return _invalid(child, NUL_MESSAGE)
                stack.append((item, child, depth + 1))
    return None


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
