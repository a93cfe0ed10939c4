"""The plan in the database: build the problem from work orders and master data, run an engine, store a
versioned Schedule and each order's projection, and publish the orders a new plan puts at risk and those
whose projection it moves.

Which run may make its plan current, and when, is production.scheduling.runs'; when to ask for one is
production.replanning's.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import ValidationFailed, publish, publish_many
from config.kernel.events import OrderAtRisk, ProjectionChanged
from orders import sales as order_services
from orders.models import OrderStatus, SalesOrder
from production.master_data import CalendarException, WorkCenter
from production.replanning import plan_objective
from production.scheduling.calendar import HorizonExceeded, build_calendar
from production.scheduling.engines import solve
from production.scheduling.models import (
    OperationPin,
    OrderProjection,
    Schedule,
    ScheduleEntry,
    why_message,
    why_text,
)
from production.scheduling.pins import book_pin
from production.scheduling.problem import (
    Job,
    Op,
    Plan,
    Problem,
    ProblemError,
    WorkCenterSpec,
    job_weight,
    on_time_rate,
)
from production.supply_planning import release_minutes
from production.work_orders import (
    ExceptionKind,
    OperationStatus,
    ProductionException,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

HORIZONS_DAYS = (120, 400, 1100)
# The engines' ProblemError codes in the user's language; the subject names the thing to fix.
PROBLEM_MESSAGES = {
    "no_capacity": gettext_lazy(
        "Work center %(subject)s has no working time in the planning horizon: give it shifts, "
        "or move its operations to another work center."
    ),
    "no_operations": gettext_lazy("Work order %(subject)s has no operations to plan."),
    "unknown_work_center": gettext_lazy("Work center %(subject)s is not active: reactivate it or reroute."),
    "no_duration": gettext_lazy("Operation %(subject)s has no duration: give it a setup or run time."),
}
PLANNED_ORDER_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION)


# --- building the problem ------------------------------------------------------------------------------
def _end_of_day(date: dt.date) -> dt.datetime:
    """Promised dates are kept when done by the end of that day in the plant's time zone."""
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0), tzinfo=zone)


def promise_due(date: dt.date, time: dt.time | None) -> dt.datetime:
    """When a promise is due: at its time of day (minute precision, the plant's time zone) when the
    customer was given one, else by the end of that day."""
    if time is None:
        return _end_of_day(date)
    zone = timezone.get_default_timezone()
    return dt.datetime.combine(date, time.replace(second=0, microsecond=0), tzinfo=zone)


def _minutes(moment: dt.datetime, origin: dt.datetime) -> int:
    return math.floor((moment - origin).total_seconds() / 60)


class Built:
    """A problem plus what is needed to turn its plan back into rows."""

    def __init__(self, problem: Problem, origin: dt.datetime) -> None:
        self.problem = problem
        self.origin = origin
        self.job_orders: dict[int, int] = {}  # work order id → order id
        self.order_due: dict[int, dt.datetime | None] = {}
        self.order_promised: dict[int, dt.date | None] = {}  # the promised date itself
        self.order_weight: dict[int, int] = {}
        self.unplanned: dict[int, dict] = {}  # order id → why it has work not in the plan (see why_text)

    def at(self, minutes: int) -> dt.datetime:
        return self.origin + dt.timedelta(minutes=minutes)


