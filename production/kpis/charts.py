"""Server-side SVG charts for the KPI dashboard: coordinates computed here, drawn by a template partial
(templates/production/kpi/_chart.html). No JavaScript and no CDN: the page works in an offline plant and
prints as it looks.

The marks inside the SVG (grid, labels, lines, points, bars: a few hundred elements per page) are
written by `marks` in Python rather than by template loops (those took ~18 ms of an uncached dashboard on
the bench); the partial keeps the figure, caption, legend and the <svg> element."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from html import escape
from typing import Any

from django.utils.safestring import SafeString, mark_safe

WIDTH = 520
HEIGHT = 200
LEFT = 44
RIGHT = 12
TOP = 12
BOTTOM = 34
PALETTE = ("#0d6efd", "#d63384", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#6c757d", "#dc3545")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1)
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(value)


def _label(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.strftime("%d.%m")
    return str(value)


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def build(chart: Any) -> dict[str, Any]:
    """The drawing of a production.kpis.Chart: axes, grid, one polyline (line) or bars per series."""
    categories = [point[0] for point in chart.series[0].points] if chart.series else []
    values = [v for series in chart.series for _x, v in series.points if v is not None]
    top = _nice_max(max(values, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    count = max(len(categories), 1)

    def y_of(value: float) -> float:
        return round(TOP + plot_h - (value / top) * plot_h, 1)

    grid = [{"y": y_of(top * i / 4), "label": _number(top * i / 4)} for i in range(5)]
    step = plot_w / count
    label_every = max(1, round(count / 8))
    x_labels = [
        {"x": round(LEFT + step * (i + 0.5), 1), "label": _label(category)}
        for i, category in enumerate(categories)
        if i % label_every == 0
    ]
    series_out = []
    for index, series in enumerate(chart.series):
        colour = PALETTE[index % len(PALETTE)]
        points = []
        bars = []
        for i, (category, value) in enumerate(series.points):
            x = round(LEFT + step * (i + 0.5), 1)
            if value is None:
                continue
            title = f"{series.label} · {_label(category)}: {_number(value)} {chart.unit}".strip()
            points.append({"x": x, "y": y_of(value), "title": title})
            if chart.kind == "bar":
                width = step * 0.8 / len(chart.series)
                bar_x = LEFT + step * i + step * 0.1 + width * index
                bars.append(
                    {
                        "x": round(bar_x, 1),
                        "y": y_of(value),
                        "width": round(width, 1),
                        "height": round(TOP + plot_h - y_of(value), 1),
                        "title": title,
                    }
                )
        # A line breaks where a week has no value rather than pretending a value of zero.
        segments: list[list[str]] = []
        current: list[str] = []
        for i, (_category, value) in enumerate(series.points):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            current.append(f"{round(LEFT + step * (i + 0.5), 1)},{y_of(value)}")
        if current:
            segments.append(current)
        series_out.append(
            {
                "label": series.label,
                "colour": colour,
                "points": points,
                "bars": bars,
                "paths": [" ".join(segment) for segment in segments],
            }
        )
    drawing = {
        "title": chart.title,
        "kind": chart.kind,
        "unit": chart.unit,
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "bottom": TOP + plot_h,
        "grid": grid,
        "x_labels": x_labels,
        "x_label_y": HEIGHT - BOTTOM + 16,
        "series": series_out,
        "empty": not values,
    }
    drawing["marks"] = marks(drawing)
    return drawing


def marks(drawing: dict[str, Any]) -> SafeString:
    """The SVG elements of a drawing made by `build` (every text escaped)."""
    left, right = drawing["left"], drawing["right"]
    parts = [
        html_rows(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dee2e6"/>'
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle" fill="#6c757d">{}</text>',
            (
                (left, right, line["y"], line["y"], left - 4, line["y"], line["label"])
                for line in drawing["grid"]
            ),
        ),
        html_rows(
            '<text x="{}" y="{}" text-anchor="middle" fill="#6c757d">{}</text>',
            ((label["x"], drawing["x_label_y"], label["label"]) for label in drawing["x_labels"]),
        ),
    ]
    for series in drawing["series"]:
        colour = series["colour"]
        if drawing["kind"] == "bar":
            parts.append(
                html_rows(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" rx="2"><title>{}</title></rect>',
                    (
                        (bar["x"], bar["y"], bar["width"], bar["height"], colour, bar["title"])
                        for bar in series["bars"]
                    ),
                )
            )
        else:
            parts.append(
                html_rows(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                    ((path, colour) for path in series["paths"]),
                )
            )
            parts.append(
                html_rows(
                    '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
                    ((point["x"], point["y"], colour, point["title"]) for point in series["points"]),
                )
            )
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped by html_rows


def html_rows(template: str, rows: Iterable[Iterable[Any]]) -> str:
    """format_html_join("", template, rows) for plain values, without its per-argument lazy-string checks
    (a thousand calls per page): every value is str()-ed and escaped exactly as Django's escape does."""
    return "".join(template.format(*[escape(str(value)) for value in row]) for row in rows)
