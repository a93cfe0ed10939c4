"""Reads of the plan: the current schedule, order projections, work-center load, and the delivery-date
quote against the current plan (capable-to-promise; it writes nothing)."""

from __future__ import annotations

import datetime as dt
import math
import threading
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import Actor, ValidationFailed, require
from orders.catalog import spec_value_errors
from orders.models import Customer, Product, SalesOrder
from orders.sales import policies, visible_to
from production.master_data import Operation, WorkCenter, planned_minutes, work_centers
from production.policies import QUOTE_PROMISE
from production.scheduling.calendar import Calendar, HorizonExceeded, build_calendar
from production.scheduling.models import OrderProjection, Schedule, ScheduleEntry
from production.scheduling.plan_page import load_grid
from production.scheduling.problem import job_weight
from production.scheduling.quote import PlanIndex, QuoteLine, capable_to_promise
from production.scheduling.service import calendar_exceptions, exception_rows, promise_due
from production.supply_planning import (
    HOLD_MATERIAL,
    HoldRequest,
    QuoteMaterialLine,
    binding_constraint,
    material_ready,
)
from production.work_orders import split_quantity

if TYPE_CHECKING:
    from django.contrib.auth.models import User

QUOTE_HORIZON_DAYS = 400


def current_schedule() -> Schedule | None:
    return Schedule.objects.filter(is_current=True).select_related("created_by").first()


def order_projection(*, order: SalesOrder) -> OrderProjection | None:
    return (
        OrderProjection.objects.filter(order=order, schedule__is_current=True)
        .select_related("schedule")
        .first()
    )


def at_risk_orders(*, schedule: Schedule, user: Actor) -> QuerySet[OrderProjection]:
    """The plan's at-risk orders that `user` may see (the one visibility rule of orders)."""
    queryset = schedule.projections.filter(at_risk=True).select_related("order__customer")
    return visible_to(queryset, user=user, through="order").order_by("-weight", "-tardiness_minutes")


def plan_details(*, schedule: Schedule, user: Actor) -> dict[str, Any]:
    """The plan's details as `user` may read them: the orders left out of the plan ("unplanned", by order
    id) only where the user may see the order (the one visibility rule)."""
    details = dict(schedule.details or {})
    unplanned = details.get("unplanned") or {}
    if unplanned and not policies.sees_all_orders(user):
        ids = [int(key) for key in unplanned if str(key).isdigit()]
        seen = {
            str(pk)
            for pk in visible_to(SalesOrder.objects.filter(pk__in=ids), user=user).values_list(
                "pk", flat=True
            )
        }
        details["unplanned"] = {key: why for key, why in unplanned.items() if key in seen}
    return details


def work_center_load(*, schedule: Schedule, weeks: int = 8) -> list[dict]:
    """Planned versus available working minutes per work center per week, from the plan's start.

    An operation counts the working minutes it occupies in each week (not its clock span: one that starts
    on Friday afternoon and ends on Monday morning holds the unit for a few shift hours, not a weekend),
    split across the weeks it spans; capacity is the shift minutes times the parallel units.
    """
    # One pass over the entries and one calendar-exception query (production.scheduling.plan_page).
    rows = []
    for row in load_grid(schedule=schedule, centers=list(work_centers()), weeks=weeks):
        for cell in row["cells"]:
            rows.append(
                {
                    "work_center": row["work_center"],
                    "week_start": cell.week_start,
                    "planned_minutes": cell.planned_minutes,
                    "capacity_minutes": cell.capacity_minutes,
                    "utilisation": (cell.planned_minutes / cell.capacity_minutes)
                    if cell.capacity_minutes
                    else None,
                }
            )
    return rows


def work_center_calendar(center: WorkCenter, origin: dt.datetime, days: int) -> Calendar:
    """The work center's working time from `origin` for `days`: its shifts less the calendar exceptions."""
    rows = [
        exception_rows(row)
        for row in calendar_exceptions(origin, days)
        if row.work_center_id in (None, center.pk)
    ]
    return build_calendar(
        origin=origin,
        days=days,
        tz=settings.TIME_ZONE,
        shifts=[(s.weekday, s.start, s.end) for s in center.shifts.all()],
        exceptions=rows,
    )


# --- delivery-date quote (capable-to-promise) -----------------------------------------------------------
_index_cache: dict[Any, tuple] = {}
_index_lock = threading.Lock()