def build_problem(*, now: dt.datetime | None = None, days: int = HORIZONS_DAYS[0]) -> Built:
    origin = (now or timezone.now()).replace(second=0, microsecond=0)
    tz = settings.TIME_ZONE
    open_exceptions = list(ProductionException.objects.filter(resolved_at__isnull=True))
    centers = list(WorkCenter.objects.filter(is_active=True).prefetch_related("shifts"))
    plant_exceptions = [
        exception_rows(q) for q in calendar_exceptions(origin, days) if q.work_center_id is None
    ]
    by_center: dict[int, list] = {}
    for row in calendar_exceptions(origin, days):
        if row.work_center_id is not None:
            by_center.setdefault(row.work_center_id, []).append(exception_rows(row))
    specs: dict[int, WorkCenterSpec] = {}
    efficiency: dict[int, float] = {}
    for center in centers:
        blocked = [
            (
                _minutes(exc.raised_at, origin),
                _minutes(exc.raised_at, origin) + exc.expected_delay_minutes,
            )
            for exc in open_exceptions
            if exc.work_center_id == center.pk
            and exc.kind == ExceptionKind.MACHINE_BREAKDOWN
            and exc.expected_delay_minutes
            and center.units == 1
        ]
        calendar = build_calendar(
            origin=origin,
            days=days,
            tz=tz,
            shifts=[(s.weekday, s.start, s.end) for s in center.shifts.all()],
            exceptions=plant_exceptions + by_center.get(center.pk, []),
            blocked=blocked,
        )
        specs[center.pk] = WorkCenterSpec(
            key=center.pk, units=center.units, calendar=calendar, label=center.code
        )
        efficiency[center.pk] = float(center.efficiency)

    work_orders = list(
        WorkOrder.objects.filter(order__status__in=PLANNED_ORDER_STATUSES)
        .exclude(status__in=[WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED])
        .select_related("order__customer", "product")
        .order_by("pk")
    )
    operations: dict[int, list[WorkOrderOperation]] = {}
    for op in (
        WorkOrderOperation.objects.filter(work_order__in=[wo.pk for wo in work_orders])
        .exclude(status=OperationStatus.COMPLETED)
        .order_by("work_order_id", "sequence")
    ):
        operations.setdefault(op.work_order_id, []).append(op)
    delays: dict[int, int] = {}
    for exc in open_exceptions:
        if exc.work_order_id and exc.expected_delay_minutes:
            release = _minutes(exc.raised_at, origin) + exc.expected_delay_minutes
            delays[exc.work_order_id] = max(delays.get(exc.work_order_id, 0), release)
    # Material: a work order starts no earlier than all its material is there (production.supply_planning).
    for work_order_id, release in release_minutes(origin=origin, now=now or timezone.now()).items():
        delays[work_order_id] = max(delays.get(work_order_id, 0), release)

    # Active pins are few (a planner's exceptions); those of operations not planned here are ignored.
    pins = {pin.operation_id: pin for pin in OperationPin.objects.filter(unpinned_at__isnull=True)}
    built = Built(
        Problem(work_centers=specs, jobs=[], horizon=days * 1440, objective=plan_objective()),
        origin,
    )
    pinned_slots: dict[tuple[Any, int], list[tuple[int, int]]] = {}
    # Orders new to the plan come with a fresh promise (quoted against the current plan): they are firm,
    # and the engines keep them before optimising the rest (Job.firm). Before the first plan, none is.
    planned_orders = set(
        OrderProjection.objects.filter(schedule__is_current=True).values_list("order_id", flat=True)
    )
    has_plan = bool(planned_orders) or Schedule.objects.filter(is_current=True).exists()
    for wo in work_orders:
        order = wo.order
        if order.start_not_before is not None:
            # The user's release time (material ready, drawing approved): no operation starts before it.
            not_before = math.ceil((order.start_not_before - origin).total_seconds() / 60)
            delays[wo.pk] = max(delays.get(wo.pk, 0), not_before)
        built.order_due[order.pk] = (
            promise_due(order.promised_date, order.promised_time) if order.promised_date else None
        )
        built.order_promised[order.pk] = order.promised_date
        weight = job_weight(order.customer.tier, order.priority)
        built.order_weight[order.pk] = weight
        if wo.routing_missing:
            built.unplanned[order.pk] = {"kind": "no_routing", "sku": wo.product.sku}
            continue
        if wo.status == WorkOrderStatus.ON_HOLD:
            built.unplanned.setdefault(order.pk, {"kind": "on_hold", "work_order": wo.number})
            continue
        remaining = operations.get(wo.pk, [])
        if not remaining:
            continue
        ops = []
        for op in remaining:
            spec = specs.get(op.work_center_id)
            if spec is None:
                raise ValidationFailed(
                    _("Work center %(code)s of work order %(number)s is inactive: reactivate it or reroute.")
                    % {"code": op.work_center.code, "number": wo.number},
                    code="inactive_work_center",
                )
            duration = max(1, math.ceil(op.planned_minutes / efficiency[op.work_center_id]))
            item = Op(key=op.pk, work_center=op.work_center_id, duration=duration)
            if op.status == OperationStatus.STARTED:
                _freeze(item, op, spec, origin)
            elif op.pk in pins:
                book_pin(
                    item, pins[op.pk], spec, start=_minutes(pins[op.pk].start, origin), taken=pinned_slots
                )
            ops.append(item)
        due = built.order_due[order.pk]
        ops = _split_before_pin(
            built, wo.pk, order.pk, ops, weight=weight, release=delays.get(wo.pk, 0), tier=order.customer.tier
        )
        built.problem.jobs.append(
            Job(
                key=wo.pk,
                ops=ops,
                due=_minutes(due, origin) if due else days * 1440,
                weight=weight,
                release=max(0, delays.get(wo.pk, 0)),
                tier=order.customer.tier,
                group=order.pk,
                firm=has_plan and due is not None and order.pk not in planned_orders,
            )
        )
        built.job_orders[wo.pk] = order.pk
    _freeze_window(built, operations, origin, hours=settings.PRODUCTION_FROZEN_HOURS)
    return built


