"""Where voice numbers come from: the simulator's pool, or the live voice provider's account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sentd.voice import pool


class NoNumberAvailable(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Line:
    number: str
    provider: str
    provider_ref: str | None


class VoiceLines(Protocol):
    name: str

    async def acquire(self, area_code: str | None, taken: frozenset[str]) -> Line:
        """A new number (pool.UnknownAreaCode for an area code without numbers)."""
        ...

    async def held(self, number: str) -> Line | None:
        """The number as the provider holds it for this account, or None when it does not."""
        ...


class SimulatedLines:
    """Every valid number counts as yours; new ones are drawn at random."""

    name = "simulator"

    async def acquire(self, area_code: str | None, taken: frozenset[str]) -> Line:
        for _ in range(20):
            number = pool.candidate(area_code)
            if number not in taken:
                return Line(number, self.name, None)
        raise NoNumberAvailable(area_code or "any")

    async def held(self, number: str) -> Line | None:
        return Line(number, self.name, None)
