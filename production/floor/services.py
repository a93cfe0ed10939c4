"""What an operator's phone does on the floor: start, pause, report good / scrap / rework, raise an exception
with a photo, record a lot and its inspection — through the same production services as the MES's messages
(production.work_orders: progress_report_record, exception_raise, lot_create, inspection_record), so the
same validation, history, events to the CRM, reschedule and KPIs follow.

Idempotent by the phone's own id (`client_id`): a repeat (the offline queue resending) finds the first
one's FloorReport and gets its answer back; a copy that races the first waits for it (on the work order's
lock or the unique ids) and then gets its answer too. Each action takes one lock, the work order's, until
it commits: a report of quantities first (it is checked on what it reads under it), the others last.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from config.history import insert_with_history
from config.kernel import (
    ApplicationError,
    Conflict,
    TransitionNotAllowed,
    ValidationFailed,
    require,
    stamp,
)
from production.floor import fast_sql
from production.floor.models import FloorAction, FloorReport, OperatorBadge, ReasonKind
from production.floor.photos import photo_checked
from production.floor.reasons import active_reason_ids
from production.master_data import floor_work_center_ids
from production.work_orders import (
    ExceptionKind,
    InspectionResult,
    LockedWork,
    OperationStatus,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
    exception_raise,
    inspection_record,
    lot_create,
    order_follow_work_of,
    progress_report_record,
    work_order_lock,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REPORTABLE = (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
PIN_MIN, PIN_MAX = 4, 12


# --- badges ---------------------------------------------------------------------------------------------
def operator_badge_set(*, user: User, badge: str, pin: str) -> OperatorBadge:
    """Give `user` a badge number and PIN (4 to 12 digits), or change them."""
    badge = (badge or "").strip()
    errors: dict[str, list[str]] = {}
    if not badge or len(badge) > 32:
        errors["badge"] = [_("Enter a badge number of at most 32 characters.")]
    elif OperatorBadge.objects.filter(badge=badge).exclude(user=user).exists():
        errors["badge"] = [_("Another operator has this badge number.")]
    if not (pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        errors["pin"] = [_("The PIN is 4 to 12 digits.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    row, _created = OperatorBadge.objects.update_or_create(
        user=user, defaults={"badge": badge, "pin_hash": make_password(pin), "is_active": True}
    )
    return row


def badge_user(*, badge: str, pin: str) -> User | None:
    """The active user of an active badge whose PIN matches, else None (the hash check runs either way)."""
    row = OperatorBadge.objects.select_related("user").filter(badge=(badge or "").strip()).first()
    if row is None:
        make_password(pin)  # the same work as a check: the answer's timing does not tell badges apart
        return None
    if not (check_password(pin, row.pin_hash) and row.is_active and row.user.is_active):
        return None
    return row.user


# --- reports --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FloorInput:
    """One report from the phone, as parsed by production.floor.forms (types checked, rules not yet)."""

    client_id: uuid.UUID
    operation_id: int
    action: str
    good: Decimal = Decimal(0)
    scrap: Decimal = Decimal(0)
    rework: Decimal = Decimal(0)
    scrap_reason: str = ""
    rework_reason: str = ""
    finished: bool = False
    # "Finish: all remaining good": the rest is counted here when the report is applied, not on the phone
    # (reports queued offline before it land first and would make the phone's count too many).
    all_remaining: bool = False
    device_time: dt.datetime | None = None
    exception_kind: str = ""
    description: str = ""
    photo: bytes | None = None
    lot_number: str = ""
    lot_quantity: Decimal | None = None
    inspection_result: str = ""
    defect_code: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def occurred_at(
    *, device_time: dt.datetime | None, received_at: dt.datetime, not_before: dt.datetime | None
) -> tuple[dt.datetime, bool]:
    """The time a report is taken for, and whether the device's time was not believed (flagged).

    The device's time counts when it lies within ORDERBRIDGE_FLOOR_MAX_OFFLINE_HOURS before the time
    received, at most ORDERBRIDGE_FLOOR_CLOCK_SKEW_SECONDS after it, and not before the operation started."""
    if device_time is None:
        return received_at, False
    skew = dt.timedelta(seconds=settings.FLOOR_CLOCK_SKEW_SECONDS)
    earliest = received_at - dt.timedelta(hours=settings.FLOOR_MAX_OFFLINE_HOURS)
    if not_before is not None:
        earliest = max(earliest, not_before - skew)
    if earliest <= device_time <= received_at + skew:
        return min(device_time, received_at), False
    return received_at, True


def floor_report_submit(*, actor: User, data: FloorInput) -> tuple[dict[str, Any], bool]:
    """Apply one report from the floor; returns (answer, created). A repeated `client_id` returns the first
    report's answer and changes nothing. A refused report raises ApplicationError and saves nothing."""
    require(actor, "production.use_floor", action="floor_report", target=str(data.operation_id))
    # A resend of a report already saved (the offline queue's): its answer, with no transaction or lock. A
    # copy racing the first (both in flight) meets it at the work order's lock or the unique ids (the
    # progress report's message id, the FloorReport's client id): it waits there for the first to commit,
    # then fails whole, and is answered with the first.
    first = fast_sql.floor_report_answer(data.client_id)
    if first is not None:
        return first, False
    try:
        return _submit(actor=actor, data=data)
    except (IntegrityError, ApplicationError):
        # A copy that waited on the lock while the first landed may be refused by what the first did (it
        # took the last pieces, it finished the operation): the first's answer is its answer. So is it when
        # the same id arrived at once for another operation (a phone's bug): the first one won.
        first = fast_sql.floor_report_answer(data.client_id)
        if first is None:
            raise
        return first, False


