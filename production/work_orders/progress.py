"""What the MES reports for an operation, and how it rolls up: operation, work order, order.

The order's own transitions (in production, completed) go through orders.sales' transition door
(orders.sales.transitions) with the system actor (production.work_orders.system), which checks its
permissions like anyone's.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import Conflict, TransitionNotAllowed, ValidationFailed, publish, require, stamp
from config.kernel.events import ProgressReported
from production.inputs import decimal_input
from production.replanning import schedule_request
from production.work_orders.lifecycle import order_follow_work
from production.work_orders.models import (
    OperationStatus,
    ProgressReport,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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

    A repeated `message_id` returns the first report and changes nothing (the MES may resend). Rolls up:
    the operation starts (actual start) and, when finished, completes; the work order starts and completes
    with its last operation; the order goes to in production on its first report and to completed when
    its last work order completes (orders.sales.transitions with the system actor). A completed operation asks
    for a reschedule. Publishes ProgressReported.
    """
    existing = ProgressReport.objects.filter(message_id=message_id).first()
    if existing is not None:
        return existing, False
    pk = operation.pk if isinstance(operation, WorkOrderOperation) else operation
    op = WorkOrderOperation.objects.select_for_update(no_key=True).select_related("work_order").get(pk=pk)
    work_order = (
        WorkOrder.objects.select_for_update(no_key=True).select_related("order").get(pk=op.work_order_id)
    )
    require(actor, "production.progress_workorder", action="progress_report_create", target=work_order.number)
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
    stamp(report, actor=actor, reason=reason)
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
    stamp(op, actor=actor, reason=reason)
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
    stamp(work_order, actor=actor, reason=reason)
    work_order.save()
    _roll_up_order(work_order)
    # Subscribers see the report inside its transaction (the CRM's coalesced progress: crm_sync.progress).
    publish(
        ProgressReported(
            order=work_order.order,
            actor=actor,
            reason=reason,
            work_order_number=work_order.number,
            operation_sequence=op.sequence,
            operation_finished=operation_finished,
            progress_report_id=report.pk,
            good_quantity=good,
            scrap_quantity=scrap,
        )
    )
    if operation_finished:
        schedule_request(trigger=f"operation.completed {work_order.number}/{op.sequence}")
    return report, True


def _roll_up_order(work_order: WorkOrder) -> None:
    # The order follows its work (production.work_orders.lifecycle): started, then completed with the last.
    order_follow_work(
        order=work_order.order, work_order=work_order, closed_reason=_("All work orders completed")
    )
