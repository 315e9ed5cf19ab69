"""Charts drawn on the server as SVG (no script, no library): messages per day by status.

`daily_by_status` turns rows of (day, status, n) into a `DailyChart`: the bars, the x-axis
labels, the legend and the figures as a table; `DailyChart.svg()` draws it, with a title and a
description for screen readers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Any, Literal

from markupsafe import Markup

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
# Always in the legend (with 0 when none): where an outbound message ends.
FINAL_STATUSES = frozenset({"DELIVERED", "READ", "FAILED", "CANCELLED"})

WIDTH, HEIGHT, TOP, BOTTOM = 720, 220, 10, 24
FONT_SIZE = 11
EDGE = 2  # space between a bar and its slot's edge, and between a label and the chart's edge

Anchor = Literal["start", "middle", "end"]


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    """An x-axis date: the first is anchored at its start and the last at its end, so that
    neither runs past the chart's edges."""

    x: float
    text: str
    anchor: Anchor


@dataclass(frozen=True, slots=True)
class DayFigures:
    day: date
    counts: dict[str, int]
    total: int


@dataclass(frozen=True, slots=True)
class DailyChart:
    width: int
    height: int
    first: date
    last: date
    bars: list[Bar]
    labels: list[Label]
    peak: int  # the busiest day's messages; 0 when there are none
    peak_day: date | None
    legend: list[tuple[str, str, int]]  # (status, colour, messages)
    total: int
    columns: list[str]  # the statuses that occur, in the bars' order
    rows: list[DayFigures]  # the days with messages, oldest first

    @property
    def title(self) -> str:
        return f"Messages per day by status, {self.first.isoformat()} to {self.last.isoformat()}"

    @property
    def description(self) -> str:
        days = (self.last - self.first).days + 1
        if not self.total:
            return f"No messages in the last {days} days."
        by_status = ", ".join(f"{s} {n}" for s, _, n in self.legend if n)
        busiest = self.peak_day.isoformat() if self.peak_day else ""
        return (
            f"{self.total} messages in the last {days} days ({by_status}); "
            f"the busiest day was {busiest} with {self.peak}."
        )

    def svg(self) -> Markup:
        """The chart as an inline SVG image, named by its title and described by its totals."""
        baseline = self.height - BOTTOM
        parts = [
            f'<svg class="chart" viewBox="0 0 {self.width} {self.height}" role="img" '
            'aria-labelledby="chart-title chart-desc">',
            f'<title id="chart-title">{escape(self.title)}</title>',
            f'<desc id="chart-desc">{escape(self.description)}</desc>',
            f'<line x1="0" y1="{baseline}" x2="{self.width}" y2="{baseline}" '
            'stroke="#888" stroke-width="1"/>',
        ]
        for bar in self.bars:
            parts.append(
                f'<rect x="{bar.x:.1f}" y="{bar.y:.1f}" width="{bar.width:.1f}" '
                f'height="{bar.height:.1f}" fill="{bar.colour}"><title>{escape(bar.title)}'
                "</title></rect>"
            )
        for label in self.labels:
            parts.append(
                f'<text x="{label.x:.1f}" y="{self.height - 6}" font-size="{FONT_SIZE}" '
                f'text-anchor="{label.anchor}" fill="#333">{escape(label.text)}</text>'
            )
        if self.total:
            parts.append(
                f'<text x="4" y="{TOP + 4}" font-size="{FONT_SIZE}" fill="#333">'
                f"peak {self.peak}/day</text>"
            )
        else:
            parts.append(
                f'<text x="{self.width / 2:.1f}" y="{(TOP + baseline) / 2:.1f}" '
                f'font-size="{FONT_SIZE + 2}" text-anchor="middle" fill="#666">no messages</text>'
            )
        parts.append("</svg>")
        return Markup("\n".join(parts))


def daily_by_status(rows: list[Any], today: date, days: int = 30) -> DailyChart:
    """Stacked bars, one per day from `today - days + 1` to `today`, from rows of
    (day, status, n)."""
    counts: dict[date, dict[str, int]] = {}
    for row in rows:
        day_counts = counts.setdefault(row["day"], {})
        day_counts[row["status"]] = day_counts.get(row["status"], 0) + int(row["n"])
    first = today - timedelta(days=days - 1)
    per_day = [counts.get(first + timedelta(days=i), {}) for i in range(days)]
    day_totals = [sum(d.values()) for d in per_day]
    peak = max(day_totals)
    scale = max(peak, 1)
    slot = WIDTH / days
    usable = HEIGHT - TOP - BOTTOM
    bars: list[Bar] = []
    labels: list[Label] = []
    totals: dict[str, int] = {}
    table: list[DayFigures] = []
    for i, day_counts in enumerate(per_day):
        day = first + timedelta(days=i)
        y = float(HEIGHT - BOTTOM)
        for status, colour in STATUS_COLOURS:
            n = day_counts.get(status, 0)
            if not n:
                continue
            totals[status] = totals.get(status, 0) + n
            h = usable * n / scale
            y -= h
            bars.append(
                Bar(
                    i * slot + EDGE,
                    y,
                    slot - 2 * EDGE,
                    h,
                    colour,
                    f"{day.isoformat()}: {n} {status}",
                )
            )
        if day_totals[i]:
            table.append(DayFigures(day, dict(day_counts), day_totals[i]))
        if i == 0:
            labels.append(Label(EDGE, day.strftime("%m-%d"), "start"))
        elif i == days - 1:
            labels.append(Label(WIDTH - EDGE, day.strftime("%m-%d"), "end"))
        elif i % 5 == 0:
            labels.append(Label(i * slot + slot / 2, day.strftime("%m-%d"), "middle"))
    legend = [
        (s, c, totals.get(s, 0)) for s, c in STATUS_COLOURS if s in totals or s in FINAL_STATUSES
    ]
    peak_day = first + timedelta(days=day_totals.index(peak)) if peak else None
    return DailyChart(
        width=WIDTH,
        height=HEIGHT,
        first=first,
        last=today,
        bars=bars,
        labels=labels,
        peak=peak,
        peak_day=peak_day,
        legend=legend,
        total=sum(totals.values()),
        columns=[s for s, _ in STATUS_COLOURS if s in totals],
        rows=table,
    )
