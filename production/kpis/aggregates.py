"""Aggregates the KPI sections share: durations and percentiles in the database (PostgreSQL's
percentile_cont, or a sorted read on SQLite), weekly series, and rounding for display."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    FloatField,
    Func,
    IntegerField,
    QuerySet,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone

HOUR = 3600.0
DAY = 86400.0


# --- database helpers ----------------------------------------------------------------------------------
class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=f"{float(fraction):.4f}", **extra)


class SecondsBetween(Func):
    """end - start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))", arg_joiner=" - "
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
        )


class DaysBetween(Func):
    """end date - start date in whole days."""

    output_field = IntegerField()
    arity = 2

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="(%(expressions)s)", arg_joiner=" - ")

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
        )


def native_percentiles() -> bool:
    return connection.vendor == "postgresql"


def _percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, like percentile_cont."""
    if not values:
        return None
    values = sorted(values)
    position = (len(values) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


def percentiles(
    queryset: QuerySet, value: Any, fractions: Iterable[float], **aggregates: Any
) -> dict[Any, Any]:
    """{fraction: percentile} of `value`, plus any other `aggregates` by name, in one query on PostgreSQL."""
    fractions = list(fractions)
    row = named_percentiles(queryset, {f"_p{i}": (value, f) for i, f in enumerate(fractions)}, **aggregates)
    return {**{f: row[f"_p{i}"] for i, f in enumerate(fractions)}, **{k: row[k] for k in aggregates}}


def named_percentiles(
    queryset: QuerySet, spec: dict[str, tuple[Any, float]], **aggregates: Any
) -> dict[str, Any]:
    """{name: percentile} for spec {name: (value expression, fraction)}, plus `aggregates`, in one query.

    Rows whose value is NULL are left out of that value's percentile (as percentile_cont does), so one
    scan serves several values that exist on different rows (e.g. the steps a change request reached).
    """
    if native_percentiles():
        return queryset.aggregate(
            **aggregates,
            **{name: PercentileCont(value, fraction) for name, (value, fraction) in spec.items()},
        )
    result: dict[str, Any] = queryset.aggregate(**aggregates) if aggregates else {}
    columns = _value_columns(spec)
    values: dict[str, list[float]] = {alias: [] for alias in columns.values()}
    if values:
        annotated = queryset.annotate(**{alias: value for value, alias in columns.items()})
        for row in annotated.values(*values):
            for alias, number in row.items():
                if number is not None:
                    values[alias].append(number)
    for name, (value, fraction) in spec.items():
        result[name] = _percentile(values[columns[value]], fraction)
    return result


def _percentile_aggregates(spec: dict[str, tuple[Any, float]]) -> dict[str, PercentileCont]:
    return {name: PercentileCont(value, fraction) for name, (value, fraction) in spec.items()}


def _value_columns(spec: dict[str, tuple[Any, float]]) -> dict[Any, str]:
    """One column per distinct value expression of a percentile spec (SQLite fallback)."""
    columns: dict[Any, str] = {}
    for value, _fraction in spec.values():
        columns.setdefault(value, f"_v{len(columns)}")
    return columns


def weekly_aggregates(
    queryset: QuerySet, *, moment: str, spec: dict[str, tuple[Any, float]] | None = None, **aggregates: Any
) -> dict[dt.date, dict[str, Any]]:
    """{week start: {name: value}}: `aggregates` and the percentiles of `spec` grouped by the ISO week of
    `moment` (plant time), in one grouped query on PostgreSQL. NULL values are left out as above."""
    spec = spec or {}
    weekly = queryset.annotate(_week=TruncWeek(moment)).values("_week")
    if native_percentiles():
        rows = weekly.annotate(
            **aggregates,
            **{name: PercentileCont(value, fraction) for name, (value, fraction) in spec.items()},
        ).order_by("_week")
        return {as_date(row.pop("_week")): row for row in rows}
    result: dict[dt.date, dict[str, Any]] = {}
    if aggregates:
        for row in weekly.annotate(**aggregates).order_by("_week"):
            result[as_date(row.pop("_week"))] = row
    columns = _value_columns(spec)
    grouped: dict[dt.date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    if columns:
        annotated = queryset.annotate(_week=TruncWeek(moment), **{a: v for v, a in columns.items()})
        for row in annotated.values("_week", *columns.values()):
            week = as_date(row.pop("_week"))
            for alias, number in row.items():
                if number is not None:
                    grouped[week][alias].append(number)
    for week, lists in grouped.items():
        row = result.setdefault(week, {})
        for name, (value, fraction) in spec.items():
            row[name] = _percentile(lists[columns[value]], fraction)
    for row in result.values():
        for name in spec:
            row.setdefault(name, None)
    return result


def weekly_percentiles(
    queryset: QuerySet, *, moment: str, value: Any, fraction: float = 0.5
) -> dict[dt.date, tuple[int, float | None]]:
    """{week start: (count, percentile)} grouped by the ISO week of `moment` (plant time)."""
    weekly = weekly_aggregates(queryset, moment=moment, spec={"_p": (value, fraction)}, _n=Count("pk"))
    return {week: (row["_n"], row["_p"]) for week, row in weekly.items()}


def as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def ratio(part: Any, whole: Any) -> float | None:
    return (float(part) / float(whole)) if whole else None


def rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def per(value: float | None, by: float) -> float | None:
    return None if value is None else value / by


def percent(part: Any, whole: Any) -> float | None:
    share = ratio(part, whole)
    return None if share is None else round(share * 100, 1)
