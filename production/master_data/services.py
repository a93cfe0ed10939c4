"""Writes of master data: work centers, their shifts and calendar exceptions, routings and their operations.

Keyword-only, one transaction each, history with the actor and the reason; what changes the plan asks for a
new one (production.replanning). Work orders sit above master data (they read routings), so the two things a
master-data write must do to them come through `work_orders_hooks`, set by production.apps: how many open
operations still use a work center, and giving a new routing to the work orders that waited for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from django.db import transaction
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed, require, stamp
from orders.models import Product
from production.inputs import decimal_input, whole_number
from production.master_data.models import CalendarException, Operation, Plant, Routing, Shift, WorkCenter
from production.master_data.plants import floor_centers_forget
from production.replanning import schedule_request

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class WorkOrderHooks:
    """What master-data writes need from the work orders (production.work_orders provides both)."""

    # Operations not yet finished, of work orders still open, planned on the work center.
    open_operations: Callable[[WorkCenter], int]
    # Work orders of `routing`'s product made without a routing get its operations (actor, reason).
    routing_arrived: Callable[[Routing, Any, str], None]


_hooks: list[WorkOrderHooks] = []


def work_orders_hooks(hooks: WorkOrderHooks) -> None:
    """Set the work orders' side of master-data writes (ProductionConfig.ready)."""
    _hooks[:] = [hooks]


def _work_orders() -> WorkOrderHooks:
    if not _hooks:
        raise RuntimeError("production.master_data needs its work-order hooks: is production installed?")
    return _hooks[0]


