"""Numbered parameters by name, for a statement assembled from fragments.

A fragment asks `Params` for each of its values by name and gets back its placeholder
(`$n::type`); the caller then binds a mapping of names to values. The numbers follow the order
the fragments asked, so one fragment gaining or losing a parameter cannot shift another's, and
binding checks that every named value is given exactly once.

    p = Params()
    sql = f"SELECT {p('a', 'int')} + {p('b', 'int')}"
    await conn.fetchval(sql, *p.bind({"a": 1, "b": 2}))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Params:
    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._names: list[str] = []

    def __call__(self, name: str, cast: str) -> str:
        """The placeholder of `name` cast to `cast`; the same number each time it is asked."""
        number = self._numbers.get(name)
        if number is None:
            self._names.append(name)
            number = self._numbers[name] = len(self._names)
        return f"${number}::{cast}"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._names)

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's arguments, in number order. Every name must be given, and only
        those."""
        if len(values) != len(self._names):
            missing = sorted(set(self._names) - set(values))
            unknown = sorted(set(values) - set(self._names))
            raise KeyError(f"parameters missing {missing}, unknown {unknown}")
        try:
            return [values[name] for name in self._names]
        except KeyError as exc:
            raise KeyError(f"parameter {exc.args[0]} is not given") from None
