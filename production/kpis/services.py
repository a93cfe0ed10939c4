"""The KPI dashboard's figures, aggregated in the database.

Where it lives and why: the order and production KPIs read orders (and the orders app's change requests and
ratings) and production data, which production may import (apps depend one way: crm_sync -> production ->
orders). Sync health reads crm_sync, which production must not import, so the dashboard is a small
registry of sections: production registers its own below, crm_sync registers "sync health" in its
AppConfig.ready (see crm_sync/kpis.py). The view (production/kpi_views.py) renders every registered section.

Every figure is an aggregate query (annotate/aggregate, TruncWeek); percentiles use PostgreSQL's
percentile_cont, with a fallback for SQLite (development) that reads the one value column and sorts it.

Definitions (also on the page and in README):
- order flow time: confirmed (or entered, when never confirmed) -> production started, per order whose
  production started in the period;
- change response time: a change request's submitted -> decided -> applied -> acknowledged by the MES,
  per request submitted in the period;
- on-time delivery: an order shipped in the period is on time when its shipping date (plant time) is on
  or before its promised date; average lateness is the mean days late of the late ones;
- rework / scrap rate: reworked / scrapped quantity over all reported quantity (good + scrap + rework)
  of progress reports in the period; inspection rejection rate: failed or rework inspections over all;
- customer satisfaction: mean rating (1-5) of ratings given in the period;
- load vs capacity: planned minutes of the current plan per work center and week over its working minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Aggregate,
    Avg,
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import (
    ChangeRequest,
    Customer,
    CustomerTier,
    OrderLine,
    OrderRating,
    ProductFamily,
    SalesOrder,
)
from production.models import ProductionException, ProgressReport, QualityInspection

HOUR = 3600.0
DAY = 86400.0
DEFAULT_WEEKS = 13
MAX_DAYS = 731


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


def _native_percentiles() -> bool:
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
    if _native_percentiles():
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
    if _native_percentiles():
        rows = weekly.annotate(
            **aggregates,
            **{name: PercentileCont(value, fraction) for name, (value, fraction) in spec.items()},
        ).order_by("_week")
        return {_as_date(row.pop("_week")): row for row in rows}
    result: dict[dt.date, dict[str, Any]] = {}
    if aggregates:
        for row in weekly.annotate(**aggregates).order_by("_week"):
            result[_as_date(row.pop("_week"))] = row
    columns = _value_columns(spec)
    grouped: dict[dt.date, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    if columns:
        annotated = queryset.annotate(_week=TruncWeek(moment), **{a: v for v, a in columns.items()})
        for row in annotated.values("_week", *columns.values()):
            week = _as_date(row.pop("_week"))
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


def _as_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


def _ratio(part: Any, whole: Any) -> float | None:
    return (float(part) / float(whole)) if whole else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# --- filters -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiFilters:
    """The period (inclusive dates, plant time) and the optional customer, tier and product family."""

    start: dt.date
    end: dt.date
    customer_id: int | None = None
    tier: str = ""
    family_id: int | None = None

    @classmethod
    def default(cls) -> KpiFilters:
        today = timezone.localdate()
        return cls(start=today - dt.timedelta(weeks=DEFAULT_WEEKS) + dt.timedelta(days=1), end=today)

    @property
    def since(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def until(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def cache_key(self) -> str:
        raw = f"{self.start}|{self.end}|{self.customer_id}|{self.tier}|{self.family_id}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def query(self) -> dict[str, str]:
        data = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.customer_id:
            data["customer"] = str(self.customer_id)
        if self.tier:
            data["tier"] = self.tier
        if self.family_id:
            data["family"] = str(self.family_id)
        return data

    def in_period(self, moment: str) -> Q:
        return Q(**{f"{moment}__gte": self.since, f"{moment}__lt": self.until})

    def orders(self, queryset: QuerySet, *, order: str = "", family: str | None = None) -> QuerySet:
        """Apply customer, tier and family to a queryset whose rows reach an order through `order`.

        `family` names a product path on the rows themselves (work orders make one product); without it
        an order matches when any of its lines is of the family.
        """
        prefix = f"{order}__" if order else ""
        if self.customer_id:
            queryset = queryset.filter(**{f"{prefix}customer_id": self.customer_id})
        if self.tier:
            queryset = queryset.filter(**{f"{prefix}customer__tier": self.tier})
        if self.family_id:
            if family:
                queryset = queryset.filter(**{f"{family}__family_id": self.family_id})
            else:
                lines = OrderLine.objects.filter(
                    order_id=OuterRef(f"{prefix}pk" if prefix else "pk"), product__family_id=self.family_id
                )
                queryset = queryset.filter(Exists(lines))
        return queryset


def parse_filters(params: Any) -> tuple[KpiFilters, dict[str, list[str]]]:
    """Filters from a query string; a bad value is reported by field and replaced by its default."""
    default = KpiFilters.default()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"start": default.start, "end": default.end}
    for name in ("start", "end"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[name] = [_("Enter a valid date (YYYY-MM-DD).")]
    if values["end"] < values["start"]:
        errors["end"] = [_("The end of the period is before its start.")]
        values["start"], values["end"] = default.start, default.end
    elif (values["end"] - values["start"]).days > MAX_DAYS:
        errors["start"] = [_("Choose a period of at most two years.")]
        values["start"] = values["end"] - dt.timedelta(days=MAX_DAYS)
    for name, model in (("customer", Customer), ("family", ProductFamily)):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not model.objects.filter(pk=int(raw)).exists():
            errors[name] = [_("Choose a valid option.")]
        else:
            values[f"{name}_id"] = int(raw)
    tier = (params.get("tier") or "").strip()
    if tier and tier not in CustomerTier.values:
        errors["tier"] = [_("Choose a valid option.")]
    elif tier:
        values["tier"] = tier
    return KpiFilters(**values), errors


# --- what a section is made of -------------------------------------------------------------------------
@dataclass
class Figure:
    label: str
    value: float | int | None
    unit: str = ""
    hint: str = ""

    @property
    def text(self) -> str:
        """The value as shown: thousands grouped; a whole count without decimals, a rate or time with one."""
        if self.value is None:
            return ""
        whole = isinstance(self.value, int) or (not self.unit and float(self.value).is_integer())
        return number_format(self.value, 0 if whole else 1, force_grouping=True)


@dataclass
class Series:
    label: str
    points: list[tuple[Any, float | None]]


@dataclass
class Chart:
    title: str
    kind: str  # "line" (over time) or "bar" (categories)
    series: list[Series]
    unit: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    key: str
    title: str
    definition: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    unavailable: str = ""
    note: str = ""


@dataclass(frozen=True)
class SectionProvider:
    key: str
    build: Callable[[KpiFilters], Section]
    order: int = 100


_providers: dict[str, SectionProvider] = {}


def register(provider: SectionProvider) -> SectionProvider:
    _providers[provider.key] = provider
    return provider


def providers() -> list[SectionProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def weeks_of(filters: KpiFilters) -> list[dt.date]:
    start = filters.start - dt.timedelta(days=filters.start.weekday())
    weeks = []
    while start <= filters.end:
        weeks.append(start)
        start += dt.timedelta(weeks=1)
    return weeks


# --- order flow time -----------------------------------------------------------------------------------
FLOW_SECONDS = SecondsBetween(F("production_started_at"), Coalesce(F("confirmed_at"), F("created_at")))


def flow_time(filters: KpiFilters) -> Section:
    orders = filters.orders(SalesOrder.objects.filter(filters.in_period("production_started_at")))
    p = stats = percentiles(orders, FLOW_SECONDS, (0.5, 0.9), n=Count("pk"), mean=Avg(FLOW_SECONDS))
    weekly = weekly_percentiles(orders, moment="production_started_at", value=FLOW_SECONDS)
    weeks = weeks_of(filters)
    rows = []
    for week in weeks:
        count, median = weekly.get(week, (0, None))
        rows.append([week, count, _round(median / DAY if median is not None else None, 2)])
    return Section(
        key="flow_time",
        title=_("Order flow time"),
        definition=_(
            "From the order's confirmation (or its entry, if it was never confirmed) to the start of its "
            "production, for orders whose production started in the period."
        ),
        figures=[
            Figure(_("Orders started"), stats["n"]),
            Figure(_("Median"), _round(_div(p[0.5], DAY), 1), _("days")),
            Figure(_("90th percentile"), _round(_div(p[0.9], DAY), 1), _("days")),
            Figure(_("Mean"), _round(_div(stats["mean"], DAY), 1), _("days")),
        ],
        charts=[
            Chart(
                _("Median flow time per week"),
                "line",
                [Series(_("Median"), [(r[0], r[2]) for r in rows])],
                _("days"),
            )
        ],
        tables=[
            Table(
                "flow_time_weekly",
                _("Order flow time per week"),
                [_("Week"), _("Orders"), _("Median (days)")],
                rows,
            )
        ],
    )


def _div(value: float | None, by: float) -> float | None:
    return None if value is None else value / by


# --- change response time ------------------------------------------------------------------------------
CHANGE_STAGES = (
    ("submitted_at", "decided_at", gettext_lazy("Submitted → decided")),
    ("decided_at", "applied_at", gettext_lazy("Decided → applied")),
    ("applied_at", "acknowledged_at", gettext_lazy("Applied → acknowledged by the MES")),
    ("submitted_at", "acknowledged_at", gettext_lazy("Submitted → acknowledged (total)")),
)


def change_response(filters: KpiFilters) -> Section:
    section = Section(
        key="change_response",
        title=_("Change response time"),
        definition=_(
            "For change requests submitted in the period: hours from submission to the decision, from the "
            "decision to its application to the order, and from application to the MES's acknowledgement "
            "(medians and 90th percentiles of the requests that reached each step)."
        ),
    )
    requests = filters.orders(ChangeRequest.objects.filter(filters.in_period("submitted_at")), order="order")
    # One scan for every step: a step's duration is NULL on the requests that did not reach it, and
    # percentiles leave NULLs out, so each step's figures are of the requests that reached it.
    durations = [SecondsBetween(F(end), F(start)) for start, end, _label in CHANGE_STAGES]
    stats = named_percentiles(
        requests,
        {
            f"{name}{i}": (duration, fraction)
            for i, duration in enumerate(durations)
            for name, fraction in (("p50_", 0.5), ("p90_", 0.9))
        },
        submitted=Count("pk"),
        decided=Count("pk", filter=Q(decided_at__isnull=False)),
        acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
        **{
            f"n{i}": Count("pk", filter=Q(**{f"{start}__isnull": False, f"{end}__isnull": False}))
            for i, (start, end, _label) in enumerate(CHANGE_STAGES)
        },
    )
    rows = [
        [
            str(label),
            stats[f"n{i}"],
            _round(_div(stats[f"p50_{i}"], HOUR)),
            _round(_div(stats[f"p90_{i}"], HOUR)),
        ]
        for i, (_start, _end, label) in enumerate(CHANGE_STAGES)
    ]
    weekly_rows = weekly_aggregates(
        requests, moment="submitted_at", spec={"decided": (durations[0], 0.5), "total": (durations[3], 0.5)}
    )
    weeks = weeks_of(filters)
    section.figures = [
        Figure(_("Submitted"), stats["submitted"]),
        Figure(_("Decided"), stats["decided"]),
        Figure(_("Acknowledged by the MES"), stats["acknowledged"]),
        Figure(_("Median to decision"), rows[0][2], _("hours")),
        Figure(_("Median, submitted → acknowledged"), rows[3][2], _("hours")),
    ]
    section.charts = [
        Chart(
            _("Median hours per week (by submission week)"),
            "line",
            [
                Series(
                    str(CHANGE_STAGES[0][2]),
                    [(w, _round(_div((weekly_rows.get(w) or {}).get("decided"), HOUR))) for w in weeks],
                ),
                Series(
                    str(CHANGE_STAGES[3][2]),
                    [(w, _round(_div((weekly_rows.get(w) or {}).get("total"), HOUR))) for w in weeks],
                ),
            ],
            _("hours"),
        )
    ]
    section.tables = [
        Table(
            "change_response_stages",
            _("Change response time by step"),
            [_("Step"), _("Requests"), _("Median (hours)"), _("90th percentile (hours)")],
            rows,
        )
    ]
    return section


# --- on-time delivery ----------------------------------------------------------------------------------
def _shipped(filters: KpiFilters) -> QuerySet:
    return filters.orders(
        SalesOrder.objects.filter(filters.in_period("shipped_at"), promised_date__isnull=False)
    ).annotate(days_late=DaysBetween(TruncDate("shipped_at"), F("promised_date")))


def on_time(filters: KpiFilters) -> Section:
    shipped = _shipped(filters)
    late = Q(days_late__gt=0)
    weekly = {
        _as_date(row["week"]): row
        for row in shipped.annotate(week=TruncWeek("shipped_at"))
        .values("week")
        .annotate(
            n=Count("pk"),
            on_time=Count("pk", filter=Q(days_late__lte=0)),
            vip=Count("pk", filter=Q(customer__tier=CustomerTier.VIP)),
            vip_on_time=Count("pk", filter=Q(customer__tier=CustomerTier.VIP, days_late__lte=0)),
            late=Count("pk", filter=late),
            days_late=Sum("days_late", filter=late),
        )
        .order_by("week")
    }
    # The period's figures are the sums of its weeks: one scan of the shipped orders, not two.
    stats = {
        key: sum(row[key] or 0 for row in weekly.values())
        for key in ("n", "on_time", "vip", "vip_on_time", "late", "days_late")
    }
    stats["lateness"] = _ratio(stats["days_late"], stats["late"])
    for row in weekly.values():
        row["lateness"] = _ratio(row["days_late"] or 0, row["late"])
    rows = []
    for week in weeks_of(filters):
        row = weekly.get(week) or {"n": 0, "on_time": 0, "vip": 0, "vip_on_time": 0, "lateness": None}
        rows.append(
            [
                week,
                row["n"],
                _percent(row["on_time"], row["n"]),
                row["vip"],
                _percent(row["vip_on_time"], row["vip"]),
                _round(row["lateness"]),
            ]
        )
    return Section(
        key="on_time",
        title=_("On-time delivery"),
        definition=_(
            "Orders shipped in the period with a promised date. An order is on time when its shipping date "
            "(plant time) is on or before the promised date. Average lateness: mean days late of the orders "
            "shipped late."
        ),
        figures=[
            Figure(_("Orders shipped"), stats["n"]),
            Figure(_("On-time delivery rate"), _percent(stats["on_time"], stats["n"]), "%"),
            Figure(
                _("On-time delivery rate, VIP customers"), _percent(stats["vip_on_time"], stats["vip"]), "%"
            ),
            Figure(_("Shipped late"), stats["late"]),
            Figure(_("Average lateness"), _round(stats["lateness"]), _("days")),
        ],
        charts=[
            Chart(
                _("On-time delivery rate per week"),
                "line",
                [
                    Series(_("All"), [(r[0], r[2]) for r in rows]),
                    Series(_("VIP"), [(r[0], r[4]) for r in rows]),
                ],
                "%",
            )
        ],
        tables=[
            Table(
                "on_time_weekly",
                _("On-time delivery per week"),
                [
                    _("Week"),
                    _("Shipped"),
                    _("On time (%)"),
                    _("VIP shipped"),
                    _("VIP on time (%)"),
                    _("Average lateness (days)"),
                ],
                rows,
            )
        ],
    )


def _percent(part: Any, whole: Any) -> float | None:
    ratio = _ratio(part, whole)
    return None if ratio is None else round(ratio * 100, 1)


# --- quality -------------------------------------------------------------------------------------------
def quality(filters: KpiFilters) -> Section:
    reports = filters.orders(
        ProgressReport.objects.filter(filters.in_period("reported_at")),
        order="operation__work_order__order",
        family="operation__work_order__product",
    )
    weekly = {
        _as_date(row["week"]): row
        for row in reports.annotate(week=TruncWeek("reported_at"))
        .values("week")
        .annotate(good=Sum("good_quantity"), scrap=Sum("scrap_quantity"), rework=Sum("rework_quantity"))
        .order_by("week")
    }
    totals = {key: sum(row[key] or 0 for row in weekly.values()) for key in ("good", "scrap", "rework")}
    inspections = filters.orders(
        QualityInspection.objects.filter(filters.in_period("inspected_at")),
        order="lot__work_order__order",
        family="lot__work_order__product",
    ).aggregate(n=Count("pk"), rejected=Count("pk", filter=Q(result__in=["fail", "rework"])))

    def rates(row: dict) -> tuple[float | None, float | None, Any]:
        total = (row["good"] or 0) + (row["scrap"] or 0) + (row["rework"] or 0)
        return _percent(row["rework"] or 0, total), _percent(row["scrap"] or 0, total), total

    rework_rate, scrap_rate, reported = rates(totals)
    rows = []
    for week in weeks_of(filters):
        row = weekly.get(week) or {"good": 0, "scrap": 0, "rework": 0}
        rework_w, scrap_w, total_w = rates(row)
        rows.append([week, total_w, rework_w, scrap_w])
    return Section(
        key="quality",
        title=_("Rework and scrap"),
        definition=_(
            "From the progress the MES reported in the period: rework rate = reworked quantity / (good + "
            "scrap + rework); scrap rate = scrapped quantity / the same total. Inspection rejection rate: "
            "inspections in the period that failed or sent the lot to rework, over all inspections."
        ),
        figures=[
            Figure(_("Quantity reported"), float(reported or 0)),
            Figure(_("Rework rate"), rework_rate, "%"),
            Figure(_("Scrap rate"), scrap_rate, "%"),
            Figure(_("Inspection rejection rate"), _percent(inspections["rejected"], inspections["n"]), "%"),
        ],
        charts=[
            Chart(
                _("Rework and scrap rate per week"),
                "line",
                [
                    Series(_("Rework rate"), [(r[0], r[2]) for r in rows]),
                    Series(_("Scrap rate"), [(r[0], r[3]) for r in rows]),
                ],
                "%",
            )
        ],
        tables=[
            Table(
                "quality_weekly",
                _("Rework and scrap per week"),
                [_("Week"), _("Quantity reported"), _("Rework rate (%)"), _("Scrap rate (%)")],
                rows,
            )
        ],
    )


# --- customer satisfaction -----------------------------------------------------------------------------
def satisfaction(filters: KpiFilters) -> Section:
    section = Section(
        key="satisfaction",
        title=_("Customer satisfaction"),
        definition=_(
            "Ratings (1 to 5) customers gave their delivered orders in the period: the mean score, and the "
            "share of 4 and 5."
        ),
    )
    ratings = filters.orders(OrderRating.objects.filter(filters.in_period("created_at")), order="order")
    stats = ratings.aggregate(
        n=Count("pk"),
        mean=Avg("score"),
        happy=Count("pk", filter=Q(score__gte=4)),
        **{f"s{score}": Count("pk", filter=Q(score=score)) for score in range(1, 6)},
    )
    weekly = {
        _as_date(row["week"]): row
        for row in ratings.annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("pk"), mean=Avg("score"))
        .order_by("week")
    }
    rows = [
        [week, (weekly.get(week) or {}).get("n", 0), _round((weekly.get(week) or {}).get("mean"), 2)]
        for week in weeks_of(filters)
    ]
    section.figures = [
        Figure(_("Ratings"), stats["n"]),
        Figure(_("Mean score"), _round(stats["mean"], 2), "/ 5"),
        Figure(_("Rated 4 or 5"), _percent(stats["happy"], stats["n"]), "%"),
    ]
    section.charts = [
        Chart(
            _("Mean score per week"), "line", [Series(_("Mean score"), [(r[0], r[2]) for r in rows])], "/ 5"
        ),
        Chart(
            _("Ratings by score"),
            "bar",
            [Series(_("Ratings"), [(str(score), stats[f"s{score}"]) for score in range(1, 6)])],
        ),
    ]
    section.tables = [
        Table(
            "satisfaction_weekly",
            _("Customer satisfaction per week"),
            [_("Week"), _("Ratings"), _("Mean score")],
            rows,
        )
    ]
    return section


# --- load versus capacity ------------------------------------------------------------------------------
def load(filters: KpiFilters) -> Section:
    from production.work_orders.selectors import current_schedule, work_center_load

    section = Section(
        key="load",
        title=_("Load versus capacity"),
        definition=_(
            "For the coming weeks of the current plan: minutes planned on each work center over its working "
            "minutes (shifts minus closures, times its parallel units). Capacity is shared by every order, "
            "so this section ignores the customer, tier and family filters."
        ),
    )
    schedule = current_schedule()
    if schedule is None:
        section.unavailable = _("No plan yet: release orders or reschedule on the planner page.")
        return section
    rows = work_center_load(schedule=schedule, weeks=6)
    table = []
    by_center: dict[str, list] = defaultdict(list)
    for row in rows:
        utilisation = _round(row["utilisation"] * 100) if row["utilisation"] is not None else None
        week = _as_date(row["week_start"])
        table.append(
            [
                row["work_center"].code,
                week,
                round(row["planned_minutes"] / 60, 1),
                round(row["capacity_minutes"] / 60, 1),
                utilisation,
            ]
        )
        by_center[row["work_center"].code].append((week, utilisation))
    overloaded = sum(1 for r in table if r[4] is not None and r[4] > 100)
    section.figures = [
        Figure(_("Plan version"), schedule.version),
        Figure(_("Work-center weeks over capacity"), overloaded),
        Figure(_("Highest utilisation"), max((r[4] for r in table if r[4] is not None), default=None), "%"),
    ]
    section.charts = [
        Chart(
            _("Utilisation per work center and week"),
            "line",
            [Series(code, pts) for code, pts in by_center.items()],
            "%",
        )
    ]
    section.tables = [
        Table(
            "load_weekly",
            _("Load versus capacity per work center and week"),
            [_("Work center"), _("Week"), _("Planned (hours)"), _("Capacity (hours)"), _("Utilisation (%)")],
            table,
        )
    ]
    return section


# --- analysis ------------------------------------------------------------------------------------------
LEAD_TIME_BUCKETS = ((0, 7), (8, 14), (15, 21), (22, 28), (29, 42), (43, 56), (57, None))


def analysis(filters: KpiFilters) -> Section:
    entered = filters.orders(SalesOrder.objects.filter(filters.in_period("created_at")))
    # Grouped by the customer id alone (an index-only scan of order_created_kpi_idx); the names of the
    # few hundred customers are read afterwards instead of joined into every order row.
    per_customer = dict(entered.order_by().values_list("customer_id").annotate(orders=Count("pk")))
    changes = dict(
        filters.orders(ChangeRequest.objects.filter(filters.in_period("submitted_at")), order="order")
        .order_by()
        .values_list("order__customer_id")
        .annotate(n=Count("pk"))
    )
    entered_count = sum(per_customer.values())
    customer_rows = []
    for customer in Customer.objects.filter(pk__in=list(per_customer)).values("pk", "code", "name", "tier"):
        orders = per_customer[customer["pk"]]
        n_changes = changes.get(customer["pk"], 0)
        customer_rows.append(
            [
                customer["code"],
                customer["name"],
                str(CustomerTier(customer["tier"]).label),
                orders,
                n_changes,
                _round(_ratio(n_changes, orders), 2),
            ]
        )
    # Who changes most first, then who orders most, then by code.
    customer_rows.sort(key=lambda r: (-r[4], -r[3], r[0]))
    customer_rows = customer_rows[:25]

    shipped = _shipped(filters)
    lead_p = percentiles(shipped, SecondsBetween(F("shipped_at"), F("created_at")), (0.5, 0.9))

    # One scan of the shipped orders gives both the lead-time histogram (orders per whole day of lead
    # time, at most a few hundred groups, bucketed below) and the causes of the late ones: a production
    # exception on one of its work orders first, then a change request, else capacity/planning. One
    # cause per order, so the counts add up to the late orders.
    # Uncorrelated IN (subquery): PostgreSQL reads each small table once into a hash, where a correlated
    # EXISTS inside CASE would be re-run per order (and its cost estimate would switch on the JIT).
    cause = Case(
        When(days_late__lte=0, then=Value("")),
        When(pk__in=ProductionException.objects.values("work_order__order_id"), then=Value("exception")),
        When(pk__in=ChangeRequest.objects.values("order_id"), then=Value("change")),
        default=Value("capacity"),
    )
    histogram = (
        shipped.annotate(lead=DaysBetween(TruncDate("shipped_at"), TruncDate("created_at")), cause=cause)
        .order_by()
        .values_list("lead", "cause")
        .annotate(n=Count("pk"))
    )
    buckets = [0] * len(LEAD_TIME_BUCKETS)
    causes: dict[str, int] = defaultdict(int)
    for days, why, n in histogram:
        causes[why] += n
        for i, (low, high) in enumerate(LEAD_TIME_BUCKETS):
            if days is not None and low <= days and (high is None or days <= high):
                buckets[i] += n
                break
    bucket_rows = [
        [f"{low}-{high}" if high is not None else f"≥ {low}", buckets[i]]
        for i, (low, high) in enumerate(LEAD_TIME_BUCKETS)
    ]
    labels = {
        "exception": _("Production exception"),
        "change": _("Change request"),
        "capacity": _("Capacity or planning (no exception, no change)"),
    }
    cause_rows = [[str(labels[key]), causes.get(key, 0)] for key in ("exception", "change", "capacity")]
    return Section(
        key="analysis",
        title=_("Analysis"),
        definition=_(
            "Orders entered and change requests submitted in the period per customer (who changes most); "
            "lead time (entered → shipped, days) of orders shipped in the period; causes of the orders "
            "shipped late: a production exception on their work orders, else a change request, else "
            "capacity or planning."
        ),
        figures=[
            Figure(_("Orders entered"), entered_count),
            Figure(_("Median lead time"), _round(_div(lead_p[0.5], DAY), 1), _("days")),
            Figure(_("90th percentile lead time"), _round(_div(lead_p[0.9], DAY), 1), _("days")),
        ],
        charts=[
            Chart(
                _("Lead-time distribution (days)"),
                "bar",
                [Series(_("Orders"), [(r[0], r[1]) for r in bucket_rows])],
            ),
            Chart(
                _("Causes of late orders"), "bar", [Series(_("Orders"), [(r[0], r[1]) for r in cause_rows])]
            ),
        ],
        tables=[
            Table(
                "orders_per_customer",
                _("Orders and changes per customer"),
                [
                    _("Customer code"),
                    _("Customer"),
                    _("Tier"),
                    _("Orders"),
                    _("Change requests"),
                    _("Changes per order"),
                ],
                customer_rows,
            ),
            Table(
                "lead_time_distribution", _("Lead-time distribution"), [_("Days"), _("Orders")], bucket_rows
            ),
            Table("late_causes", _("Causes of late orders"), [_("Cause"), _("Orders")], cause_rows),
        ],
    )


register(SectionProvider("flow_time", flow_time, order=10))
register(SectionProvider("change_response", change_response, order=20))
register(SectionProvider("on_time", on_time, order=30))
register(SectionProvider("quality", quality, order=40))
register(SectionProvider("satisfaction", satisfaction, order=50))
register(SectionProvider("load", load, order=70))
register(SectionProvider("analysis", analysis, order=80))


# --- the dashboard -------------------------------------------------------------------------------------
def dashboard(filters: KpiFilters, *, use_cache: bool = True) -> list[Section]:
    """Every registered section for these filters, cached briefly in the shared cache.

    Figures change slowly and a dashboard is opened by many people at once: KPI_CACHE_SECONDS (60 by
    default) keeps the same filters from re-running every aggregate. 0 turns the cache off.
    """
    seconds = getattr(settings, "KPI_CACHE_SECONDS", 60)
    key = f"kpi:dashboard:{translation.get_language()}:{filters.cache_key()}"
    if use_cache and seconds:
        cached = cache.get(key)
        if cached is not None:
            return cached
    sections = [provider.build(filters) for provider in providers()]
    if use_cache and seconds:
        cache.set(key, sections, seconds)
    return sections


def table_by_key(filters: KpiFilters, key: str) -> Table | None:
    for section in dashboard(filters):
        for table in section.tables:
            if table.key == key:
                return table
    return None
