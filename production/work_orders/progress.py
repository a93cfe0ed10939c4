"""What the MES reports for an operation, and how it rolls up: operation, work order, order.

The order's own transitions (in production, completed) go through orders.sales' transition door
(orders.sales.transitions) with the system actor (production.work_orders.system), which checks its
permissions like anyone's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from config.history import insert_with_history, update_with_history
from config.kernel import (
    Conflict,
    TransitionNotAllowed,
    ValidationFailed,
    define,
    message,
    publish,
    require,
    stamp,
)
from config.kernel.events import ProgressReported
from orders.models import OrderStatus, SalesOrder
from production.inputs import decimal_input
from production.replanning import schedule_request
from production.work_orders import fast_sql
from production.work_orders.lifecycle import ALL_COMPLETED, order_follow_work_of
from production.work_orders.models import (
    ExceptionKind,
    OperationStatus,
    ProductionException,
    ProgressReport,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _percent(work_order: WorkOrder, operations: Sequence[WorkOrderOperation]) -> Decimal:
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


# A caller's own rule for a report (the floor's "no more than reached this operation"), checked with the
# work order locked: the operation as it now is, the one before it (None for the first), the work order.
ProgressCheck = Callable[[WorkOrderOperation, WorkOrderOperation | None, WorkOrder], None]


@dataclass(frozen=True)
class ProgressRecorded:
    """A report recorded, and what it left: the operation and its work order as saved (the work order's
    order loaded) and the work order's operations in sequence, as they were under its lock."""

    report: ProgressReport
    operation: WorkOrderOperation
    work_order: WorkOrder
    operations: tuple[WorkOrderOperation, ...]

    @property
    def previous(self) -> WorkOrderOperation | None:
        earlier = [o for o in self.operations if o.sequence < self.operation.sequence]
        return earlier[-1] if earlier else None


@dataclass(frozen=True)
class LockedWork:
    """A work order this transaction holds the lock of (FOR NO KEY UPDATE, until it commits), its order (read
    in the same statement, before the lock was granted: the order moves under its own lock) and its
    operations in sequence, read after the lock was granted. Each operation's `work_order` is this one."""

    work_order: WorkOrder
    operations: tuple[WorkOrderOperation, ...]


def work_order_lock(*, operation_id: int) -> LockedWork | None:
    """Lock the work order of the operation `operation_id` and read its operations afresh (two queries, in
    the caller's transaction); None when there is no such operation.

    For a caller that checks a report against the work as it is before it writes anything (the floor): the
    reports on one work order are serialised on this lock, as progress_report_record's own."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("work_order_lock runs inside the caller's transaction.")
    found = fast_sql.work_order_locked_with_operations(operation_id)
    if found is None:
        return None
    work_order, operations = found
    return LockedWork(work_order=work_order, operations=tuple(operations))


def progress_report_create(
    *,
    actor: User | None,
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

    A repeated `message_id` returns the first report and changes nothing (the MES may resend), also when
    the copies arrive at once (the second waits on the first's unique message id). Rolls up as
    progress_report_record says. In a transaction of its own (a savepoint inside the caller's).
    """
    existing = ProgressReport.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    pk = operation.pk if isinstance(operation, WorkOrderOperation) else operation
    try:
        with transaction.atomic():
            op = WorkOrderOperation.objects.select_related("work_order__order").get(pk=pk)
            recorded = progress_report_record(
                actor=actor,
                operation=op,
                message_id=message_id,
                good_quantity=good_quantity,
                scrap_quantity=scrap_quantity,
                rework_quantity=rework_quantity,
                operator=operator,
                reported_at=reported_at,
                operation_finished=operation_finished,
                started_at=started_at,
            )
    except IntegrityError:
        # The same message arrived twice at once: the other copy won (its report is committed).
        existing = ProgressReport.objects.filter(message_id=message_id).first()
        if existing is None:
            raise
        return existing, False
    return recorded.report, True


