"""`ApiError`: the one way code signals a catalog error. Nothing builds error JSON by hand."""

from __future__ import annotations

from collections.abc import Mapping

from sentd.errors.catalog import ErrorSpec, get_spec

Details = dict[str, list[str]]


class ApiError(Exception):
    def __init__(
        self,
        code: str,
        details: Mapping[str, list[str]] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.spec: ErrorSpec = get_spec(code)
        self.details: Details | None = dict(details) if details else None
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(f"{code}: {self.spec.message}")

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def status(self) -> int:
        return self.spec.status