# --- work centers and routings -------------------------------------------------------------------------
@transaction.atomic
def work_center_create(
    *,
    actor: User | None,
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
    require(actor, "production.add_workcenter", action="work_center_create", target=code)
    errors: dict[str, list[str]] = {}
    if WorkCenter.objects.filter(code=code).exists():
        errors["code"] = [_("Another work center already has this code.")]
    unit_count = whole_number(units)
    if unit_count is None or not 1 <= unit_count <= 50:
        errors["units"] = [_("A work center needs 1 to 50 units.")]
    if not (code or "").strip():
        errors["code"] = [_("This field is required.")]
    efficiency_value = decimal_input(efficiency, "efficiency", errors, minimum=Decimal("0.10"))
    cleaned_shifts = _clean_shifts(shifts or [], errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    assert unit_count is not None  # a missing count is an error above
    work_center = WorkCenter(code=code, name=name, units=unit_count, efficiency=efficiency_value)
    reason = reason or _("Work center created")
    stamp(work_center, actor=actor, reason=reason)
    work_center.save()
    floor_centers_forget()  # a new center may be on the floor (the only plant's mode)
    for weekday, start, end in cleaned_shifts:
        shift = Shift(work_center=work_center, weekday=weekday, start=start, end=end)
        stamp(shift, actor=actor, reason=reason)
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
        day = whole_number(weekday)
        if day not in range(7):
            errors.setdefault(f"{prefix}weekday", []).append(_("Use 0 (Monday) to 6 (Sunday)."))
        for field, value in (("start", start), ("end", end)):
            if not isinstance(value, dt.time):
                errors.setdefault(f"{prefix}{field}", []).append(_("Enter a time such as 08:00."))
        if day is not None and day in range(7) and isinstance(start, dt.time) and isinstance(end, dt.time):
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
    *, actor: User | None, work_center: WorkCenter | int, shifts: list[tuple[Any, Any, Any]], reason: str = ""
) -> WorkCenter:
    """Replace a work center's weekly shifts (weekday, start, end) as a whole.

    Shifts that stay are kept as they are (their history shows no change); the removed ones are deleted
    and the new ones added, each with the actor and the reason; the plan is rescheduled on the new hours.
    """
    pk = work_center.pk if isinstance(work_center, WorkCenter) else work_center
    work_center = WorkCenter.objects.select_for_update().get(pk=pk)
    require(actor, "production.change_workcenter", action="work_center_set_shifts", target=work_center.code)
    errors: dict[str, list[str]] = {}
    wanted = _clean_shifts(shifts, errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = reason or _("Shifts changed")
    current = {(shift.weekday, shift.start, shift.end): shift for shift in work_center.shifts.all()}
    removed = [shift for key, shift in current.items() if key not in wanted]
    added = [key for key in wanted if key not in current]
    for shift in removed:
        stamp(shift, actor=actor, reason=reason)
        shift.delete()
    for weekday, start, end in added:
        shift = Shift(work_center=work_center, weekday=weekday, start=start, end=end)
        stamp(shift, actor=actor, reason=reason)
        shift.save()
    if removed or added:
        schedule_request(trigger=f"shifts {work_center.code}")
    return work_center


@transaction.atomic
def work_center_update(
    *,
    actor: User | None,
    work_center: WorkCenter | int,
    reason: str = "",
    name: str | None = None,
    units: int | None = None,
    efficiency: Decimal | str | None = None,
    is_active: bool | None = None,
    plant: Plant | Literal["keep"] | None = "keep",
) -> WorkCenter:
    """Change a work center's name, parallel units, efficiency, activity (None keeps the value) or plant
    ("keep" keeps it; None: no plant).

    Asks for a reschedule: capacity changed. Deactivating a work center that planned operations still use
    is refused, naming how many (reroute them first).
    """
    pk = work_center.pk if isinstance(work_center, WorkCenter) else work_center
    work_center = WorkCenter.objects.select_for_update().get(pk=pk)
    require(actor, "production.change_workcenter", action="work_center_update", target=work_center.code)
    errors: dict[str, list[str]] = {}
    if name is not None:
        if not str(name).strip():
            errors["name"] = [_("This field is required.")]
        work_center.name = str(name).strip()
    if units is not None:
        units = whole_number(units)
        if units is None or not 1 <= units <= 50:
            errors["units"] = [_("A work center needs 1 to 50 units.")]
        else:
            work_center.units = units
    if efficiency is not None:
        work_center.efficiency = decimal_input(efficiency, "efficiency", errors, minimum=Decimal("0.10"))
        if work_center.efficiency > 2:
            errors.setdefault("efficiency", []).append(_("Enter a number of at most 2."))
    if is_active is False and work_center.is_active:
        in_use = _work_orders().open_operations(work_center)
        if in_use:
            errors["is_active"] = [
                _("%(count)s open operations still use work center %(code)s: reroute them first.")
                % {"count": in_use, "code": work_center.code}
            ]
    if is_active is not None:
        work_center.is_active = bool(is_active)
    if plant != "keep":
        work_center.plant = plant
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    stamp(work_center, actor=actor, reason=reason or _("Work center updated"))
    work_center.save()
    floor_centers_forget()
    schedule_request(trigger=f"work_center {work_center.code}")
    return work_center


@transaction.atomic
def routing_update(
    *,
    actor: User | None,
    routing: Routing | int,
    reason: str = "",
    name: str | None = None,
    lot_size: Decimal | int | str | None = None,
    clear_lot_size: bool = False,
    is_active: bool | None = None,
) -> Routing:
    """Change a routing's name, lot size (for work orders made from now on) or activity."""
    pk = routing.pk if isinstance(routing, Routing) else routing
    routing = Routing.objects.select_for_update().select_related("product").get(pk=pk)
    require(actor, "production.change_routing", action="routing_update", target=routing.product.sku)
    errors: dict[str, list[str]] = {}
    if name is not None:
        routing.name = str(name).strip()
    if clear_lot_size:
        routing.lot_size = None
    elif lot_size not in (None, ""):
        routing.lot_size = decimal_input(lot_size, "lot_size", errors, minimum=Decimal("0.001"))
    if is_active is not None:
        routing.is_active = bool(is_active)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    stamp(routing, actor=actor, reason=reason or _("Routing updated"))
    routing.save()
    return routing


@transaction.atomic
def calendar_exception_create(
    *,
    actor: User | None,
    date: dt.date,
    work_center: WorkCenter | None = None,
    start: dt.time | None = None,
    end: dt.time | None = None,
    is_working: bool = False,
    description: str = "",
    reason: str = "",
) -> CalendarException:
    """A holiday/closure (is_working=False; whole day without start/end) or an extra shift."""
    require(actor, "production.add_calendarexception", action="calendar_exception_create", target=str(date))
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
    stamp(exception, actor=actor, reason=reason or _("Calendar exception created"))
    exception.save()
    schedule_request(trigger="calendar")
    return exception


@transaction.atomic
def routing_create(
    *,
    actor: User | None,
    product: Product,
    operations: list[dict],
    lot_size: Decimal | int | str | None = None,
    name: str = "",
    reason: str = "",
) -> Routing:
    """A product's routing; operations are dicts (sequence, name, work_center, setup_minutes,
    run_minutes_per_unit). Work orders that were waiting for a routing of this product get its operations.
    """
    require(actor, "production.add_routing", action="routing_create", target=product.sku)
    errors: dict[str, list[str]] = {}
    if Routing.objects.filter(product=product).exists():
        errors["product"] = [_("Product %(sku)s already has a routing.") % {"sku": product.sku}]
    if not operations:
        errors["operations"] = [
            _("The routing of %(sku)s has no operations: add at least one.") % {"sku": product.sku}
        ]
    lot = None
    if lot_size not in (None, ""):
        lot = decimal_input(lot_size, "lot_size", errors, minimum=Decimal("0.001"))
        if lot <= 0:
            errors.setdefault("lot_size", []).append(_("The lot size must be greater than zero."))
    cleaned = _clean_operations(operations or [], errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = reason or _("Routing created")
    routing = Routing(product=product, name=name or product.name, lot_size=lot)
    stamp(routing, actor=actor, reason=reason)
    routing.save()
    for data in cleaned:
        operation = Operation(routing=routing, **data)
        stamp(operation, actor=actor, reason=reason)
        operation.save()
    _work_orders().routing_arrived(routing, actor, reason)
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
        setup = decimal_input(raw.get("setup_minutes", 0), f"{prefix}setup_minutes", errors)
        run = decimal_input(raw.get("run_minutes_per_unit", 0), f"{prefix}run_minutes_per_unit", errors)
        if setup + run <= 0:
            errors.setdefault(f"{prefix}run_minutes_per_unit", []).append(
                _("An operation needs a setup or a run time.")
            )
        cleaned.append(
            {
                "sequence": sequence,
                "name": raw.get("name") or f"{sequence}",
                "name_zh": str(raw.get("name_zh") or "").strip()[:120],
                "work_center": work_center,
                "setup_minutes": setup,
                "run_minutes_per_unit": run,
            }
        )
    return cleaned


@transaction.atomic
def routing_set_operations(
    *, actor: User | None, routing: Routing | int, operations: list[dict], reason: str = ""
) -> Routing:
    """Replace a routing's operations as a whole (dicts as for routing_create).

    Steps are matched by sequence: a changed step is updated, a missing one deleted, a new one added, each
    with the actor and the reason. Like the lot size, the steps apply to work orders made from now on:
    a work order keeps the operations it was made with (the MES may already be working on them).
    """
    pk = routing.pk if isinstance(routing, Routing) else routing
    routing = Routing.objects.select_for_update().select_related("product").get(pk=pk)
    require(actor, "production.change_routing", action="routing_set_operations", target=routing.product.sku)
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
            stamp(operation, actor=actor, reason=reason)
            operation.delete()
    for sequence, data in wanted.items():
        operation = current.get(sequence) or Operation(routing=routing)
        changed = operation.pk is None or any(
            getattr(operation, field) != value for field, value in data.items()
        )
        if changed:
            for field, value in data.items():
                setattr(operation, field, value)
            stamp(operation, actor=actor, reason=reason)
            operation.save()
    return routing
