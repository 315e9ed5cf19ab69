"""What the middleware needs to know about the route a request is for, before the router runs:
whether it authenticates (then sentd authenticates before reading the body) and which methods
its path allows (the `Allow` header of a 405)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def flat_routes(routes: list[BaseRoute]) -> Iterator[BaseRoute]:
    """Every route, also inside included routers (FastAPI wraps those; sentd includes them
    without a prefix, each router carrying its own)."""
    for route in routes:
        original = getattr(route, "original_router", None)
        if original is not None:
            yield from flat_routes(original.routes)
        else:
            yield route


def _uses(dependant: Dependant, call: Callable[..., Any]) -> bool:
    return any(d.call is call or _uses(d, call) for d in dependant.dependencies)


class RouteFacts:
    """Answers about the app's routes. The routes are indexed on first use (every router is
    included by then): path pattern, methods, and whether the route depends on `authenticate`."""

    def __init__(self, authenticate: Callable[..., Any]) -> None:
        self._authenticate = authenticate
        self._index: list[tuple[re.Pattern[str], frozenset[str], bool]] | None = None

    def _build(self, routes: list[BaseRoute]) -> list[tuple[re.Pattern[str], frozenset[str], bool]]:
        index = []
        for route in flat_routes(routes):
            methods = getattr(route, "methods", None)
            pattern = getattr(route, "path_regex", None)
            if not methods or pattern is None:
                continue
            authenticates = isinstance(route, APIRoute) and _uses(
                route.dependant, self._authenticate
            )
            index.append((pattern, frozenset(methods), authenticates))
        return index

    def needs_authentication(self, routes: list[BaseRoute], scope: Scope) -> bool:
        """True when the route `scope` fully matches depends on `authenticate`."""
        if self._index is None:
            self._index = self._build(routes)
        method, path = scope["method"], scope["path"]
        for pattern, methods, authenticates in self._index:
            if method in methods and pattern.match(path):
                return authenticates
        return False


def allowed_methods(routes: list[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route accepts on the path of `scope`, sorted."""
    methods: set[str] = set()
    for route in flat_routes(routes):
        route_methods = getattr(route, "methods", None)
        if not route_methods:
            continue
        probe = {**scope, "method": next(iter(route_methods))}
        match, _ = route.matches(probe)
        if match is Match.FULL:
            methods |= set(route_methods)
    return sorted(methods)
