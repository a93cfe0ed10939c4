"""Following an applied change request: the work orders do what the plan says, in the apply transaction.

On "order.change_applied" the work orders grow, shrink, are cancelled, created, held or resumed
(production.changes.plans), and quantities already made that become surplus or wrong are recorded as
ChangeDisposition rows with the approver's disposition (settled at once, or left open for
production.changes.dispositions when the work order waits on hold). Each thing done to a work order is
announced to the MES in a message of its own (production.changes.announce).
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from config.kernel import stamp
from config.kernel.events import OrderChangeApplied
from orders.catalog.models import Product
from orders.sales.models import OrderLine, SalesOrder
from production.changes.announce import announce_step
from production.changes.models import ChangeDisposition, DispositionKind
from production.changes.plans import Step, plan_change
from production.master_data import planned_minutes
from production.master_data.models import Routing
from production.replanning import schedule_request
from production.work_orders import event_actor, operations_create, order_follow_work_after_change
from production.work_orders.models import HOLDABLE_STATUSES, OperationStatus, WorkOrder, WorkOrderStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def follow_change_request(event: OrderChangeApplied) -> None:
    """On "order.change_applied": the work orders follow the change, in the apply transaction.

    Recomputes the plan from the locked work orders against the order as it was before the change (the
    event carries the changes; lines removed by it still exist until after the event). A hold, resume or
    cancel already moved the order's status; the work orders' own status decides their steps.
    """
    order = event.order
    actor = event_actor(event)
    number = event.change_request_number
    reason = f"{number}: {event.reason}".strip(": ") if number not in event.reason else event.reason
    disposition = event.disposition
    changes = list(event.changes)
    # Lock the order's work orders before reading them: progress reports take the same locks.
    list(WorkOrder.objects.select_for_update(no_key=True).filter(order=order).values_list("pk", flat=True))
    plan = plan_change(order=order, changes=changes)
    sequence = WorkOrder.objects.filter(order=order).count()
    lines = {line.line_no: line for line in order.lines.select_related("product")}

    def add_work_order(line_id: int, product: Product, quantity: Decimal) -> WorkOrder:
        nonlocal sequence
        sequence += 1
        return new_work_order(
            order,
            line_id=line_id,
            product=product,
            quantity=quantity,
            sequence=sequence,
            actor=actor,
            reason=reason,
        )

    added_lines = _added_lines(changes, lines)
    added_index = 0
    for step in plan.steps:
        wo = step.work_order
        if step.action == "create":
            line = step.line
            if line is None:  # a line added by this change: in the order they were added
                line = added_lines[min(added_index, len(added_lines) - 1)]
                added_index += 1
            add_work_order(line.pk, line.product, step.quantity_to)
            continue
        if wo is None:
            continue
        status_before, quantity_before = wo.status, wo.quantity
        settled = ""
        if step.action in ("grow", "shrink") and step.quantity_to > 0:
            wo.quantity = step.quantity_to
            routing_ops = {}
            routing = Routing.objects.filter(product=wo.product).first()
            if routing:
                routing_ops = {op.sequence: op for op in routing.operations.all()}
            for op in wo.operations.all():
                if op.status == OperationStatus.PENDING and op.sequence in routing_ops:
                    op.planned_minutes = planned_minutes(routing_ops[op.sequence], wo.quantity)
                    stamp(op, actor=actor, reason=reason)
                    op.save()
        elif step.action == "cancel":
            wo.cancel()
        elif step.action == "hold" and wo.status in HOLDABLE_STATUSES:
            wo.hold()
        elif step.action == "resume" and wo.status == WorkOrderStatus.ON_HOLD:
            wo.resume()
        if step.kind and step.surplus > 0:
            # A work order held pending its disposition waits for a decision; otherwise the approver's
            # pick is carried out here and now.
            settled = disposition if step.action != "hold" else ""
            _record_disposition(wo, step, number, disposition, actor, reason, settled=settled)
            if step.kind == DispositionKind.WRONG_SPEC and disposition == "scrap" and step.line is not None:
                # Scrapped parts made to the old spec are made again, to the new one.
                add_work_order(step.line.pk, step.line.product, step.surplus)
        stamp(wo, actor=actor, reason=reason)
        wo.save()
        # The MES is told what happened to this work order, one message per change (by its own id).
        announce_step(
            wo,
            status_before=status_before,
            quantity_before=quantity_before,
            settled=settled if step.kind else "",
            surplus=step.surplus,
            kind=step.kind,
            change_request_number=number,
            actor=actor,
            reason=reason,
        )
    # The work that stays now serves the new revision (progress and completion read this revision).
    for wo in (
        WorkOrder.objects.filter(order=order)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .exclude(order_revision=order.revision)
    ):
        wo.order_revision = order.revision
        stamp(wo, actor=actor, reason=reason)
        wo.save()
    schedule_request(trigger=f"{event.type} {order.number}")
    # The change may have closed the order's last open work (a line removed, a quantity cut): the order
    # follows after this transaction, in its own, so its "order.completed" comes after "change_applied".
    # robust: the change is committed whatever happens there (a lost follow-up waits for the next event).
    transaction.on_commit(
        partial(order_follow_work_after_change, order_id=order.pk, change_request_number=number), robust=True
    )


def _added_lines(changes: list[Any], lines: dict[int, OrderLine]) -> list[OrderLine]:
    """The lines this change added: the highest line numbers, one per add_line change."""
    count = sum(1 for change in changes if change["op"] == "add_line")
    if not count:
        return []
    return [lines[no] for no in sorted(lines)[-count:]]


def _record_disposition(
    wo: WorkOrder,
    step: Step,
    number: str,
    disposition: str,
    actor: User | None,
    reason: str,
    *,
    settled: str = "",
) -> None:
    operations = list(wo.operations.all())
    if step.kind == DispositionKind.WRONG_SPEC:
        # Per operation that ran under the old spec.
        for op in operations:
            quantity = op.good_quantity + op.rework_quantity
            if op.status == OperationStatus.PENDING or quantity <= 0:
                continue
            row = ChangeDisposition(
                work_order=wo,
                operation=op,
                change_request_number=number,
                kind=step.kind,
                quantity=quantity,
                disposition=disposition,
            )
            _settle_at_apply(row, settled, actor, reason)
            stamp(row, actor=actor, reason=reason)
            row.save()
        return
    row = ChangeDisposition(
        work_order=wo,
        change_request_number=number,
        kind=step.kind,
        quantity=step.surplus,
        disposition=disposition,
    )
    _settle_at_apply(row, settled, actor, reason)
    stamp(row, actor=actor, reason=reason)
    row.save()


def _settle_at_apply(row: ChangeDisposition, settled: str, actor: User | None, reason: str) -> None:
    if settled:
        row.decision, row.decided_at, row.decided_by, row.decision_reason = (
            settled,
            timezone.now(),
            actor,
            reason,
        )


def new_work_order(
    order: SalesOrder,
    *,
    line_id: int,
    product: Product,
    quantity: Decimal,
    sequence: int,
    actor: User | None,
    reason: str,
) -> WorkOrder:
    """A work order a change adds to an order line, with the operations of the product's active routing."""
    routing = Routing.objects.filter(product=product, is_active=True).first()
    operations = list(routing.operations.select_related("work_center")) if routing else []
    work_order = WorkOrder(
        number=f"{order.number}-{sequence:02d}",
        order=order,
        order_line_id=line_id,
        order_revision=order.revision,
        product=product,
        quantity=quantity,
        routing_missing=not operations,
    )
    stamp(work_order, actor=actor, reason=reason)
    work_order.save()
    operations_create(work_order=work_order, operations=operations, actor=actor, reason=reason)
    return work_order
