"""Reads of the planner's plan page: the Gantt window as compact data (drawn by static/js/plan.js), the
load of each work center per week as a heat-map grid, a work order's panel (what it waits for), and what
waits for release. A fixed number of queries whatever the size of the plan: the page's cost grows with the
window shown, not with the plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import (
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    QuerySet,
    Value,
)
from django.utils import timezone

from config.kernel import Actor
from config.kernel.names import localized
from orders.models import OrderStatus, SalesOrder
from orders.sales import policies, visible_to
from production.master_data import WorkCenter, work_centers
from production.scheduling.calendar import Calendar, build_calendar
from production.scheduling.models import OperationPin, Schedule, ScheduleEntry
from production.scheduling.service import calendar_exceptions, exception_rows
from production.work_orders import (
    OperationStatus,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
    records_visible_to,
)

ZOOMS = {"day": dt.timedelta(days=2), "week": dt.timedelta(days=14)}
WEEK_MINUTES = 7 * 1440
# Bar flags in the Gantt data (a bit set, read by static/js/plan.js).
FROZEN, AT_RISK, PINNED, HIDDEN = 1, 2, 4, 8
# Colour keys of the bars (static/js/plan.js and the legend's classes in static/css/app.css).
KINDS = ("standard", "key", "vip", "hidden")


class _WholeMinutes(Func):
    """Whole minutes (rounded down) of a duration. PostgreSQL's interval has an epoch; on SQLite (the
    embedded database of `make run`) Django's datetime difference is in microseconds, and FLOOR is not
    always there: the offset keeps CAST's truncation a floor for plans within a million minutes."""

    template = "(FLOOR(EXTRACT(EPOCH FROM %(expressions)s) / 60))::integer"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(CAST((%(expressions)s) / 60000000.0 + 1000000 AS INTEGER) - 1000000)",
            **extra_context,
        )


def minutes_from(field: str, origin: dt.datetime) -> Func:
    """Whole minutes from `origin` to the datetime `field`, computed by the database: at 10,000 entries,
    turning timestamps into time-zone-aware datetimes costs more than the page's arithmetic on them."""
    since = F(field) - Value(origin, output_field=DateTimeField())
    return _WholeMinutes(ExpressionWrapper(since, output_field=DurationField()))


