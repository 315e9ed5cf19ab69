"""Money is integer micro-units (1 unit = 1,000,000 micros) everywhere but on the wire."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

MICROS_PER_UNIT = 1_000_000


def units_to_micros(amount: str | int | Decimal) -> int:
    """Parse an amount in currency units (`25`, `0.05`) into micros; ValueError when it is not
    a non-negative number with at most six decimals."""
    try:
        value = Decimal(str(amount).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a non-negative amount: {amount!r}")
    micros = value * MICROS_PER_UNIT
    if micros != micros.to_integral_value():
        raise ValueError(f"more than six decimals: {amount!r}")
    return int(micros)


def micros_to_units(micros: int) -> float:
    return micros / MICROS_PER_UNIT