def progress_report_record(
    *,
    actor: User | None,
    operation: WorkOrderOperation,
    message_id: str,
    good_quantity: Any = 0,
    scrap_quantity: Any = 0,
    rework_quantity: Any = 0,
    operator: str = "",
    reported_at: dt.datetime | None = None,
    operation_finished: bool = False,
    started_at: dt.datetime | None = None,
    check: ProgressCheck | None = None,
    locked: LockedWork | None = None,
) -> ProgressRecorded:
    """Record one report on `operation` (read by the caller with `work_order__order`, unlocked) in the
    caller's transaction, which it requires; `check` is the caller's own rule, run under the lock.

    Preconditions: the caller knows `message_id` is new; a copy racing it makes this raise IntegrityError
    when the first commits (the caller rolls back and answers with the first).

    Locks: the work order's row, last (after the report's rows are written) and until commit: the reports
    on one work order are serialised there, and read its operations afresh under it (every writer of an
    operation's quantities holds it), so the roll-up counts every report once. A caller that took that
    lock itself (work_order_lock) passes it as `locked`, with `operation` one of its operations: nothing is
    read again, and the report's rows are written after the checks (a copy racing it waits on the lock,
    then fails on the message id). Rolls up: the operation
    starts (actual start) and, when finished, completes; the work order starts and completes with its last
    operation; the order goes to in production on its first report and to completed when its last work
    order completes (orders.sales.transitions with the system actor). A completed operation asks for a
    reschedule. Publishes ProgressReported (materials backflush; the CRM's progress marker).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("progress_report_record runs inside the caller's transaction.")
    require(
        actor,
        "production.progress_workorder",
        action="progress_report_create",
        target=operation.work_order.number,
    )
    errors: dict[str, list[str]] = {}
    good = decimal_input(good_quantity, "good_quantity", errors)
    scrap = decimal_input(scrap_quantity, "scrap_quantity", errors)
    rework = decimal_input(rework_quantity, "rework_quantity", errors)
    if not message_id:
        errors["message_id"] = [_("This field is required.")]
    if not errors and good + scrap + rework == 0 and not operation_finished:
        errors["good_quantity"] = [_("Report a quantity or finish the operation.")]
    reported_at = reported_at or timezone.now()
    if started_at is not None and started_at > reported_at:
        errors["started_at"] = [_("The operation cannot start after the time of the report.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    reason = _("Progress reported (%(message)s)") % {"message": message_id}
    report = ProgressReport(
        message_id=message_id,
        operation_id=operation.pk,
        good_quantity=good,
        scrap_quantity=scrap,
        rework_quantity=rework,
        operator=operator,
        reported_at=reported_at,
        operation_finished=operation_finished,
        created_by=actor,
    )
    stamp(report, actor=actor, reason=reason)
    if locked is None:
        # Its unique message id is the claim: a racing copy waits here, not on the lock below.
        insert_with_history(report)
        order = operation.work_order.order
        work_order = WorkOrder.objects.select_for_update(no_key=True).get(pk=operation.work_order_id)
        work_order.order = order
        operations = tuple(
            WorkOrderOperation.objects.filter(work_order_id=work_order.pk).order_by("sequence")
        )
    else:
        work_order, operations = locked.work_order, locked.operations
        order = work_order.order
    op = next(o for o in operations if o.pk == operation.pk)
    if work_order.status not in (WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS):
        raise TransitionNotAllowed(
            _("Work order %(number)s is %(status)s: progress cannot be reported.")
            % {"number": work_order.number, "status": work_order.get_status_display()}
        )
    if op.status == OperationStatus.COMPLETED:
        raise Conflict(_("Operation %(name)s is already completed.") % {"name": op.name}, code="completed")
    if check is not None:
        earlier = [o for o in operations if o.sequence < op.sequence]
        check(op, earlier[-1] if earlier else None, work_order)
    if locked is not None:
        insert_with_history(report)  # checked first: a refused report writes nothing

    op.good_quantity += good
    op.scrap_quantity += scrap
    op.rework_quantity += rework
    if op.status == OperationStatus.PENDING:
        op.start()
        op.actual_start = started_at or reported_at
    if operation_finished:
        op.complete()
        op.actual_end = reported_at
    stamp(op, actor=actor, reason=reason)
    # Only what a report changes: the planner writes the schedule's columns without this lock.
    update_with_history(op, fields=OPERATION_REPORTED_FIELDS)

    started = work_order.status == WorkOrderStatus.RELEASED
    if started:
        work_order.start()
    work_order.percent_complete = _percent(work_order, operations)
    work_order.good_quantity = operations[-1].good_quantity
    completed = all(o.status == OperationStatus.COMPLETED for o in operations)
    if completed:
        work_order.complete()
        work_order.completed_at = reported_at
        work_order.percent_complete = Decimal(100)
        _close_exceptions_of_finished_work(work_order, at=reported_at, actor=actor)
    stamp(work_order, actor=actor, reason=reason)
    update_with_history(work_order, fields=WORK_ORDER_REPORTED_FIELDS)
    if started or completed or order.status == OrderStatus.RELEASED:
        # An order in production is moved by nothing but its last work order's completion; the order's
        # lock is taken only then.
        order = _roll_up_order(work_order)
        work_order.order = order
    first = operations[0]
    # Subscribers see the report inside its transaction (materials' backflush; the CRM's coalesced
    # progress, whose per-order marker lock is the last one taken: crm_sync.progress).
    publish(
        ProgressReported(
            order=order,
            actor=actor,
            reason=reason,
            work_order_number=work_order.number,
            operation_sequence=op.sequence,
            operation_finished=operation_finished,
            progress_report_id=report.pk,
            good_quantity=good,
            scrap_quantity=scrap,
            work_order_id=work_order.pk,
            operation_is_first=first.pk == op.pk,
        )
    )
    if operation_finished:
        schedule_request(trigger=f"operation.completed {work_order.number}/{op.sequence}")
    return ProgressRecorded(report=report, operation=op, work_order=work_order, operations=operations)


# The columns a report writes (with its history row, in one statement: config.history).
OPERATION_REPORTED_FIELDS = (
    "good_quantity",
    "scrap_quantity",
    "rework_quantity",
    "status",
    "actual_start",
    "actual_end",
)
WORK_ORDER_REPORTED_FIELDS = ("status", "percent_complete", "good_quantity", "completed_at")


# A breakdown or a shortage that held a work order up is over once the work order is done; a quality hold
# is about what was made, so it stays open until someone decides on it.
ENDED_WITH_THE_WORK = (ExceptionKind.MACHINE_BREAKDOWN, ExceptionKind.MATERIAL_SHORTAGE)
CLOSED_WITH_WORK_ORDER_TEXT = gettext_noop("Closed with the work order: all its operations are completed.")
CLOSED_WITH_WORK_ORDER = define(
    "production.exception_closed_with_work_order", gettext_lazy(CLOSED_WITH_WORK_ORDER_TEXT)
)


def _close_exceptions_of_finished_work(work_order: WorkOrder, *, at: dt.datetime, actor: User | None) -> None:
    still_open = ProductionException.objects.select_for_update().filter(
        work_order=work_order, resolved_at__isnull=True, kind__in=ENDED_WITH_THE_WORK
    )
    for exception in still_open:
        exception.resolved_at = at
        # Stored in English (the catalogue renders it in the reader's language), the history as a code.
        exception.resolution = str(CLOSED_WITH_WORK_ORDER_TEXT)
        stamp(exception, actor=actor, reason=message(CLOSED_WITH_WORK_ORDER))
        exception.save()


def _roll_up_order(work_order: WorkOrder) -> SalesOrder:
    # The order follows its work (production.work_orders.lifecycle): started, then completed with the last.
    return order_follow_work_of(work_order=work_order, closed_reason=message(ALL_COMPLETED))
