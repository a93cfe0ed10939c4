"""Server-side SVG charts for the KPI dashboard: coordinates computed here, drawn by a template partial
(templates/production/kpi/_chart.html). No JavaScript and no CDN: the page works in an offline plant and
prints as it looks."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
        segments, current = [], []
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
    return {
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