def plan_index(schedule: Schedule | None) -> tuple[PlanIndex, dt.datetime, dict[int, WorkCenter]]:
    """The current plan as per-unit bookings, cached per plan version (plans are immutable)."""
    # Keyed by id and creation time: an id alone could come back after a rollback (tests, restores).
    key = (schedule.pk, schedule.created_at) if schedule else None
    with _index_lock:
        cached = _index_cache.get(key)
    if cached is not None:
        return cached
    origin = schedule.horizon_start if schedule else timezone.now().replace(second=0, microsecond=0)
    centers = {center.pk: center for center in work_centers().filter(is_active=True)}
    calendars = {
        pk: work_center_calendar(center, origin, QUOTE_HORIZON_DAYS) for pk, center in centers.items()
    }
    bookings = []
    if schedule is not None:
        weights = dict(schedule.projections.values_list("order_id", "weight"))
        rows = ScheduleEntry.objects.filter(schedule=schedule).values_list(
            "work_center_id", "unit", "start", "end", "operation__work_order__order_id"
        )
        for center_id, unit, start, end, order_id in rows:
            bookings.append(
                (
                    center_id,
                    unit,
                    int((start - origin).total_seconds() // 60),
                    int((end - origin).total_seconds() // 60),
                    weights.get(order_id, 1),
                    order_id,
                )
            )
    index = PlanIndex.from_bookings(calendars, {pk: c.units for pk, c in centers.items()}, bookings)
    value = (index, origin, centers)
    if schedule is None:
        return value  # no plan: nothing worth caching, and work centers may change before the first one
    with _index_lock:
        _index_cache.clear()  # only the current plan is worth keeping
        _index_cache[key] = value
    return value


def promise_quote(
    *,
    actor: User | None,
    customer: Customer,
    lines: list[dict],
    priority: int | None = None,
    hold: bool = False,
    start_not_before: dt.datetime | None = None,
) -> dict[str, Any]:
    """The earliest completion of a new order of `lines` ({product, quantity, spec_values}) against the
    current plan and its material (production.supply_planning: each line starts when its material is
    there, the BOM exploded with the line's spec values).

    Honouring priorities, the order may overtake planned work of customers with a lower weight; the
    answer names the orders it would then delay. Without overtaking, the date it would get anyway. The
    answer names the binding constraint (capacity at a work center, or a material until a date). With
    `hold`, the material the lines take is held for the quote until it expires (committed at once).
    `start_not_before`: the user's release time (material ready, drawing approved); no line starts before.
    """
    require(actor, QUOTE_PROMISE, action="promise_quote", target=getattr(customer, "code", "-"))
    if hold:
        require(actor, HOLD_MATERIAL, action="promise_hold", target=getattr(customer, "code", "-"))
    errors: dict[str, list[str]] = {}
    if not lines:
        errors["lines"] = [_("Add at least one line.")]
    products = {
        p.pk: p
        for p in Product.objects.filter(
            pk__in=[line.get("product") for line in lines if isinstance(line.get("product"), int)]
        )
        .select_related("routing", "family")
        # One read of every line's operations (and their work centers, for the inactive-center message),
        # not one per line.
        .prefetch_related(
            Prefetch("routing__operations", queryset=Operation.objects.select_related("work_center"))
        )
    }
    schedule = current_schedule()
    index, origin, centers = plan_index(schedule)
    quote_lines = []
    wanted: list[QuoteMaterialLine] = []
    for number, line in enumerate(lines):
        prefix = f"lines[{number}]."
        product_id = line.get("product")
        product = products.get(product_id) if product_id is not None else None
        try:
            quantity = Decimal(str(line.get("quantity")))
        except Exception:
            quantity = Decimal(0)
        if not quantity.is_finite() or quantity <= 0:
            errors.setdefault(f"{prefix}quantity", []).append(_("The quantity must be greater than zero."))
        if product is None:
            errors.setdefault(f"{prefix}product", []).append(_("Unknown product."))
            continue
        routing = getattr(product, "routing", None)
        operations = list(routing.operations.all()) if routing and routing.is_active else []
        if routing is None or not operations:
            errors.setdefault(f"{prefix}product", []).append(
                _("Product %(sku)s has no routing: the plant cannot plan it yet.") % {"sku": product.sku}
            )
            continue
        missing = [op for op in operations if op.work_center_id not in centers]
        if missing:
            errors.setdefault(f"{prefix}product", []).append(
                _("Work center %(code)s of %(sku)s is inactive.")
                % {"code": missing[0].work_center.code, "sku": product.sku}
            )
            continue
        if errors:
            continue
        spec_values = line.get("spec_values") or {}
        if not isinstance(spec_values, dict):
            errors.setdefault(f"{prefix}spec_values", []).append(_("The spec values must be an object."))
            continue
        # The values given must be valid for the product's family (a quote may leave some out).
        for name, messages in spec_value_errors(product.family.spec_schema or {}, spec_values).items():
            if name in spec_values:
                errors.setdefault(f"{prefix}spec_values.{name}", []).extend(messages)
        if errors:
            continue
        wanted.append(QuoteMaterialLine(product.pk, quantity, spec_values))
        for lot in split_quantity(quantity, routing.lot_size):
            quote_lines.append(
                QuoteLine(
                    key=number,
                    ops=[
                        (
                            op.work_center_id,
                            max(
                                1,
                                math.ceil(
                                    planned_minutes(op, lot) / float(centers[op.work_center_id].efficiency)
                                ),
                            ),
                        )
                        for op in operations
                    ],
                )
            )
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    weight = job_weight(customer.tier, priority or customer.default_priority)
    now = timezone.now()
    earliest = max(0, int((now - origin).total_seconds() // 60))
    reference = f"quote:{customer.code}:{uuid.uuid4().hex[:12]}"
    materials = material_ready(
        lines=wanted, now=now, hold=HoldRequest(actor=actor, reference=reference) if hold else None
    )
    for quote_line in quote_lines:
        ready = materials[quote_line.key].ready
        if start_not_before is not None:
            ready = max(ready, start_not_before)
        quote_line.release = max(0, int((ready - origin).total_seconds() // 60))
    try:
        frozen_until = earliest + settings.PRODUCTION_FROZEN_HOURS * 60  # what the next reschedule keeps
        result = capable_to_promise(
            index, lines=quote_lines, weight=weight, earliest=earliest, frozen_until=frozen_until
        )
        capacity_only = result
        if any(quote_line.release > earliest for quote_line in quote_lines):
            # Capacity alone (the user's release time kept): is it the material that sets the date?
            not_before = (
                max(0, math.ceil((start_not_before - origin).total_seconds() / 60)) if start_not_before else 0
            )
            unreleased = [QuoteLine(key=q.key, ops=q.ops, release=not_before) for q in quote_lines]
            capacity_only = capable_to_promise(
                index, lines=unreleased, weight=weight, earliest=earliest, frozen_until=frozen_until
            )
    except HorizonExceeded as exc:
        raise ValidationFailed(
            _("No capacity for this order within %(days)s days.") % {"days": QUOTE_HORIZON_DAYS},
            code="no_capacity",
        ) from exc

    def at(minutes: int) -> dt.datetime:
        return origin + dt.timedelta(minutes=minutes)

    completion = at(result.completion)
    delayed = []
    not_shown = 0
    extra_twt, pushed_late = 0, []
    if result.delayed:
        projections = {
            p.order_id: p
            for p in OrderProjection.objects.filter(
                schedule=schedule, order_id__in=result.delayed
            ).select_related("order__customer")
        }

        def minute(moment: dt.datetime) -> int:
            return int((moment - origin).total_seconds() // 60)

        extra_twt, pushed = result.cost(
            ends={
                k: minute(p.projected_completion) for k, p in projections.items() if p.projected_completion
            },
            dues={
                k: minute(promise_due(p.order.promised_date, p.order.promised_time))
                for k, p in projections.items()
                if p.order.promised_date
            },
            weights={k: p.weight for k, p in projections.items()},
        )
        pushed_late = [
            projections[k].order.number
            for k in pushed
            if policies.can_view_order(actor, projections[k].order)
        ]
        for order_id, minutes in sorted(result.delayed.items(), key=lambda item: -item[1]):
            projection = projections.get(order_id)
            if projection is None:
                continue
            # Name only the orders the asker may see (the one visibility rule); count the others.
            if not policies.can_view_order(actor, projection.order):
                not_shown += 1
                continue
            delayed.append(
                {
                    "order": projection.order.number,
                    "customer": projection.order.customer.name,
                    "tier": projection.order.customer.tier,
                    "projected_completion": projection.projected_completion,
                    "promised_date": projection.promised_date,
                    "delay_minutes_at_most": minutes,
                }
            )
    return {
        "completion": completion,
        "promise_date": timezone.localtime(completion).date(),
        "completion_without_overtaking": at(result.completion_without_overtaking),
        "weight": weight,
        "overtakes": bool(delayed) or bool(not_shown),
        "delays": delayed,
        "delays_not_shown": not_shown,
        # What overtaking costs the orders it delays: their extra weighted tardiness (weighted minutes,
        # an estimate) and the orders it would push past their promised date.
        "overtaking_cost": extra_twt,
        "pushed_late": pushed_late,
        "lines": [
            {"line": key, "completion": at(minutes)}
            for key, minutes in sorted(result.line_completion.items())
        ],
        "plan_version": schedule.version if schedule else None,
        "binding": binding_constraint(
            completion=result.completion,
            capacity_completion=capacity_only.completion,
            waits=result.waits,
            last_work_center=quote_lines[-1].ops[-1][0] if quote_lines and quote_lines[-1].ops else None,
            work_center_codes={pk: center.code for pk, center in centers.items()},
            materials=materials,
        ),
        "materials": [
            {
                "line": number,
                "ready": material.ready,
                "item": material.item,
                "source": material.source,
                "uncovered": material.uncovered,
            }
            for number, material in enumerate(materials)
        ],
        "hold": {
            "reference": reference,
            "expires_at": now + dt.timedelta(minutes=settings.SUPPLY_QUOTE_HOLD_MINUTES),
        }
        if hold
        else None,
    }
