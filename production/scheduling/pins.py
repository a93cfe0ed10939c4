"""Pins: a planner fixes an operation to a line (a unit of its work center) and a start time, with a reason.

The scheduler takes each active pin as a fixed booking (production.scheduling.service.build_problem), as it
takes the frozen window's; unpinning lets the engines place the operation again. Each pin row is its own
history: who pinned, when, why, and who unpinned it and why.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import Conflict, ValidationFailed, as_stored, require
from production.policies import RUN_SCHEDULE
from production.replanning import schedule_request
from production.scheduling.models import OperationPin
from production.scheduling.problem import Op, WorkCenterSpec
from production.work_orders import CLOSED_STATUSES, OperationStatus, WorkOrderOperation

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REASON_MAX = 300


@transaction.atomic
def operation_pin(
    *,
    actor: User,
    operation: WorkOrderOperation | int,
    unit: int | None,
    start: dt.datetime | None,
    reason: str,
) -> OperationPin:
    """Pin `operation` to `unit` (0-based) of its work center from `start`, replacing its active pin.

    Preconditions: the actor may run the schedule; the operation is pending (a started or completed one is
    where it is) and its work order open; the unit exists; the start is not in the past; a reason. Errors
    are ValidationFailed with field messages, nothing written. Side effects: the pin row (and the replaced
    pin's unpin stamp), a new plan asked for once this commits.
    """
    require(actor, RUN_SCHEDULE, action="operation_pin", target=str(getattr(operation, "pk", operation)))
    pk = operation.pk if isinstance(operation, WorkOrderOperation) else operation
    # The operation's lock: two planners pinning one operation at once make one active pin, not two.
    row = (
        WorkOrderOperation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("work_center", "work_order")
        .get(pk=pk)
    )
    errors: dict[str, list[str]] = {}
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = [_("Give a reason.")]
    elif len(reason) > REASON_MAX:
        errors["reason"] = [_("At most %(max)s characters.") % {"max": REASON_MAX}]
    if unit is None or not 0 <= unit < row.work_center.units:
        errors["unit"] = [
            _("Choose a line of work center %(code)s (1 to %(units)s).")
            % {"code": row.work_center.code, "units": row.work_center.units}
        ]
    if start is None:
        errors["start"] = [_("Enter a start date and time.")]
    elif start < timezone.now() - dt.timedelta(minutes=1):
        errors["start"] = [_("The start is in the past.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if row.status != OperationStatus.PENDING or row.work_order.status in CLOSED_STATUSES:
        raise Conflict(
            _("Operation %(operation)s of work order %(number)s has started or is over: it cannot be pinned.")
            % {"operation": row.sequence, "number": row.work_order.number},
            code="not_pending",
        )
    assert unit is not None and start is not None  # checked above
    _unpin_active(row.pk, actor=actor, reason=as_stored(gettext_lazy("replaced by a new pin")))
    pin = OperationPin.objects.create(
        operation=row, unit=unit, start=start.replace(second=0, microsecond=0), reason=reason, pinned_by=actor
    )
    schedule_request(trigger=f"operation {row.pk} pinned by {actor}")
    return pin


@transaction.atomic
def operation_unpin(*, actor: User, pin: OperationPin | int, reason: str = "") -> OperationPin:
    """End an active pin: the scheduler places the operation freely again. Idempotent: unpinning a pin
    already ended changes nothing."""
    pk = pin.pk if isinstance(pin, OperationPin) else pin
    require(actor, RUN_SCHEDULE, action="operation_unpin", target=str(pk))
    row = OperationPin.objects.select_for_update().get(pk=pk)
    if row.unpinned_at is not None:
        return row
    OperationPin.objects.filter(pk=row.pk).update(
        unpinned_at=timezone.now(), unpinned_by=actor, unpin_reason=(reason or "").strip()[:REASON_MAX]
    )
    row.refresh_from_db()
    schedule_request(trigger=f"operation {row.operation_id} unpinned by {actor}")
    return row


def _unpin_active(operation_id: int, *, actor: User, reason: str) -> None:
    OperationPin.objects.filter(operation_id=operation_id, unpinned_at__isnull=True).update(
        unpinned_at=timezone.now(), unpinned_by=actor, unpin_reason=reason[:REASON_MAX]
    )


def active_pins(*, operation_ids: list[int] | None = None) -> dict[int, OperationPin]:
    """Active pins by operation id (all of them, or those of `operation_ids`)."""
    queryset = OperationPin.objects.filter(unpinned_at__isnull=True)
    if operation_ids is not None:
        queryset = queryset.filter(operation_id__in=operation_ids)
    return {pin.operation_id: pin for pin in queryset.select_related("pinned_by")}


def book_pin(
    item: Op,
    pin: OperationPin,
    spec: WorkCenterSpec,
    *,
    start: int,
    taken: dict[tuple[Any, int], list[tuple[int, int]]],
) -> None:
    """A planner's pin as a fixed booking of the problem (production.scheduling.service.build_problem): the
    pinned unit, from the pinned start `start` (minutes from the plan's origin; the first working minute at
    or after it, or now if it has passed) for the operation's working duration. A pin whose unit is gone or
    that overlaps an earlier pin on its unit is left out (the page shows it as not honoured)."""
    if pin.unit >= spec.units:
        return
    cal = spec.calendar
    begin = cal.next_working(max(0, start))
    end = cal.add_working(begin, item.duration)
    slots = taken.setdefault((item.work_center, pin.unit), [])
    if any(begin < other_end and other_start < end for other_start, other_end in slots):
        return
    slots.append((begin, end))
    item.frozen_start, item.frozen_end, item.frozen_unit = begin, end, pin.unit
