"""The plant KPIs: quality (rework, scrap, inspection rejections) and load versus capacity."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import (
    Count,
    Q,
    Sum,
)
from django.db.models.functions import TruncWeek
from django.utils.translation import gettext as _

from production.kpis.aggregates import (
    as_date,
    percent,
    rounded,
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
from production.scheduling import current_schedule, work_center_load
from production.work_orders import ProgressReport, QualityInspection


# --- quality -------------------------------------------------------------------------------------------
def quality(filters: KpiFilters) -> Section:
    reports = filters.orders(
        ProgressReport.objects.filter(filters.in_period("reported_at")),
        order="operation__work_order__order",
        family="operation__work_order__product",
    )
    weekly = {
        as_date(row["week"]): row
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
        return percent(row["rework"] or 0, total), percent(row["scrap"] or 0, total), total

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
            Figure(_("Inspection rejection rate"), percent(inspections["rejected"], inspections["n"]), "%"),
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


# --- load versus capacity ------------------------------------------------------------------------------
def load(filters: KpiFilters) -> Section:
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
        utilisation = rounded(row["utilisation"] * 100) if row["utilisation"] is not None else None
        week = as_date(row["week_start"])
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
