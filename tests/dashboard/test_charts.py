"""The overview's chart as a pure function (no server, no database): date labels that stay
inside the drawing, nothing said of a peak when there are no messages, a title and description
for screen readers, a legend of the final statuses and the figures as a table."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import date, timedelta

from sentd.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 12, 3)
# A wide guess of a character's advance in a sans-serif face, in ems (digits are ~0.64).
EM_PER_CHAR = 0.7


def _parse(chart: charts.DailyChart) -> ET.Element:
    markup = str(chart.svg()).replace(
        '<svg class="chart"', f'<svg xmlns="{SVG[1:-1]}" class="chart"', 1
    )
    return ET.fromstring(markup)


def _rows(*entries: tuple[int, str, int]) -> list[dict[str, object]]:
    return [{"day": TODAY - timedelta(days=ago), "status": s, "n": n} for ago, s, n in entries]


def _extent(text: ET.Element) -> tuple[float, float]:
    x = float(text.attrib["x"])
    width = len(text.text or "") * EM_PER_CHAR * float(text.attrib["font-size"])
    anchor = text.attrib.get("text-anchor", "start")
    if anchor == "start":
        return x, x + width
    if anchor == "end":
        return x - width, x
    return x - width / 2, x + width / 2


def test_every_date_label_lies_whole_inside_the_drawing() -> None:
    chart = charts.daily_by_status(_rows((0, "DELIVERED", 3)), TODAY)
    svg = _parse(chart)
    texts = svg.findall(f"{SVG}text")
    dates = [t for t in texts if t.text and t.text[:2].isdigit() and "-" in t.text]
    assert dates[0].text == "11-04" and dates[-1].text == "12-03"
    for text in texts:
        left, right = _extent(text)
        assert left >= 0 and right <= chart.width, (text.text, left, right)
    # Labels do not run into one another.
    spans = sorted(_extent(t) for t in dates)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(spans))


def test_no_messages_says_so_and_names_no_peak() -> None:
    chart = charts.daily_by_status([], TODAY)
    svg = _parse(chart)
    drawn = " ".join(t.text or "" for t in svg.iter(f"{SVG}text"))
    assert "peak" not in drawn and "no messages" in drawn
    assert chart.peak == 0 and chart.peak_day is None and chart.bars == [] and chart.rows == []
    assert "peak" not in chart.description and "busiest" not in chart.description
    assert chart.description == "No messages in the last 30 days."
    # The legend still gives the final statuses' colours.
    assert {s: n for s, _, n in chart.legend} == {
        "DELIVERED": 0,
        "READ": 0,
        "FAILED": 0,
        "CANCELLED": 0,
    }


def test_messages_are_stacked_with_a_peak_title_description_and_table() -> None:
    rows = _rows(
        (0, "DELIVERED", 4),
        (0, "FAILED", 1),
        (2, "READ", 2),
        (2, "CANCELLED", 1),
        (2, "QUEUED", 3),
        (9, "DELIVERED", 2),
    )
    chart = charts.daily_by_status(rows, TODAY)
    svg = _parse(chart)
    assert svg.attrib["role"] == "img"
    assert svg.attrib["aria-labelledby"] == "chart-title chart-desc"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and title.attrib["id"] == "chart-title"
    assert title.text == "Messages per day by status, 2026-11-04 to 2026-12-03"
    assert desc is not None and desc.attrib["id"] == "chart-desc"
    assert desc.text == (
        "13 messages in the last 30 days (DELIVERED 6, READ 2, QUEUED 3, FAILED 1, "
        "CANCELLED 1); the busiest day was 2026-12-01 with 6."
    )
    assert "peak 6/day" in [t.text for t in svg.iter(f"{SVG}text")]
    # One rect per (day, status), each with its own tooltip; the busiest day fills the height.
    rects = svg.findall(f"{SVG}rect")
    assert len(rects) == 6
    assert {r.findtext(f"{SVG}title") for r in rects} >= {"2026-12-01: 3 QUEUED"}
    tallest = [r for r in rects if (r.findtext(f"{SVG}title") or "").startswith("2026-12-01")]
    assert round(sum(float(r.attrib["height"]) for r in tallest)) == chart.height - 10 - 24
    # Legend: the final statuses always, the in-between ones when they occur, with colours.
    assert [(s, n) for s, _, n in chart.legend] == [
        ("DELIVERED", 6),
        ("READ", 2),
        ("QUEUED", 3),
        ("FAILED", 1),
        ("CANCELLED", 1),
    ]
    colours = dict(charts.STATUS_COLOURS)
    assert all(c == colours[s] for s, c, _ in chart.legend)
    # The figures, per day with messages, for a table next to the chart.
    assert chart.columns == ["DELIVERED", "READ", "QUEUED", "FAILED", "CANCELLED"]
    assert [(r.day.isoformat(), r.counts, r.total) for r in chart.rows] == [
        ("2026-11-24", {"DELIVERED": 2}, 2),
        ("2026-12-01", {"READ": 2, "CANCELLED": 1, "QUEUED": 3}, 6),
        ("2026-12-03", {"DELIVERED": 4, "FAILED": 1}, 5),
    ]
