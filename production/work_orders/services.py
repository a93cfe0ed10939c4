"""Every write to production: master data, work orders, progress, exceptions, lots, inspections.

Functions are keyword-only and run in one transaction; each records the actor and the reason in history.
Work orders follow their order through the order events (production/apps.py subscribes `on_order_event`),
inside the order's own transaction: a failure here rolls the order's change back. Progress drives the
order's transitions through orders.sales.services with the system actor (production/system.py). Anything that
changes what the plan should be asks for a debounced reschedule (production/scheduling_service.py).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from simple_history.utils import bulk_create_with_history

from config.kernel import bus as events
from config.kernel import refused
from config.kernel.errors import Conflict, TransitionNotAllowed, ValidationFailed
from config.kernel.events import OrderEvent, ProductionExceptionRaised
from config.process_cache import VersionedProcessCache
from orders import sales as order_services
from orders.models import OrderStatus, Product, SalesOrder
from orders.sales import transitions
from production.models import (
    CLOSED_STATUSES,
    HOLDABLE_STATUSES,
    CalendarException,
    ExceptionKind,
    InspectionResult,
    Lot,
    Operation,
    OperationStatus,
    ProductionException,
    ProgressReport,
    QualityInspection,
    Routing,
    Severity,
    Shift,
    WorkCenter,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)
from production.scheduling.service import schedule_request
from production.system import system_actor


def _stamp(instance: Any, *, actor: Any, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason


def _require(actor: Any, permission: str, action: str, target: str) -> None:
    if not (actor and actor.is_active and actor.has_perm(permission)):
        raise refused(actor, action, target, f"missing {permission}")


def _decimal(
    value: Any, field: str, errors: dict[str, list[str]], *, minimum: Decimal = Decimal(0)
) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return Decimal(0)
    if not number.is_finite() or number < minimum:
        errors.setdefault(field, []).append(_("Enter a number of at least %(min)s.") % {"min": minimum})
    return number


def _whole(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- work centers and routings -------------------------------------------------------------------------
@transaction.atomic
def work_center_create(
    *,
    actor: Any,
    code: str,
    name: str,
    units: int = 1,
    efficiency: Decimal | str = "1.00",
    shifts: list[tuple[int, dt.time, dt.time]] | None = None,
    reason: str = "",
) -> WorkCenter:
    """A work center with its weekly shifts (weekday 0 = Monday, start, end).

    A shift whose end is at or before its start runs past midnight (00:00-00:00 is the whole day).
    """
    _require(actor, "production.add_workcenter", "work_center_create", code)
    errors: dict[str, list[str]] = {}
    if WorkCenter.objects.filter(code=code).exists():
        errors["code"] = [_("Another work center already has this code.")]
    units = _whole(units)
    if units is None or not 1 <= units <= 50:
        errors["units"] = [_("A work center needs 1 to 50 units.")]
    if not (code or "").strip():
        errors["code"] = [_("This field is required.")]
    efficiency_value = _decimal(efficiency, "efficiency", errors, minimum=Decimal("0.10"))
    cleaned_shifts = _clean_shifts(shifts or [], errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    work_center = WorkCenter(code=code, name=name, units=units, efficiency=efficiency_value)
    reason = reason or _("Work center created")
    _stamp(work_center, actor=actor, reason=reason)
    work_center.save()
    for weekday, start, end in cleaned_shifts:
        shift = Shift(work_center=work_center, weekday=weekday, start=start, end=end)
        _stamp(shift, actor=actor, reason=reason)
        shift.save()
    return work_center


def _clean_shifts(shifts: list[tuple[Any, Any, Any]], errors: dict[str, list[str]]) -> list[tuple]:
    """Weekly shifts as (weekday, start, end); errors named `shifts[i].field`.

    Two shifts of a day that overlap would count the same hours twice, so they are refused; a shift whose
    end is at or before its start runs past midnight and is checked against the next day's first hours.
    """
    cleaned: list[tuple[int, dt.time, dt.time]] = []
    for index, (weekday, start, end) in enumerate(shifts):
        prefix = f"shifts[{index}]."
        day = _whole(weekday)
        if day not in range(7):
            errors.setdefault(f"{prefix}weekday", []).append(_("Use 0 (Monday) to 6 (Sunday)."))
        for field, value in (("start", start), ("end", end)):
            if not isinstance(value, dt.time):
                errors.setdefault(f"{prefix}{field}", []).append(_("Enter a time such as 08:00."))
        if day in range(7) and isinstance(start, dt.time) and isinstance(end, dt.time):
            cleaned.append((day, start, end))
    # Minutes of the week each shift covers, as [from, to) intervals (an overnight shift spills over).
    week = 7 * 24 * 60
    spans = []
    for index, (day, start, end) in enumerate(cleaned):
        begin = day * 1440 + start.hour * 60 + start.minute
        length = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
        spans.append((begin, begin + (length if length > 0 else length + 1440), index))
    for position, (begin, finish, index) in enumerate(spans):
        for other_begin, other_finish, other in spans[position + 1 :]:
            # Compare on the weekly circle: Sunday's night shift runs into Monday morning.
            if any(
                begin < other_finish + shift_by and other_begin + shift_by < finish
                for shift_by in (-week, 0, week)
            ):
                errors.setdefault(f"shifts[{other}].start", []).append(
                    _("This shift overlaps shift %(number)s.") % {"number": index + 1}
                )
    return cleaned


@transaction.atomic
def work_center_set_shifts(
    *, actor: Any, work_center: WorkCenter | int, shifts: list[tuple[Any, Any, Any]], reason: str = ""
) -> WorkCenter:
    """Replace a work center's weekly shifts (weekday, start, end) as a whole.

    Shifts that stay are kept as they are (their history shows no change); the removed ones are deleted
    and the new ones added, each with the actor and the reason; the plan is rescheduled on the new hours.
    """
    pk = work_center.pk if isinstance(work_center, WorkCenter) else work_center
    work_center = WorkCenter.objects.select_for_update().get(pk=pk)
    _require(actor, "production.change_workcenter", "work_center_set_shifts", work_center.code)
    errors: dict[str, list[str]] = {}
    wanted = _clean_shifts(shifts, errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = reason or _("Shifts changed")
    current = {(shift.weekday, shift.start, shift.end): shift for shift in work_center.shifts.all()}
    removed = [shift for key, shift in current.items() if key not in wanted]
    added = [key for key in wanted if key not in current]
    for shift in removed:
        _stamp(shift, actor=actor, reason=reason)
        shift.delete()
    for weekday, start, end in added:
        shift = Shift(work_center=work_center, weekday=weekday, start=start, end=end)
        _stamp(shift, actor=actor, reason=reason)
        shift.save()
    if removed or added:
        schedule_request(trigger=f"shifts {work_center.code}")
    return work_center


@transaction.atomic
def work_center_update(
    *,
    actor: Any,
    work_center: WorkCenter | int,
    reason: str = "",
    name: str | None = None,
    units: int | None = None,
    efficiency: Decimal | str | None = None,
    is_active: bool | None = None,
) -> WorkCenter:
    """Change a work center's name, parallel units, efficiency or activity (None keeps the value).

    Asks for a reschedule: capacity changed. Deactivating a work center that planned operations still use
    is refused, naming how many (reroute them first).
    """
    pk = work_center.pk if isinstance(work_center, WorkCenter) else work_center
    work_center = WorkCenter.objects.select_for_update().get(pk=pk)
    _require(actor, "production.change_workcenter", "work_center_update", work_center.code)
    errors: dict[str, list[str]] = {}
    if name is not None:
        if not str(name).strip():
            errors["name"] = [_("This field is required.")]
        work_center.name = str(name).strip()
    if units is not None:
        units = _whole(units)
        if units is None or not 1 <= units <= 50:
            errors["units"] = [_("A work center needs 1 to 50 units.")]
        else:
            work_center.units = units
    if efficiency is not None:
        work_center.efficiency = _decimal(efficiency, "efficiency", errors, minimum=Decimal("0.10"))
        if work_center.efficiency > 2:
            errors.setdefault("efficiency", []).append(_("Enter a number of at most 2."))
    if is_active is False and work_center.is_active:
        in_use = WorkOrderOperation.objects.filter(
            work_center=work_center,
            status__in=[OperationStatus.PENDING, OperationStatus.STARTED],
            work_order__status__in=[*HOLDABLE_STATUSES, WorkOrderStatus.ON_HOLD],
        ).count()
        if in_use:
            errors["is_active"] = [
                _("%(count)s open operations still use work center %(code)s: reroute them first.")
                % {"count": in_use, "code": work_center.code}
            ]
    if is_active is not None:
        work_center.is_active = bool(is_active)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    _stamp(work_center, actor=actor, reason=reason or _("Work center updated"))
    work_center.save()
    schedule_request(trigger=f"work_center {work_center.code}")
    return work_center


@transaction.atomic
def routing_update(
    *,
    actor: Any,
    routing: Routing | int,
    reason: str = "",
    name: str | None = None,
    lot_size: Decimal | str | None = None,
    clear_lot_size: bool = False,
    is_active: bool | None = None,
) -> Routing:
    """Change a routing's name, lot size (for work orders made from now on) or activity."""
    pk = routing.pk if isinstance(routing, Routing) else routing
    routing = Routing.objects.select_for_update().select_related("product").get(pk=pk)
    _require(actor, "production.change_routing", "routing_update", routing.product.sku)
    errors: dict[str, list[str]] = {}
    if name is not None:
        routing.name = str(name).strip()
    if clear_lot_size:
        routing.lot_size = None
    elif lot_size not in (None, ""):
        routing.lot_size = _decimal(lot_size, "lot_size", errors, minimum=Decimal("0.001"))
    if is_active is not None:
        routing.is_active = bool(is_active)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    _stamp(routing, actor=actor, reason=reason or _("Routing updated"))
    routing.save()
    return routing