@transaction.atomic
def _submit(*, actor: User, data: FloorInput) -> tuple[dict[str, Any], bool]:
    locked = None
    if data.action == FloorAction.REPORT:
        # A report is checked and applied under the work order's lock, taken first: its operations are read
        # once, as they are (a copy racing this one waits here, then fails on the unique ids).
        locked = work_order_lock(operation_id=data.operation_id)
        operations = list(locked.operations) if locked is not None else []
    else:
        # No lock: the services that change the work take the work order's lock themselves, last.
        operations = _operations_of(data.operation_id)
    op = next((o for o in operations if o.pk == data.operation_id), None)
    if op is None:
        raise ValidationFailed(
            _("No operation has this number."), fields={"operation": [_("No operation has this number.")]}
        )
    work_order = op.work_order
    _check_on_floor(operations)
    _check_status(work_order, action=data.action)
    received = timezone.now()
    when, flagged = occurred_at(
        device_time=data.device_time, received_at=received, not_before=op.actual_start
    )
    report = FloorReport(
        client_id=data.client_id,
        action=data.action,
        operation=op,
        operator=actor,
        device_time=data.device_time,
        received_at=received,
        occurred_at=when,
        time_flagged=flagged,
    )
    previous = _predecessor(op, operations)
    if data.action == FloorAction.START:
        op, work_order, previous = _start(actor=actor, op=op, work_order=work_order, when=when)
    elif data.action == FloorAction.PAUSE:
        if op.status != OperationStatus.STARTED:
            raise Conflict(_("Only a started operation can be paused."), code="not_started")
    elif data.action == FloorAction.REPORT and locked is not None:
        op, work_order, previous = _report(
            actor=actor, op=op, locked=locked, previous=previous, data=data, report=report, when=when
        )
    elif data.action == FloorAction.EXCEPTION:
        _exception(actor=actor, op=op, work_order=work_order, data=data, report=report, when=when)
    elif data.action == FloorAction.LOT:
        _lot(actor=actor, work_order=work_order, data=data, report=report, when=when)
    else:
        raise ValidationFailed(_("Unknown action."), fields={"action": [_("Unknown action.")]})
    state = operation_state(op, work_order=work_order, previous=previous)
    if data.action in (FloorAction.START, FloorAction.PAUSE):
        # The other actions leave a pause as it was: the phone keeps showing what it showed.
        state["paused"] = data.action == FloorAction.PAUSE
        if state["paused"]:
            state["status_label"] = str(_("Paused"))
    report.answer = {
        "client_id": str(data.client_id),
        "action": data.action,
        "occurred_at": when.isoformat(),
        "time_flagged": flagged,
        "operation": state,
    }
    insert_with_history(report)
    return report.answer, True


def _operations_of(operation_id: int) -> list[WorkOrderOperation]:
    """The operations of the work order that `operation_id` belongs to, in sequence, each with the work
    order and its order (one query; empty when there is no such operation)."""
    work_order_id = WorkOrderOperation.objects.filter(pk=operation_id).values("work_order_id")
    return list(
        WorkOrderOperation.objects.filter(work_order_id=Subquery(work_order_id))
        .select_related("work_order__order")
        .order_by("sequence")
    )


def _check_on_floor(operations: list[WorkOrderOperation]) -> None:
    first_center = operations[0].work_center_id
    # The rule of production.work_orders.work_order_on_floor, with the operations at hand.
    if first_center not in floor_work_center_ids([first_center]):
        raise Conflict(
            _("This work order is reported by the MES, not on OrderBridge's floor."), code="reported_by_mes"
        )


