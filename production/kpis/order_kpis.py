"""The order KPIs: flow time, change response time, on-time delivery, customer satisfaction."""

from __future__ import annotations

from typing import Any

from django.db.models import (
    Avg,
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Coalesce, TruncDate, TruncWeek
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from orders.models import (
    ChangeRequest,
    CustomerTier,
    OrderRating,
    SalesOrder,
)
from production.kpis.aggregates import (
    DAY,
    HOUR,
    DaysBetween,
    SecondsBetween,
    as_date,
    named_percentiles,
    per,
    percent,
    percentiles,
    ratio,
    rounded,
    weekly_aggregates,
    weekly_percentiles,
)
from production.kpis.sections import (
    Chart,
    Figure,
    KpiFilters,
    Section,
    Series,
    Table,
    weeks_of,
)

# --- order flow time -----------------------------------------------------------------------------------
FLOW_SECONDS = SecondsBetween(F("production_started_at"), Coalesce(F("confirmed_at"), F("created_at")))


def flow_time(filters: KpiFilters) -> Section:
    orders = filters.orders(SalesOrder.objects.filter(filters.in_period("production_started_at")))
    p = stats = percentiles(orders, FLOW_SECONDS, (0.5, 0.9), n=Count("pk"), mean=Avg(FLOW_SECONDS))
    weekly = weekly_percentiles(orders, moment="production_started_at", value=FLOW_SECONDS)
    weeks = weeks_of(filters)
    rows: list[list[Any]] = []
    for week in weeks:
        count, median = weekly.get(week, (0, None))
        rows.append([week, count, rounded(median / DAY if median is not None else None, 2)])
    return Section(
        key="flow_time",
        title=_("Order flow time"),
        definition=_(
            "From the order's confirmation (or its entry, if it was never confirmed) to the start of its "
            "production, for orders whose production started in the period."
        ),
        figures=[
            Figure(_("Orders started"), stats["n"]),
            Figure(_("Median"), rounded(per(p[0.5], DAY), 1), _("days")),
            Figure(_("90th percentile"), rounded(per(p[0.9], DAY), 1), _("days")),
            Figure(_("Mean"), rounded(per(stats["mean"], DAY), 1), _("days")),
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
            rounded(per(stats[f"p50_{i}"], HOUR)),
            rounded(per(stats[f"p90_{i}"], HOUR)),
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
                    [(w, rounded(per((weekly_rows.get(w) or {}).get("decided"), HOUR))) for w in weeks],
                ),
                Series(
                    str(CHANGE_STAGES[3][2]),
                    [(w, rounded(per((weekly_rows.get(w) or {}).get("total"), HOUR))) for w in weeks],
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
def shipped_orders(filters: KpiFilters) -> QuerySet:
    return filters.orders(
        SalesOrder.objects.filter(filters.in_period("shipped_at"), promised_date__isnull=False)
    ).annotate(days_late=DaysBetween(TruncDate("shipped_at"), F("promised_date")))


def on_time(filters: KpiFilters) -> Section:
    shipped = shipped_orders(filters)
    late = Q(days_late__gt=0)
    weekly = {
        as_date(row["week"]): row
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
    stats["lateness"] = ratio(stats["days_late"], stats["late"])
    for row in weekly.values():
        row["lateness"] = ratio(row["days_late"] or 0, row["late"])
    rows = []
    for week in weeks_of(filters):
        row = weekly.get(week) or {"n": 0, "on_time": 0, "vip": 0, "vip_on_time": 0, "lateness": None}
        rows.append(
            [
                week,
                row["n"],
                percent(row["on_time"], row["n"]),
                row["vip"],
                percent(row["vip_on_time"], row["vip"]),
                rounded(row["lateness"]),
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
            Figure(_("On-time delivery rate"), percent(stats["on_time"], stats["n"]), "%"),
            Figure(
                _("On-time delivery rate, VIP customers"), percent(stats["vip_on_time"], stats["vip"]), "%"
            ),
            Figure(_("Shipped late"), stats["late"]),
            Figure(_("Average lateness"), rounded(stats["lateness"]), _("days")),
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
        as_date(row["week"]): row
        for row in ratings.annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(n=Count("pk"), mean=Avg("score"))
        .order_by("week")
    }
    rows = [
        [week, (weekly.get(week) or {}).get("n", 0), rounded((weekly.get(week) or {}).get("mean"), 2)]
        for week in weeks_of(filters)
    ]
    section.figures = [
        Figure(_("Ratings"), stats["n"]),
        Figure(_("Mean score"), rounded(stats["mean"], 2), "/ 5"),
        Figure(_("Rated 4 or 5"), percent(stats["happy"], stats["n"]), "%"),
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