@transaction.atomic
def calendar_exception_create(
    *,
    actor: Any,
    date: dt.date,
    work_center: WorkCenter | None = None,
    start: dt.time | None = None,
    end: dt.time | None = None,
    is_working: bool = False,
    description: str = "",
    reason: str = "",
) -> CalendarException:
    """A holiday/closure (is_working=False; whole day without start/end) or an extra shift."""
    _require(actor, "production.add_calendarexception", "calendar_exception_create", str(date))
    if is_working and (start is None or end is None):
        raise ValidationFailed(
            _("An extra shift needs a start and an end."), fields={"start": [_("This field is required.")]}
        )
    exception = CalendarException(
        work_center=work_center,
        date=date,
        start=start,
        end=end,
        is_working=is_working,
        description=description,
    )
    _stamp(exception, actor=actor, reason=reason or _("Calendar exception created"))
    exception.save()
    schedule_request(trigger="calendar")
    return exception


@transaction.atomic
def routing_create(
    *,
    actor: Any,
    product: Product,
    operations: list[dict],
    lot_size: Decimal | str | None = None,
    name: str = "",
    reason: str = "",
) -> Routing:
    """A product's routing; operations are dicts (sequence, name, work_center, setup_minutes,
    run_minutes_per_unit). Work orders that were waiting for a routing of this product get its operations.
    """
    _require(actor, "production.add_routing", "routing_create", product.sku)
    errors: dict[str, list[str]] = {}
    if Routing.objects.filter(product=product).exists():
        errors["product"] = [_("Product %(sku)s already has a routing.") % {"sku": product.sku}]
    if not operations:
        errors["operations"] = [
            _("The routing of %(sku)s has no operations: add at least one.") % {"sku": product.sku}
        ]
    lot = None
    if lot_size not in (None, ""):
        lot = _decimal(lot_size, "lot_size", errors, minimum=Decimal("0.001"))
        if lot <= 0:
            errors.setdefault("lot_size", []).append(_("The lot size must be greater than zero."))
    cleaned = _clean_operations(operations or [], errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = reason or _("Routing created")
    routing = Routing(product=product, name=name or product.name, lot_size=lot)
    _stamp(routing, actor=actor, reason=reason)
    routing.save()
    for data in cleaned:
        operation = Operation(routing=routing, **data)
        _stamp(operation, actor=actor, reason=reason)
        operation.save()
    waiting = WorkOrder.objects.filter(
        product=product, routing_missing=True, status__in=[WorkOrderStatus.PLANNED, WorkOrderStatus.ON_HOLD]
    )
    for work_order in waiting.select_for_update():
        _create_operations(work_order, list(routing.operations.select_related("work_center")), actor, reason)
        work_order.routing_missing = False
        _stamp(work_order, actor=actor, reason=reason)
        work_order.save()
    schedule_request(trigger="routing")
    return routing


def _clean_operations(operations: list[dict], errors: dict[str, list[str]]) -> list[dict]:
    """A routing's steps checked as a whole; errors named `operations[i].field`."""
    seen: set[int] = set()
    cleaned: list[dict] = []
    for index, raw in enumerate(operations or []):
        prefix = f"operations[{index}]."
        try:
            sequence = int(raw.get("sequence", (index + 1) * 10))
        except (TypeError, ValueError):
            sequence = -1
        if sequence < 1 or sequence in seen:
            errors.setdefault(f"{prefix}sequence", []).append(
                _("Sequences must be distinct positive numbers.")
            )
        seen.add(sequence)
        work_center = raw.get("work_center")
        if not isinstance(work_center, WorkCenter):
            work_center = WorkCenter.objects.filter(pk=work_center).first() if work_center else None
        if work_center is None or not work_center.is_active:
            errors.setdefault(f"{prefix}work_center", []).append(_("Choose an active work center."))
        setup = _decimal(raw.get("setup_minutes", 0), f"{prefix}setup_minutes", errors)
        run = _decimal(raw.get("run_minutes_per_unit", 0), f"{prefix}run_minutes_per_unit", errors)
        if setup + run <= 0:
            errors.setdefault(f"{prefix}run_minutes_per_unit", []).append(
                _("An operation needs a setup or a run time.")
            )
        cleaned.append(
            {
                "sequence": sequence,
                "name": raw.get("name") or f"{sequence}",
                "work_center": work_center,
                "setup_minutes": setup,
                "run_minutes_per_unit": run,
            }
        )
    return cleaned


@transaction.atomic
def routing_set_operations(
    *, actor: Any, routing: Routing | int, operations: list[dict], reason: str = ""
) -> Routing:
    """Replace a routing's operations as a whole (dicts as for routing_create).

    Steps are matched by sequence: a changed step is updated, a missing one deleted, a new one added, each
    with the actor and the reason. Like the lot size, the steps apply to work orders made from now on:
    a work order keeps the operations it was made with (the MES may already be working on them).
    """
    pk = routing.pk if isinstance(routing, Routing) else routing
    routing = Routing.objects.select_for_update().select_related("product").get(pk=pk)
    _require(actor, "production.change_routing", "routing_set_operations", routing.product.sku)
    errors: dict[str, list[str]] = {}
    if not operations:
        errors["operations"] = [
            _("The routing of %(sku)s has no operations: add at least one.") % {"sku": routing.product.sku}
        ]
    cleaned = _clean_operations(operations or [], errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = reason or _("Operations changed")
    current = {operation.sequence: operation for operation in routing.operations.all()}
    wanted = {data["sequence"]: data for data in cleaned}
    for sequence, operation in current.items():
        if sequence not in wanted:
            _stamp(operation, actor=actor, reason=reason)
            operation.delete()
    for sequence, data in wanted.items():
        operation = current.get(sequence) or Operation(routing=routing)
        changed = operation.pk is None or any(
            getattr(operation, field) != value for field, value in data.items()
        )
        if changed:
            for field, value in data.items():
                setattr(operation, field, value)
            _stamp(operation, actor=actor, reason=reason)
            operation.save()
    return routing


# --- work orders from orders ---------------------------------------------------------------------------
def split_quantity(quantity: Decimal, lot_size: Decimal | None) -> list[Decimal]:
    """Lots of at most `lot_size`, the remainder last: 250 by 100 → 100, 100, 50."""
    if quantity <= 0:
        raise ValidationFailed(
            _("The quantity must be greater than zero."), fields={"quantity": [str(quantity)]}
        )
    if not lot_size or quantity <= lot_size:
        return [quantity]
    full = int(quantity // lot_size)
    parts = [lot_size] * full
    rest = quantity - lot_size * full
    if rest > 0:
        parts.append(rest)
    return parts


QUANTITY_PLACES = Decimal("0.001")


def planned_minutes(operation: Operation, quantity: Decimal) -> int:
    return max(1, math.ceil(operation.setup_minutes + operation.run_minutes_per_unit * quantity))


def _create_operations(
    work_order: WorkOrder, operations: list[Operation], actor: Any, reason: str
) -> list[WorkOrderOperation]:
    made = [
        WorkOrderOperation(
            work_order=work_order,
            sequence=operation.sequence,
            name=operation.name,
            work_center=operation.work_center,
            planned_minutes=planned_minutes(operation, work_order.quantity),
        )
        for operation in sorted(operations, key=lambda operation: operation.sequence)
    ]
    bulk_create_with_history(made, WorkOrderOperation, default_user=actor, default_change_reason=reason)
    return made


# Every release reads its products' routings, which change rarely: each process keeps them (with their
# operations and work centers) under a shared version that every save or delete of a routing, operation or
# work center replaces (config/process_cache.py); the services that write them in bulk replace it too.
_routings = VersionedProcessCache(key="production:routings:version", max_age_seconds=30.0)
_routings.watch([Routing, Operation, WorkCenter], uid="production_routings")


def _load_routings(product_ids: list[int]) -> dict[int, Routing | None]:
    found: dict[int, Routing | None] = dict.fromkeys(product_ids)
    operations = Prefetch("operations", queryset=Operation.objects.select_related("work_center"))
    for routing in Routing.objects.filter(product__in=product_ids, is_active=True).prefetch_related(
        operations
    ):
        found[routing.product_id] = routing
    return found


def active_routings(*, product_ids: set[int]) -> dict[int, Routing]:
    """The active routings of these products by product id, their operations (with work centers) prefetched.

    Shared per process (read them, never change them); a product without an active routing is missing.
    """
    if not product_ids:
        return {}
    found = _routings.get_many(sorted(product_ids), _load_routings)
    return {product_id: routing for product_id, routing in found.items() if routing is not None}


def work_orders_create_for_order(*, order: SalesOrder, actor: Any, reason: str = "") -> list[WorkOrder]:
    """Make the work orders of a released order: per line, one per lot (the routing's lot size).

    Runs inside the release's transaction. Idempotent per order revision. Decision on a product without
    a routing: the release goes on (the order is the customer's, the routing is the plant's master data),
    the work order is made with `routing_missing` set and no operations, the plan lists it as not
    schedulable and its order at risk, and creating the routing later gives it its operations.
    """
    # One read for both "already made for this revision?" and the next work order number.
    revisions = list(order.work_orders.values_list("order_revision", flat=True))
    if order.revision in revisions:
        return []
    # The lines the release loaded (and locked with the order) when it has them; only ids are needed.
    lines = order_services.current_lines(order)
    routings = active_routings(product_ids={line.product_id for line in lines})
    reason = reason or _("Order %(number)s released") % {"number": order.number}
    sequence = len(revisions)
    created = []
    for line in lines:
        routing = routings.get(line.product_id)
        operations = list(routing.operations.all()) if routing else []
        for quantity in split_quantity(line.quantity, routing.lot_size if routing else None):
            sequence += 1
            work_order = WorkOrder(
                number=f"{order.number}-{sequence:02d}",
                order=order,
                order_line=line,
                order_revision=order.revision,
                product=line.product,  # loaded with the line: what work_orders_made's readers need
                # As the column holds it (3 places), so the handed-on object reads like a fresh one.
                quantity=Decimal(quantity).quantize(QUANTITY_PLACES),
                routing_missing=not operations,
            )
            _stamp(work_order, actor=actor, reason=reason)
            work_order.save()
            work_order.operations_made = _create_operations(work_order, operations, actor, reason)
            created.append(work_order)
    if created:
        order._work_orders_made = (order.revision, created)
    return created


def work_orders_made(order: SalesOrder) -> list[WorkOrder] | None:
    """The work orders that work_orders_create_for_order has just made for the order's current revision, in
    number order, each with its operations in sequence order as `operations_made` (their work centers,
    products and order lines loaded); None if it made none for this order object (then read them).

    Handed on once: the outbox builds the release event's payload from them in the same transaction instead
    of reading back what was just written (two queries per release). The second call returns None.
    """
    made = getattr(order, "_work_orders_made", None)
    if made is None or made[0] != order.revision:
        return None
    del order._work_orders_made
    return made[1]


def _event_actor(event: OrderEvent):
    if event.actor_id is None:
        return None
    if event.actor is not None and event.actor.pk == event.actor_id:
        return event.actor
    return get_user_model().objects.filter(pk=event.actor_id).first()


def on_order_event(event: OrderEvent) -> None:
    """Subscribed in ProductionConfig.ready: work orders follow their order, in its transaction.

    The order's transition was already authorised for its actor; the work orders follow as a consequence,
    so no production permission is asked here, and history records the order's actor and reason.
    """
    if event.type in _FOLLOWED_WITH_THE_CHANGE and (event.data or {}).get("change_request_id"):
        # A hold/resume/cancel made by a change request: its "order.change_applied" already moved the work
        # orders case by case (a cancel holds started work pending its disposition): nothing more to do.
        return
    handler = _ORDER_EVENT_HANDLERS.get(event.type)
    if handler is not None:
        handler(event)


def _on_released(event: OrderEvent) -> None:
    actor = _event_actor(event)
    work_orders_create_for_order(order=event.order, actor=actor, reason=event.reason)
    schedule_request(trigger=f"{event.type} {event.order.number}")


def _follow(
    event: OrderEvent, method: str, sources: tuple[str, ...], label: str, *, keep: set[int] = frozenset()
) -> None:
    actor = _event_actor(event)
    reason = f"{label} {event.order.number}: {event.reason}".strip(": ")
    work_orders = WorkOrder.objects.select_for_update().filter(order=event.order, status__in=sources)
    for work_order in work_orders.exclude(pk__in=keep):
        getattr(work_order, method)()
        _stamp(work_order, actor=actor, reason=reason)
        work_order.save()
    schedule_request(trigger=f"{event.type} {event.order.number}")


def _pending_disposition(work_order_ids: list[int]) -> set[int]:
    from production.work_orders.selectors import (
        work_orders_pending_disposition,  # selectors imports this module
    )

    return work_orders_pending_disposition(work_order_ids=work_order_ids)


def _on_held(event: OrderEvent) -> None:
    _follow(event, "hold", tuple(HOLDABLE_STATUSES), _("Order held"))


def _on_resumed(event: OrderEvent) -> None:
    # Work a change holds pending its disposition stays held: the planner's decision releases it, not this.
    pending = _pending_disposition(list(event.order.work_orders.values_list("pk", flat=True)))
    _follow(event, "resume", (WorkOrderStatus.ON_HOLD,), _("Order resumed"), keep=pending)


def _on_cancelled(event: OrderEvent) -> None:
    sources = (
        WorkOrderStatus.PLANNED,
        WorkOrderStatus.RELEASED,
        WorkOrderStatus.IN_PROGRESS,
        WorkOrderStatus.ON_HOLD,
    )
    _follow(event, "cancel", sources, _("Order cancelled"))


def _on_replan(event: OrderEvent) -> None:
    if event.order.work_orders.exists():
        schedule_request(trigger=f"{event.type} {event.order.number}")


def _on_change_applied(event: OrderEvent) -> None:
    # A change request was applied: work orders follow it case by case (production/changes.py).
    from production.changes import follow_change_request

    follow_change_request(event)


_FOLLOWED_WITH_THE_CHANGE = ("order.held", "order.resumed", "order.cancelled")
_ORDER_EVENT_HANDLERS = {
    "order.released": _on_released,
    "order.held": _on_held,
    "order.resumed": _on_resumed,
    "order.cancelled": _on_cancelled,
    # Priority or promised date may change the plan (e.g. a priority raised with a reason).
    "order.updated": _on_replan,
    "order.priority_changed": _on_replan,
    "order.change_applied": _on_change_applied,
}


# --- work order transitions by users -------------------------------------------------------------------
WORK_ORDER_LABELS = {
    "release": _("release"),
    "hold": _("hold"),
    "resume": _("resume"),
    "cancel": _("cancel"),
}
WORK_ORDER_REASON_REQUIRED = {"hold", "cancel"}


@transaction.atomic
def work_order_transition(
    *, actor: Any, work_order: WorkOrder | int, name: str, reason: str = ""
) -> WorkOrder:
    """release (to the MES) / hold / resume / cancel one work order, checking the actor's permission."""
    if name not in WORK_ORDER_LABELS:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    pk = work_order.pk if isinstance(work_order, WorkOrder) else work_order
    work_order = WorkOrder.objects.select_for_update().select_related("order").get(pk=pk)
    method = getattr(work_order, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            _("Work order %(number)s cannot %(action)s from status %(status)s.")
            % {
                "number": work_order.number,
                "action": WORK_ORDER_LABELS[name],
                "status": work_order.get_status_display(),
            }
        )
    if not method._django_fsm.has_transition_perm(work_order, work_order.status, actor):
        raise refused(actor, f"work_order_{name}", work_order.number, "transition permission")
    if name in WORK_ORDER_REASON_REQUIRED and not (reason or "").strip():
        raise ValidationFailed(_("Give a reason."), fields={"reason": [_("This field is required.")]})
    if name == "release" and work_order.routing_missing:
        raise ValidationFailed(
            _("Work order %(number)s has no routing: create the routing of %(sku)s first.")
            % {"number": work_order.number, "sku": work_order.product.sku},
            code="no_routing",
        )
    if name == "resume" and _pending_disposition([work_order.pk]):
        # Held by a change with made quantity nobody has decided about: resuming would make it for nothing.
        raise Conflict(
            _("Work order %(number)s waits for the decision on what was made: decide its disposition.")
            % {"number": work_order.number},
            code="pending_disposition",
        )
    if name == "resume" and work_order.order.status == OrderStatus.ON_HOLD:
        raise Conflict(
            _("Order %(number)s is on hold: resume the order.") % {"number": work_order.order.number},
            code="order_on_hold",
        )
    method()
    if name == "release":
        work_order.released_at = timezone.now()
    _stamp(work_order, actor=actor, reason=reason or str(WORK_ORDER_LABELS[name]))
    work_order.save()
    schedule_request(trigger=f"work_order.{name} {work_order.number}")
    return work_order


# --- progress ------------------------------------------------------------------------------------------
def _percent(work_order: WorkOrder, operations: list[WorkOrderOperation]) -> Decimal:
    """Operations weigh by their planned minutes; an operation counts its good quantity, 100% once done."""
    total = sum(op.planned_minutes for op in operations)
    if not total:
        return Decimal(0)
    done = Decimal(0)
    for op in operations:
        if op.status == OperationStatus.COMPLETED:
            share = Decimal(1)
        else:
            share = min(Decimal(1), op.good_quantity / work_order.quantity)
        done += share * op.planned_minutes
    return (done * 100 / total).quantize(Decimal("0.01"))


@transaction.atomic
def progress_report_create(
    *,
    actor: Any,
    operation: WorkOrderOperation | int,
    message_id: str,
    good_quantity: Any = 0,
    scrap_quantity: Any = 0,
    rework_quantity: Any = 0,
    operator: str = "",
    reported_at: dt.datetime | None = None,
    operation_finished: bool = False,
    started_at: dt.datetime | None = None,
) -> tuple[ProgressReport, bool]:
    """Record what the MES reports for one operation; returns (report, created).

    `started_at`: when the operation actually began, if the MES says so (a first report often comes only
    when the operation is finished); without it the first report's time is the operation's actual start.

    A repeated `message_id` returns the first report and changes nothing (the MES may resend). Rolls up:
    the operation starts (actual start) and, when finished, completes; the work order starts and completes
    with its last operation; the order goes to in production on its first report and to completed when
    its last work order completes (orders.sales.services with the system actor). A completed operation asks
    for a reschedule.
    """
    existing = ProgressReport.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    pk = operation.pk if isinstance(operation, WorkOrderOperation) else operation
    op = WorkOrderOperation.objects.select_for_update().select_related("work_order").get(pk=pk)
    work_order = WorkOrder.objects.select_for_update().select_related("order").get(pk=op.work_order_id)
    _require(actor, "production.progress_workorder", "progress_report_create", work_order.number)
    errors: dict[str, list[str]] = {}
    good = _decimal(good_quantity, "good_quantity", errors)
    scrap = _decimal(scrap_quantity, "scrap_quantity", errors)
    rework = _decimal(rework_quantity, "rework_quantity", errors)
    if not message_id:
        errors["message_id"] = [_("This field is required.")]
    if not errors and good + scrap + rework == 0 and not operation_finished:
        errors["good_quantity"] = [_("Report a quantity or finish the operation.")]
    reported_at = reported_at or timezone.now()
    if started_at is not None and started_at > reported_at:
        errors["started_at"] = [_("The operation cannot start after the time of the report.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if work_order.status not in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS):
        raise TransitionNotAllowed(
            _("Work order %(number)s is %(status)s: progress cannot be reported.")
            % {"number": work_order.number, "status": work_order.get_status_display()}
        )
    if op.status == OperationStatus.COMPLETED:
        raise Conflict(_("Operation %(name)s is already completed.") % {"name": op.name}, code="completed")
    reason = _("Progress reported (%(message)s)") % {"message": message_id}
    report = ProgressReport(
        message_id=message_id,
        operation=op,
        good_quantity=good,
        scrap_quantity=scrap,
        rework_quantity=rework,
        operator=operator,
        reported_at=reported_at,
        operation_finished=operation_finished,
        created_by=actor,
    )
    _stamp(report, actor=actor, reason=reason)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:
        # The same message arrived twice at once: the other copy won.
        return ProgressReport.objects.get(message_id=message_id), False

    op.good_quantity += good
    op.scrap_quantity += scrap
    op.rework_quantity += rework
    if op.status == OperationStatus.PENDING:
        op.start()
        op.actual_start = started_at or reported_at
    if operation_finished:
        op.complete()
        op.actual_end = reported_at
    _stamp(op, actor=actor, reason=reason)
    op.save()

    operations = list(work_order.operations.order_by("sequence"))
    if work_order.status == WorkOrderStatus.RELEASED:
        work_order.start()
    work_order.percent_complete = _percent(work_order, operations)
    work_order.good_quantity = operations[-1].good_quantity if operations else Decimal(0)
    if operations and all(o.status == OperationStatus.COMPLETED for o in operations):
        work_order.complete()
        work_order.completed_at = reported_at
        work_order.percent_complete = Decimal(100)
    _stamp(work_order, actor=actor, reason=reason)
    work_order.save()
    _roll_up_order(work_order)
    if operation_finished:
        schedule_request(trigger=f"operation.completed {work_order.number}/{op.sequence}")
    return report, True


def _roll_up_order(work_order: WorkOrder) -> None:
    order = work_order.order
    if order.status == OrderStatus.RELEASED:
        order = transitions.order_start_production(
            actor=system_actor(),
            order=order,
            reason=_("Production started (work order %(number)s)") % {"number": work_order.number},
        )
    if work_order.status != WorkOrderStatus.COMPLETED:
        return
    statuses = set(
        WorkOrder.objects.filter(order=order, order_revision=order.revision).values_list("status", flat=True)
    )
    finished = statuses <= set(CLOSED_STATUSES) and WorkOrderStatus.COMPLETED in statuses
    if finished and order.status in (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION):
        transitions.order_complete(actor=system_actor(), order=order, reason=_("All work orders completed"))


# --- exceptions, lots, inspections ---------------------------------------------------------------------
@transaction.atomic
def exception_raise(
    *,
    actor: Any,
    kind: str,
    severity: str = Severity.MEDIUM,
    work_center: WorkCenter | None = None,
    work_order: WorkOrder | None = None,
    description: str = "",
    expected_delay_minutes: int = 0,
    raised_at: dt.datetime | None = None,
) -> ProductionException:
    """Record a production exception; its expected delay counts in the next plan (a reschedule is asked)."""
    _require(actor, "production.add_productionexception", "exception_raise", kind)
    errors: dict[str, list[str]] = {}
    if kind not in ExceptionKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Choose a valid severity.")]
    if work_center is None and work_order is None:
        errors["work_center"] = [_("Name the work center or the work order concerned.")]
    if int(expected_delay_minutes or 0) < 0:
        errors["expected_delay_minutes"] = [_("The delay cannot be negative.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    exception = ProductionException(
        kind=kind,
        severity=severity,
        work_center=work_center,
        work_order=work_order,
        description=description,
        expected_delay_minutes=int(expected_delay_minutes or 0),
        raised_at=raised_at or timezone.now(),
        raised_by=actor,
    )
    _stamp(exception, actor=actor, reason=_("Exception raised"))
    exception.save()
    schedule_request(trigger=f"exception.{kind}")
    if work_order is not None:
        _publish_exception(exception, work_order=work_order, actor=actor)
    return exception


def _publish_exception(exception: ProductionException, *, work_order: WorkOrder, actor: Any) -> None:
    """Tell the order's subscribers (notifications, integration) in this transaction."""
    # Locked like any order event's order: subscribers number the order's events under this lock.
    order = (
        SalesOrder.objects.select_for_update(of=("self",))
        .select_related("customer", "owner")
        .get(pk=work_order.order_id)
    )
    events.publish(
        ProductionExceptionRaised(
            order=order,
            actor=actor,
            reason=exception.description[:500],
            snapshot=order_services.order_event_payload(order),
            exception_id=exception.pk,
            kind=exception.kind,
            kind_label=str(exception.get_kind_display()),
            severity=exception.severity,
            severity_label=str(exception.get_severity_display()),
            work_order_number=work_order.number,
            expected_delay_minutes=exception.expected_delay_minutes,
        )
    )


@transaction.atomic
def exception_resolve(
    *, actor: Any, exception: ProductionException | int, resolution: str = ""
) -> ProductionException:
    pk = exception.pk if isinstance(exception, ProductionException) else exception
    exception = ProductionException.objects.select_for_update().get(pk=pk)
    _require(actor, "production.change_productionexception", "exception_resolve", str(pk))
    if exception.resolved_at is not None:
        raise Conflict(_("This exception is already resolved."), code="resolved")
    exception.resolved_at = timezone.now()
    exception.resolution = resolution
    _stamp(exception, actor=actor, reason=resolution or _("Exception resolved"))
    exception.save()
    schedule_request(trigger="exception.resolved")
    return exception


# A lot exists once its work order has produced something.
LOT_STATUSES = (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED, WorkOrderStatus.ON_HOLD)


@transaction.atomic
def lot_create(
    *, actor: Any, work_order: WorkOrder, number: str, quantity: Any, produced_at: dt.datetime | None = None
) -> Lot:
    """Record a lot (batch) produced by a work order; its number is unique plant-wide (traceability)."""
    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    _require(actor, "production.add_lot", "lot_create", work_order.number)
    errors: dict[str, list[str]] = {}
    number = (number or "").strip()
    amount = _decimal(quantity, "quantity", errors, minimum=Decimal("0.001"))
    if not number:
        errors["number"] = [_("This field is required.")]
    elif len(number) > 60:
        errors["number"] = [_("At most 60 characters.")]
    elif Lot.objects.filter(number=number).exists():
        errors["number"] = [_("Another lot already has this number.")]
    if not errors and amount <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if work_order.status not in LOT_STATUSES:
        raise Conflict(
            _("Work order %(number)s is %(status)s: it has produced nothing to make a lot of.")
            % {"number": work_order.number, "status": work_order.get_status_display()},
            code="work_order_not_producing",
        )
    lot = Lot(
        work_order=work_order, number=number, quantity=amount, produced_at=produced_at or timezone.now()
    )
    _stamp(lot, actor=actor, reason=_("Lot recorded"))
    try:
        with transaction.atomic():
            lot.save()
    except IntegrityError as exc:
        # The same number was recorded at the same moment by someone else.
        raise Conflict(
            _("Another lot already has this number."), fields={"number": [number]}, code="duplicate"
        ) from exc
    return lot


@transaction.atomic
def inspection_record(
    *,
    actor: Any,
    lot: Lot,
    result: str,
    defect_code: str = "",
    notes: str = "",
    inspected_at: dt.datetime | None = None,
) -> QualityInspection:
    """A quality inspection of a lot: pass, or fail / rework with the defect code that says why."""
    _require(actor, "production.add_qualityinspection", "inspection_record", lot.number)
    defect_code = (defect_code or "").strip()
    if result not in InspectionResult.values:
        raise ValidationFailed(_("Choose a valid result."), fields={"result": [_("Choose a valid result.")]})
    if result != InspectionResult.PASS and not defect_code:
        raise ValidationFailed(
            _("A failed or rework inspection needs a defect code."),
            fields={"defect_code": [_("This field is required.")]},
        )
    if len(defect_code) > 32:
        raise ValidationFailed(
            _("Please correct the errors below."), fields={"defect_code": [_("At most 32 characters.")]}
        )
    inspection = QualityInspection(
        lot=lot,
        result=result,
        defect_code=defect_code,
        notes=notes,
        inspected_at=inspected_at or timezone.now(),
        inspector=actor,
    )
    _stamp(inspection, actor=actor, reason=_("Inspection recorded"))
    inspection.save()
    return inspection