def gantt_window(*, schedule: Schedule, zoom: str, start: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    """The time window shown: `zoom`'s span from midnight of `start` (the plan's start when none)."""
    span = ZOOMS[zoom]
    if start is None:
        begin = schedule.horizon_start
    else:
        begin = timezone.make_aware(dt.datetime.combine(start, dt.time(0)))
    return begin, begin + span


def gantt_data(
    *, schedule: Schedule, begin: dt.datetime, end: dt.datetime, user: Actor, centers: list[WorkCenter]
) -> dict[str, Any]:
    """The Gantt of the window as data for json_script: one row per line (work center unit), one bar per
    entry [row, start, end (minutes from `begin`), work order number, operation name (index into "names"),
    kind (index into "kinds"), flags]. An order the
    user may not see is a grey bar without number or name (the one visibility rule)."""
    rows: list[list[Any]] = []
    row_of: dict[tuple[int, int], int] = {}
    for center in centers:
        if not center.is_active:
            continue
        for unit in range(center.units):
            row_of[(center.pk, unit)] = len(rows)
            rows.append([center.code, unit + 1])
    entries = list(
        schedule.entries.filter(start__lt=end, end__gt=begin)
        .order_by("work_center_id", "unit", "start")
        .annotate(start_minute=minutes_from("start", begin), end_minute=minutes_from("end", begin))
        .values_list(
            "work_center_id",
            "unit",
            "start_minute",
            "end_minute",
            "frozen",
            "operation_id",
            "operation__name",
            "operation__name_zh",
            "operation__work_order__number",
            "operation__work_order__order_id",
            "operation__work_order__order__customer__tier",
        )
    )
    order_ids = {entry[9] for entry in entries}
    at_risk = set(
        schedule.projections.filter(at_risk=True, order_id__in=order_ids).values_list("order_id", flat=True)
    )
    if policies.sees_all_orders(user):
        seen = order_ids
    else:
        seen = set(
            visible_to(SalesOrder.objects.filter(pk__in=order_ids), user=user).values_list("pk", flat=True)
        )
    pinned = set(
        OperationPin.objects.filter(
            unpinned_at__isnull=True, operation_id__in=[entry[5] for entry in entries]
        ).values_list("operation_id", flat=True)
    )
    window = int((end - begin).total_seconds() // 60)
    names: dict[str, int] = {}  # operation names, each sent once (bars carry an index)
    bars = []
    for center_id, unit, start, finish, frozen, op_id, op_name, op_name_zh, number, order_id, tier in entries:
        row = row_of.get((center_id, unit))
        if row is None:
            continue
        flags = FROZEN * frozen | PINNED * (op_id in pinned)
        left, right = max(0, start), min(finish, window)
        if order_id in seen:
            flags |= AT_RISK * (order_id in at_risk)
            name = names.setdefault(localized(op_name, op_name_zh), len(names))
            bars.append([row, left, right, number, name, KINDS.index(tier) if tier in KINDS else 0, flags])
        else:
            bars.append([row, left, right, "", -1, KINDS.index("hidden"), flags | HIDDEN])
    return {
        "start": begin.isoformat(),
        "minutes": window,
        "rows": rows,
        "kinds": KINDS,
        "names": list(names),
        "bars": bars,
    }


@dataclass(frozen=True)
class LoadCell:
    week_start: dt.datetime
    planned_minutes: int
    capacity_minutes: int

    @property
    def percent(self) -> int | None:
        if not self.capacity_minutes:
            return None
        return round(100 * self.planned_minutes / self.capacity_minutes)

    @property
    def heat(self) -> str:
        """The cell's colour class (static/css/app.css): cool under 50 %, hot over 95 %, over-booked."""
        percent = self.percent
        if percent is None:
            return "ob-heat-none"
        for limit, name in ((50, "0"), (80, "1"), (95, "2"), (100, "3")):
            if percent < limit:
                return f"ob-heat-{name}"
        return "ob-heat-4"


def load_grid(*, schedule: Schedule, centers: list[WorkCenter], weeks: int = 6) -> list[dict[str, Any]]:
    """Planned versus available working minutes per work center and week, as rows of a heat map.

    As work_center_load, but in one pass: one calendar-exception query for all work centers, only the
    entries that touch the weeks shown, read as tuples."""
    origin = schedule.horizon_start
    horizon = weeks * WEEK_MINUTES
    exceptions = calendar_exceptions(origin, weeks * 7)
    calendars = {center.pk: _calendar(center, origin, weeks * 7, exceptions) for center in centers}
    load: dict[tuple[int, int], int] = defaultdict(int)
    rows = (
        schedule.entries.filter(start__lt=origin + dt.timedelta(weeks=weeks), end__gt=origin)
        .annotate(start_minute=minutes_from("start", origin), end_minute=minutes_from("end", origin))
        .values_list("work_center_id", "start_minute", "end_minute")
    )
    for center_id, start, end in rows:
        calendar = calendars.get(center_id)
        if calendar is None:
            continue
        begin = max(0, start)
        finish = min(horizon, end)
        week = begin // WEEK_MINUTES
        while begin < finish:
            cut = min(finish, (week + 1) * WEEK_MINUTES)
            load[(center_id, week)] += calendar.working_between(begin, cut)
            begin, week = cut, week + 1
    grid = []
    for center in centers:
        calendar = calendars[center.pk]
        cells = [
            LoadCell(
                week_start=origin + dt.timedelta(weeks=week),
                planned_minutes=load[(center.pk, week)],
                capacity_minutes=calendar.working_between(week * WEEK_MINUTES, (week + 1) * WEEK_MINUTES)
                * center.units,
            )
            for week in range(weeks)
        ]
        grid.append({"work_center": center, "cells": cells})
    return grid


def _calendar(center: WorkCenter, origin: dt.datetime, days: int, exceptions: list) -> Calendar:
    return build_calendar(
        origin=origin,
        days=days,
        tz=settings.TIME_ZONE,
        shifts=[(s.weekday, s.start, s.end) for s in center.shifts.all()],
        exceptions=[exception_rows(row) for row in exceptions if row.work_center_id in (None, center.pk)],
    )


def plan_centers() -> list[WorkCenter]:
    """Work centers with their shifts, in code order (the Gantt's rows and the heat map's)."""
    return list(work_centers())


# --- waiting for release -------------------------------------------------------------------------------
def orders_waiting_for_release(*, user: Actor, limit: int = 100) -> QuerySet[SalesOrder]:
    """Confirmed orders (the next step is their release to production), soonest promise first."""
    queryset = SalesOrder.objects.filter(status=OrderStatus.CONFIRMED).select_related("customer")
    return visible_to(queryset, user=user).order_by("promised_date", "number")[:limit]


def work_orders_waiting_for_release(*, user: Actor, limit: int = 100) -> QuerySet[WorkOrder]:
    """Planned work orders of released orders (the next step is their release to the MES), soonest
    promise first."""
    queryset = (
        WorkOrder.objects.filter(status=WorkOrderStatus.PLANNED, order__status=OrderStatus.RELEASED)
        .select_related("order__customer", "product")
        .order_by("order__promised_date", "number")
    )
    return records_visible_to(queryset, user=user)[:limit]


# --- a work order's panel ------------------------------------------------------------------------------
def work_order_panel(*, work_order: WorkOrder, schedule: Schedule | None) -> dict[str, Any]:
    """A work order's operations as planned, with what each waits for: its predecessor, a pin, the frozen
    window, a hold (reasons as codes the template words in the reader's language)."""
    operations = list(
        WorkOrderOperation.objects.filter(work_order=work_order)
        .select_related("work_center")
        .order_by("sequence")
    )
    entries: dict[int, ScheduleEntry] = {}
    if schedule is not None:
        entries = {
            entry.operation_id: entry
            for entry in ScheduleEntry.objects.filter(schedule=schedule, operation__in=operations)
        }
    pins = {
        pin.operation_id: pin
        for pin in OperationPin.objects.filter(
            operation__in=operations, unpinned_at__isnull=True
        ).select_related("pinned_by")
    }
    history = list(
        OperationPin.objects.filter(operation__in=operations)
        .select_related("pinned_by", "unpinned_by", "operation")
        .order_by("-pinned_at")[:10]
    )
    rows = []
    previous: dict[str, Any] | None = None
    for op in operations:
        entry = entries.get(op.pk)
        pin = pins.get(op.pk)
        waits: list[dict[str, Any]] = []
        if work_order.status == WorkOrderStatus.ON_HOLD:
            waits.append({"kind": "hold"})
        if previous is not None and previous["op"].status != OperationStatus.COMPLETED and entry is not None:
            waits.append(
                {
                    "kind": "predecessor",
                    "sequence": previous["op"].sequence,
                    "until": previous["entry"].end if previous["entry"] is not None else None,
                    "late": previous["entry"] is not None and previous["entry"].end > entry.start,
                }
            )
        if pin is not None:
            # A pin the scheduler took is a fixed (frozen) entry on the pinned line from the pinned time on.
            honoured = (
                entry is not None and entry.frozen and entry.unit == pin.unit and entry.start >= pin.start
            )
            waits.append({"kind": "pin", "pin": pin, "honoured": honoured})
        elif entry is not None and entry.frozen and op.status == OperationStatus.PENDING:
            waits.append({"kind": "frozen"})
        lines = list(range(1, op.work_center.units + 1))
        row = {"op": op, "entry": entry, "pin": pin, "waits": waits, "lines": lines}
        rows.append(row)
        previous = row
    return {"work_order": work_order, "operations": rows, "pin_history": history}