def _check_status(work_order: WorkOrder, *, action: str) -> None:
    # An exception may be raised on a held work order too (what held it, or what happened meanwhile).
    allowed = (*REPORTABLE, WorkOrderStatus.ON_HOLD) if action == FloorAction.EXCEPTION else REPORTABLE
    if work_order.status in allowed:
        return
    if work_order.status == WorkOrderStatus.PLANNED:
        message = _("Work order %(number)s is not released to the floor yet: ask the planner.")
    else:
        message = _("Work order %(number)s is %(status)s: nothing can be reported on it.")
    raise TransitionNotAllowed(
        message % {"number": work_order.number, "status": work_order.get_status_display()},
        code=f"work_order_{work_order.status}",
    )


def _predecessor(op: WorkOrderOperation, operations: list[WorkOrderOperation]) -> WorkOrderOperation | None:
    earlier = [o for o in operations if o.sequence < op.sequence]
    return earlier[-1] if earlier else None


def available(
    op: WorkOrderOperation, *, work_order: WorkOrder, previous: WorkOrderOperation | None
) -> Decimal:
    """What this operation may still report: what reached it (the previous operation's good, or the work
    order's quantity for the first) less what it has reported (good, scrap and rework)."""
    reached = previous.good_quantity if previous is not None else work_order.quantity
    return max(Decimal(0), reached - op.good_quantity - op.scrap_quantity - op.rework_quantity)


def _qty(value: Decimal) -> str:
    """12.500 as "12.5", 10.000 as "10" (never "1E+1")."""
    return format(value.normalize(), "f")


def operation_state(
    op: WorkOrderOperation, *, work_order: WorkOrder, previous: WorkOrderOperation | None
) -> dict[str, Any]:
    """The operation as the phone shows it after a report."""
    return {
        "id": op.pk,
        "status": op.status,
        "status_label": str(op.get_status_display()),
        "good": _qty(op.good_quantity),
        "scrap": _qty(op.scrap_quantity),
        "rework": _qty(op.rework_quantity),
        "remaining": _qty(available(op, work_order=work_order, previous=previous)),
        "work_order_status": work_order.status,
    }


def _nothing_to_hand_on(previous: WorkOrderOperation) -> Conflict:
    return Conflict(
        _(
            "The previous operation (%(sequence)s %(name)s) has nothing to hand on yet: "
            "it reports more good pieces first."
        )
        % {"sequence": previous.sequence, "name": previous.display_name},
        code="predecessor_empty",
    )


def _start(
    *, actor: User, op: WorkOrderOperation, work_order: WorkOrder, when: dt.datetime
) -> tuple[WorkOrderOperation, WorkOrder, WorkOrderOperation | None]:
    """Start the operation (and its work order): the operation, its work order and its predecessor as
    they now are."""
    order = work_order.order
    # The work order's lock, as a report takes it: its operations are read afresh under it.
    work_order = WorkOrder.objects.select_for_update(no_key=True).get(pk=work_order.pk)
    work_order.order = order
    _check_status(work_order, action=FloorAction.START)
    operations = list(WorkOrderOperation.objects.filter(work_order=work_order).order_by("sequence"))
    op = next(o for o in operations if o.pk == op.pk)
    previous = _predecessor(op, operations)
    if op.status == OperationStatus.COMPLETED:
        raise Conflict(
            _("Operation %(name)s is already completed.") % {"name": op.display_name}, code="completed"
        )
    if op.status == OperationStatus.STARTED:
        return op, work_order, previous  # a second tap: already running
    if previous is not None and available(op, work_order=work_order, previous=previous) <= 0:
        raise _nothing_to_hand_on(previous)
    reason = _("Started on the floor")
    op.start()
    op.actual_start = when
    stamp(op, actor=actor, reason=reason)
    op.save(update_fields=["status", "actual_start"])
    if work_order.status == WorkOrderStatus.RELEASED:
        work_order.start()
        stamp(work_order, actor=actor, reason=reason)
        work_order.save(update_fields=["status"])
        work_order.order = order_follow_work_of(work_order=work_order, closed_reason=reason)
    return op, work_order, previous


def _reason_id(code: str, kind: str, field_name: str, errors: dict[str, list[str]]) -> int | None:
    if not code:
        errors[field_name] = [_("Choose a reason.")]
        return None
    reason_id = active_reason_ids().get((kind, code))
    if reason_id is None:
        errors[field_name] = [_("Choose a reason from the list.")]
    return reason_id


