from __future__ import annotations

import pytest

from sentd.money import micros_to_units, units_to_micros


@pytest.mark.parametrize(
    ("units", "micros"), [("25", 25_000_000), ("0.05", 50_000), ("0.000001", 1), (3, 3_000_000)]
)
def test_units_to_micros(units: str | int, micros: int) -> None:
    assert units_to_micros(units) == micros
    assert micros_to_units(micros) == float(units)


@pytest.mark.parametrize("bad", ["abc", "-1", "0.0000001", "NaN", "inf", ""])
def test_bad_amounts(bad: str) -> None:
    with pytest.raises(ValueError):
        units_to_micros(bad)