def _freeze_window(
    built: Built, operations: dict[int, list[WorkOrderOperation]], origin: dt.datetime, *, hours: int
) -> None:
    """The frozen window: pending operations the current plan starts within `hours` from now keep their
    slot (start, end, unit), so the shop floor's next shift is not reshuffled by every event.

    Only a work order's leading operations freeze (each after its predecessor's frozen end and its own
    release), and never on a unit another frozen operation holds at that time: whatever cannot keep its
    slot without breaking precedence or capacity is planned afresh, with everything after it.
    """
    if hours <= 0:
        return
    limit = hours * 60
    rows = {op.pk: op for ops in operations.values() for op in ops}
    busy: dict[tuple[Any, int], list[tuple[int, int]]] = {}
    for job in built.problem.jobs:
        for item in job.ops:
            if item.frozen:
                busy.setdefault((item.work_center, item.frozen_unit or 0), []).append(
                    (item.frozen_start or 0, item.frozen_end or 0)
                )
    for job in built.problem.jobs:
        ready = job.release
        for item in job.ops:
            if item.frozen:
                ready = max(ready, item.frozen_end or 0)
                continue
            row = rows[item.key]
            if row.scheduled_start is None or row.scheduled_end is None or row.scheduled_unit is None:
                break
            start, end = _minutes(row.scheduled_start, origin), _minutes(row.scheduled_end, origin)
            unit = row.scheduled_unit
            spec = built.problem.work_centers[item.work_center]
            if not (0 <= start < limit) or start < ready or end <= start or unit >= spec.units:
                break
            slots = busy.setdefault((item.work_center, unit), [])
            if any(start < other_end and other_start < end for other_start, other_end in slots):
                break
            item.frozen_start, item.frozen_end, item.frozen_unit = start, end, unit
            slots.append((start, end))
            ready = end


