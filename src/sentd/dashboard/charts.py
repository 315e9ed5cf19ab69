"""Charts drawn on the server as SVG (no script, no library): messages per day by status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# Final and in-between statuses, bottom to top, with their colours (readable on white).
STATUS_COLOURS = (
    ("DELIVERED", "#1b7f3b"),
    ("READ", "#0b5d2a"),
    ("SENT", "#3a78c2"),
    ("ACCEPTED", "#7aa6d8"),
    ("QUEUED", "#a8a8a8"),
    ("SCHEDULED", "#c9c9c9"),
    ("FAILED", "#b3261e"),
    ("CANCELLED", "#7a5c00"),
    ("RECEIVED", "#6b3fa0"),
)


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class DailyChart:
    width: int
    height: int
    bars: list[Bar]
    labels: list[tuple[float, str]]
    peak: int
    legend: list[tuple[str, str, int]]
    total: int


def daily_by_status(rows: list[Any], today: date, days: int = 30) -> DailyChart:
    """Stacked bars, one per day from `today - days + 1` to `today`, from rows of
    (day, status, n)."""
    width, height, top, bottom = 720, 220, 10, 24
    counts: dict[date, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["day"], {})[row["status"]] = int(row["n"])
    first = today - timedelta(days=days - 1)
    per_day = [counts.get(first + timedelta(days=i), {}) for i in range(days)]
    peak = max([sum(d.values()) for d in per_day] + [1])
    slot = width / days
    usable = height - top - bottom
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    totals: dict[str, int] = {}
    for i, day_counts in enumerate(per_day):
        day = first + timedelta(days=i)
        y = float(height - bottom)
        for status, colour in STATUS_COLOURS:
            n = day_counts.get(status, 0)
            if not n:
                continue
            totals[status] = totals.get(status, 0) + n
            h = usable * n / peak
            y -= h
            bars.append(
                Bar(i * slot + 2, y, slot - 4, h, colour, f"{day.isoformat()}: {n} {status}")
            )
        if i % 5 == 0 or i == days - 1:
            labels.append((i * slot + slot / 2, day.strftime("%m-%d")))
    legend = [(s, c, totals[s]) for s, c in STATUS_COLOURS if s in totals]
    return DailyChart(width, height, bars, labels, peak, legend, sum(totals.values()))
