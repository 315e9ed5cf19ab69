"""`LeanRoute`: a FastAPI route for the hot path that solves its own dependencies.

FastAPI's request handler is general: per request it walks the dependency tree with overrides,
scopes, caches, telemetry and exit stacks, and routing through included routers matches the
path against each router in turn. At the accept rate (`POST /v3/messages`) that was about a
third of the API process's time per send. A `LeanRoute` keeps everything FastAPI derives from
the endpoint's signature — the OpenAPI operation, the body model, the same validation errors —
and handles a request with only what such an endpoint uses:

* the request, dependencies that are coroutine functions of the request and of other such
  dependencies (each called once per request), and one JSON body model;
* the body read as FastAPI reads it (a JSON media type parses; an empty body is absent; a
  malformed one is FastAPI's `json_invalid` error) and validated by FastAPI's own
  `request_body_to_args`, so a request gets exactly the errors it got before;
* the same order: malformed JSON, then the dependencies (authentication, rate limit,
  permission, idempotency key), then the body's validation errors.

A signature with anything else (query, path or header parameters, sync or generator
dependencies, a response model) is refused when the route is made. `app.dependency_overrides`
do not apply to it. The app puts it first among its routes (`sentd.app`), so no router is
matched before it.
"""

from __future__ import annotations

import email.message
import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi._compat import Undefined
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    handler: Handler  # what the route's ASGI app calls; `sentd.api.lanes` calls it directly

    def get_route_handler(self) -> Handler:
        dependant = self.dependant
        _check_supported(dependant, self.path)
        endpoint = dependant.call
        assert endpoint is not None
        body_params = dependant.body_params
        embed = self._embed_body_fields

        async def handle(request: Request) -> Response:
            body = await _body(request) if body_params else Undefined
            values = await _arguments(request, dependant, {})
            if body_params:
                found, errors = await request_body_to_args(body_params, body, embed)
                if errors:
                    raise RequestValidationError(errors, body=body)
                values.update(found)
            response: Response = await endpoint(**values)
            return response

        self.handler = handle
        return handle


def _check_supported(dependant: Dependant, path: str) -> None:
    unsupported = (
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or not inspect.iscoroutinefunction(dependant.call)
    )
    if unsupported:
        raise TypeError(f"{path}: {dependant.call} uses more than a LeanRoute solves")
    for sub in dependant.dependencies:
        if sub.body_params:
            raise TypeError(f"{path}: dependency {sub.call} reads the body")
        _check_supported(sub, path)


async def _arguments(
    request: Request, dependant: Dependant, solved: dict[Any, Any]
) -> dict[str, Any]:
    """The keyword arguments of `dependant`'s call: the request and its dependencies' values
    (each dependency called once per request)."""
    values: dict[str, Any] = {}
    if dependant.request_param_name:
        values[dependant.request_param_name] = request
    for sub in dependant.dependencies:
        if sub.call not in solved:
            assert sub.call is not None
            solved[sub.call] = await sub.call(**await _arguments(request, sub, solved))
        assert sub.name is not None
        values[sub.name] = solved[sub.call]
    return values


async def _body(request: Request) -> Any:
    """The body as FastAPI's handler reads it for a body model: parsed when its media type is
    JSON, the bytes otherwise, and absent when empty."""
    raw = await request.body()
    if not raw:
        return Undefined
    content_type = request.headers.get("content-type")
    if content_type is None or not _is_json(content_type):
        return raw
    try:  # the standard library's reading, as FastAPI's (orjson reads huge integers otherwise)
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ],
            body=error.doc,
        ) from error


@functools.lru_cache(maxsize=64)
def _is_json(content_type: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")