def _split_before_pin(
    built: Built,
    work_order_id: int,
    order_id: int,
    ops: list[Op],
    *,
    weight: int,
    release: int,
    tier: str,
) -> list[Op]:
    """The engines start a job's free operations after its fixed ones; a pinned operation in the middle of
    a routing would put its predecessors after it. Its free predecessors become a job of their own, due
    when the pin starts (keyed by the negative work order id), and the work order keeps the pinned
    operation and what follows. Returns the work order's operations. (The due date is a wish, not a
    constraint: an engine may still finish a predecessor after the pin starts; the page then says so.)"""
    first_pin = next(
        (index for index, op in enumerate(ops) if op.frozen and index > 0 and not ops[index - 1].frozen),
        None,
    )
    if first_pin is None:
        return ops
    before, after = ops[:first_pin], ops[first_pin:]
    built.problem.jobs.append(
        Job(
            key=-work_order_id,
            ops=before,
            due=after[0].frozen_start or 0,
            weight=weight,
            release=max(0, release),
            tier=tier,
            group=order_id,
        )
    )
    built.job_orders[-work_order_id] = order_id
    return after


def calendar_exceptions(origin: dt.datetime, days: int) -> list[CalendarException]:
    """The calendar exceptions that may touch `days` from `origin` (a day of margin either side)."""
    first = origin.date() - dt.timedelta(days=1)
    return list(
        CalendarException.objects.filter(date__gte=first, date__lte=first + dt.timedelta(days=days + 2))
    )


def exception_rows(row: CalendarException) -> tuple:
    """A calendar exception as build_calendar takes it."""
    return (row.date, row.start, row.end, row.is_working)


def _freeze(item: Op, op: WorkOrderOperation, spec: WorkCenterSpec, origin: dt.datetime) -> None:
    """A started operation stays where it runs: its start, its unit; it ends as planned or, if it overran,
    after the work its reported quantity says is left."""
    start = op.actual_start or op.scheduled_start or origin
    item.frozen_start = _minutes(start, origin)
    item.frozen_unit = op.scheduled_unit or 0
    planned_end = _minutes(op.scheduled_end, origin) if op.scheduled_end else None
    if planned_end is not None and planned_end > 0:
        item.frozen_end = planned_end
        return
    quantity = op.work_order.quantity or 1
    left = max(0.0, 1.0 - float(op.good_quantity / quantity))
    cal = spec.calendar
    item.frozen_end = cal.add_working(cal.next_working(0), max(1, math.ceil(item.duration * left)))


# --- solving and storing (when and under which lock: production.scheduling.runs) -------------------------
def solve_current(*, method: str, time_limit: float, now: dt.datetime | None) -> tuple[Built, Plan]:
    """Build the problem from the database and solve it (the smallest horizon that fits). Writes nothing:
    bad input is a ValidationFailed naming what to fix, and the current plan stays in force."""
    for days in HORIZONS_DAYS:
        built = build_problem(now=now, days=days)
        try:
            plan = solve(
                built.problem,
                method=method,
                time_limit=time_limit,
                workers=settings.PRODUCTION_SOLVER_WORKERS,
                local_search=settings.PRODUCTION_FAST_LOCAL_SEARCH,
            )
        except ProblemError as exc:
            message = PROBLEM_MESSAGES.get(exc.code)
            text = str(message) % {"subject": exc.subject} if message else str(exc)
            # Nothing is stored: the current plan stays in force until the input is fixed.
            raise ValidationFailed(text, code=exc.code, fields={"plan": [text]}) from exc
        except HorizonExceeded:
            continue
        return built, plan
    raise ValidationFailed(
        _("The work does not fit in %(days)s days of the work centers' calendars: check their shifts.")
        % {"days": HORIZONS_DAYS[-1]},
        code="no_capacity",
    )


def _english(function, *args):
    # The stored sentence is for the API, events and logs: one language whoever ran the plan.
    with translation.override("en"):
        return function(*args)