def _report(
    *,
    actor: User,
    op: WorkOrderOperation,
    locked: LockedWork,
    previous: WorkOrderOperation | None,
    data: FloorInput,
    report: FloorReport,
    when: dt.datetime,
) -> tuple[WorkOrderOperation, WorkOrder, WorkOrderOperation | None]:
    """Record good / scrap / rework through production's progress service, under the work order's lock
    (`locked`, which `op` is one of): the operation, its work order and its predecessor as the report left
    them."""
    work_order = locked.work_order
    errors: dict[str, list[str]] = {}
    for name, value in (
        ("good_quantity", data.good),
        ("scrap_quantity", data.scrap),
        ("rework_quantity", data.rework),
    ):
        if value < 0:
            errors[name] = [_("Enter a number of at least %(min)s.") % {"min": 0}]
    if data.scrap > 0:
        report.scrap_reason_id = _reason_id(data.scrap_reason, ReasonKind.SCRAP, "scrap_reason", errors)
    if data.rework > 0:
        report.rework_reason_id = _reason_id(data.rework_reason, ReasonKind.REWORK, "rework_reason", errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    good, finished = data.good, data.finished
    if data.all_remaining:
        good = max(
            Decimal(0), available(op, work_order=work_order, previous=previous) - data.scrap - data.rework
        )
        finished = True
    total = good + data.scrap + data.rework

    def check(op: WorkOrderOperation, previous: WorkOrderOperation | None, work_order: WorkOrder) -> None:
        _check_report(op, previous=previous, work_order=work_order, total=total, finished=finished)

    # Checked by the progress service on the rows read under the lock, before it writes anything.
    recorded = progress_report_record(
        actor=actor,
        operation=op,
        message_id=f"floor:{data.client_id}",
        good_quantity=good,
        scrap_quantity=data.scrap,
        rework_quantity=data.rework,
        operator=actor.get_username()[:80],
        reported_at=when,
        operation_finished=finished,
        check=check,
        locked=locked,
    )
    report.progress_report = recorded.report
    report.good_quantity, report.scrap_quantity, report.rework_quantity = good, data.scrap, data.rework
    report.finished = finished
    return recorded.operation, recorded.work_order, recorded.previous


def _check_report(
    op: WorkOrderOperation,
    *,
    previous: WorkOrderOperation | None,
    work_order: WorkOrder,
    total: Decimal,
    finished: bool,
) -> None:
    """The floor's rules for a report of `total` pieces: nothing on a completed operation, no more than
    reached it, no finish before the operation before it."""
    if op.status == OperationStatus.COMPLETED:
        raise Conflict(
            _("Operation %(name)s is already completed.") % {"name": op.display_name}, code="completed"
        )
    left = available(op, work_order=work_order, previous=previous)
    if previous is not None and total > 0 and left <= 0 and previous.status != OperationStatus.COMPLETED:
        raise _nothing_to_hand_on(previous)
    if total > left:
        raise ValidationFailed(
            _("Too many: at most %(left)s remain to report on this operation.") % {"left": _qty(left)},
            fields={"good_quantity": [_("At most %(left)s.") % {"left": _qty(left)}]},
            code="over_reported",
        )
    if finished and previous is not None and previous.status != OperationStatus.COMPLETED:
        raise Conflict(
            _(
                "The previous operation (%(sequence)s %(name)s) is not finished: "
                "this one cannot finish before it."
            )
            % {"sequence": previous.sequence, "name": previous.display_name},
            code="predecessor_open",
        )


def _exception(
    *,
    actor: User,
    op: WorkOrderOperation,
    work_order: WorkOrder,
    data: FloorInput,
    report: FloorReport,
    when: dt.datetime,
) -> None:
    errors: dict[str, list[str]] = {}
    if data.exception_kind not in ExceptionKind.values:
        errors["exception_kind"] = [_("Choose a valid kind.")]
    photo = None
    if data.photo is not None:
        photo = photo_checked(data.photo, errors)
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    report.exception = exception_raise(
        actor=actor,
        kind=data.exception_kind,
        work_center=op.work_center,
        work_order=work_order,
        description=data.description[:2000],
        raised_at=when,
    )
    report.note = data.description[:500]
    if photo is not None:
        content, extension = photo
        report.photo.save(f"{report.client_id}.{extension}", ContentFile(content), save=False)


def _lot(
    *, actor: User, work_order: WorkOrder, data: FloorInput, report: FloorReport, when: dt.datetime
) -> None:
    if data.inspection_result and data.inspection_result not in InspectionResult.values:
        raise ValidationFailed(
            _("Choose a valid result."), fields={"inspection_result": [_("Choose a valid result.")]}
        )
    lot = lot_create(
        actor=actor,
        work_order=work_order,
        number=data.lot_number,
        quantity=data.lot_quantity,
        produced_at=when,
    )
    if data.inspection_result:
        inspection_record(
            actor=actor,
            lot=lot,
            result=data.inspection_result,
            defect_code=data.defect_code,
            inspected_at=when,
        )
    report.lot = lot