def _why(built: Built, plan: Plan, order_id: int, late: bool) -> dict:
    """Why an order is at risk, as data (OrderProjection.why_detail): shown in each reader's language."""
    if order_id in built.unplanned:
        return built.unplanned[order_id]
    if not late:
        return {}
    # The longest wait of the order's operations points at the work center holding it back.
    waits: dict[Any, int] = {}
    for job in built.problem.jobs:
        if built.job_orders.get(job.key) != order_id:
            continue
        ready = job.release
        for op in job.ops:
            placement = plan.placements[op.key]
            waits[op.work_center] = waits.get(op.work_center, 0) + max(0, placement.start - ready)
            ready = placement.end
    if not waits:
        return {"kind": "late"}
    center = max(waits, key=lambda key: waits[key])
    return {
        "kind": "wait",
        "hours": round(waits[center] / 60, 1),
        "work_center": built.problem.work_centers[center].label,
    }


@transaction.atomic
def store_plan(
    built: Built,
    plan: Plan,
    *,
    actor: User | None,
    trigger: str,
    method: str,
    generation: int,
) -> Schedule:
    """Write `plan` as the new current Schedule (its entries, each order's projection, the operations'
    planned times) and publish the orders it newly puts at risk. The caller holds the plan writer's lock
    (production.replanning.plan_writer) and has decided that this plan should be current."""
    problem = built.problem
    version = (Schedule.objects.aggregate(last=Max("version"))["last"] or 0) + 1
    order_end: dict[int, int] = {}
    for job in problem.jobs:
        order_id = built.job_orders[job.key]
        order_end[order_id] = max(order_end.get(order_id, -(10**9)), plan.job_end[job.key])
    late_orders = 0
    projections = []
    for order_id, due in built.order_due.items():
        end_minute = order_end.get(order_id)
        projected = built.at(end_minute) if end_minute is not None else None
        tardiness = max(0, _minutes(projected, due)) if projected and due else 0
        late = tardiness > 0
        at_risk = late or order_id in built.unplanned
        late_orders += int(at_risk)
        why = _why(built, plan, order_id, late)
        projections.append(
            OrderProjection(
                order_id=order_id,
                projected_completion=projected,
                promised_date=built.order_promised.get(order_id) if due else None,
                at_risk=at_risk,
                tardiness_minutes=tardiness,
                weight=built.order_weight.get(order_id, 1),
                why=_english(why_text, why)[:300],
                why_detail=why,
            )
        )
    # The plan being replaced: only a flip to at-risk is news worth an event; a moved projection is
    # announced (ProjectionChanged) for subscribers to judge.
    was_at_risk: set[int] = set()
    previous: dict[int, dt.datetime | None] = {}
    for order_id, was_risky, was_projected in OrderProjection.objects.filter(
        schedule__is_current=True
    ).values_list("order_id", "at_risk", "projected_completion"):
        previous[order_id] = was_projected
        if was_risky:
            was_at_risk.add(order_id)
    Schedule.objects.filter(is_current=True).update(is_current=False)
    schedule = Schedule.objects.create(
        version=version,
        is_current=True,
        trigger=trigger[:200],
        method=method,
        engine=plan.engine[:60],
        created_by=actor if getattr(actor, "pk", None) else None,
        horizon_start=built.origin,
        weighted_tardiness=plan.weighted_tardiness,
        makespan_end=built.at(plan.makespan) if problem.jobs else None,
        # A pin's split (its predecessors, keyed by the negative work order id) is no work order of its own.
        work_orders=sum(1 for key in built.job_orders if key > 0),
        operations=sum(len(job.ops) for job in problem.jobs),
        late_orders=late_orders,
        on_time_rate=(1 - late_orders / len(projections)) if projections else 1.0,
        solve_seconds=round(plan.seconds, 4),
        generation=generation,
        **_fast_baseline(built, plan),
        details={
            **plan.details,
            "objective": problem.objective,
            "late_work_orders": plan.late_jobs,
            "vip_on_time_rate": round(on_time_rate(problem, plan, tier="vip"), 4),
            "unplanned": {str(k): why_text(v) for k, v in built.unplanned.items()},
        },
    )
    for projection in projections:
        projection.schedule = schedule
    OrderProjection.objects.bulk_create(projections, batch_size=500)
    _publish_new_risks([p for p in projections if p.at_risk and p.order_id not in was_at_risk], actor=actor)
    entries = []
    for job in problem.jobs:
        for op in job.ops:
            placement = plan.placements[op.key]
            entries.append(
                ScheduleEntry(
                    schedule=schedule,
                    operation_id=op.key,
                    work_center_id=op.work_center,
                    unit=placement.unit,
                    start=built.at(placement.start),
                    end=built.at(placement.end),
                    frozen=placement.frozen,
                )
            )
    ScheduleEntry.objects.bulk_create(entries, batch_size=1000)
    # Each planned operation takes its times from its entry, in one UPDATE the database does (bulk_update's
    # CASE per row cost seconds of Python at 2,500 operations, most of a fast plan's time). The plan's times
    # are not history of the operation (the Schedule rows are): no history rows here.
    entry = ScheduleEntry.objects.filter(schedule=schedule, operation=OuterRef("pk")).order_by()
    WorkOrderOperation.objects.filter(pk__in=[entry.operation_id for entry in entries]).update(
        scheduled_start=Subquery(entry.values("start")[:1]),
        scheduled_end=Subquery(entry.values("end")[:1]),
        scheduled_unit=Subquery(entry.values("unit")[:1]),
    )
    # Last: subscribers may lock rows of their own (crm_sync's progress feed); nothing of ours after them.
    moved = [p for p in projections if previous.get(p.order_id) != p.projected_completion]
    _publish_moves(moved, previous=previous, actor=actor)
    return schedule


def _publish_moves(
    projections: list[OrderProjection], *, previous: dict[int, dt.datetime | None], actor: User | None
) -> None:
    """Publish ProjectionChanged for each order whose projected completion this plan moved (or set)."""
    if not projections:
        return
    orders = SalesOrder.objects.in_bulk([projection.order_id for projection in projections])
    publish_many(
        [
            ProjectionChanged(
                order=orders[projection.order_id],
                actor=actor,
                reason=projection.why,
                projected_completion=projection.projected_completion,
                previous_projected_completion=previous.get(projection.order_id),
                schedule_version=projection.schedule.version,
            )
            for projection in projections
            if projection.order_id in orders
        ]
    )


def _fast_baseline(built: Built, plan: Plan) -> dict[str, Any]:
    """An optimiser's plan records its seed, the fast engine's plan on the same input: what it gained."""
    if plan.method != "optimised" or "seed_weighted_tardiness" not in plan.details:
        return {}
    seed_makespan = plan.details.get("seed_makespan")
    return {
        "fast_weighted_tardiness": plan.details["seed_weighted_tardiness"],
        "fast_makespan_end": (
            built.at(int(seed_makespan)) if seed_makespan is not None and built.problem.jobs else None
        ),
    }


def _publish_new_risks(projections: list[OrderProjection], *, actor: User | None) -> None:
    """Publish "order.at_risk" for each order this plan newly puts at risk, inside the plan's transaction."""
    if not projections:
        return
    # The orders' row locks, as for any order event: subscribers (the integration's outbox) number an
    # order's events in sequence under that lock.
    orders = (
        SalesOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer", "owner")
        .in_bulk([projection.order_id for projection in projections])
    )
    for projection in projections:
        order = orders.get(projection.order_id)
        if order is None:
            continue
        publish(
            OrderAtRisk(
                order=order,
                actor=actor,
                reason=projection.why,
                reason_message=why.stored() if (why := why_message(projection.why_detail)) else "",
                snapshot=order_services.order_event_payload(order),
                projected_date=(
                    projection.projected_completion.date().isoformat()
                    if projection.projected_completion
                    else None
                ),
                promised_date=order.promised_date.isoformat() if order.promised_date else None,
                tardiness_minutes=projection.tardiness_minutes,
                schedule_version=projection.schedule.version,
            )
        )
