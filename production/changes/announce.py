"""What the MES is told when a change reaches work under way: one work-order event per thing that happened
to one work order (its quantity, its status, the disposition of what was made, a rework request).

Called after the work order is saved, in the transaction that changed it; the outbox turns each event into
one message that the MES acknowledges (crm_sync.outbox).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings

from config.kernel.events import (
    WorkOrderCancelled,
    WorkOrderDispositionDecided,
    WorkOrderEvent,
    WorkOrderHeld,
    WorkOrderQuantityChanged,
    WorkOrderResumed,
    WorkOrderReworkRequested,
)
from orders.change_requests.models import Disposition
from production.changes.models import ChangeDisposition
from production.changes.plans import quantity_text
from production.work_orders import work_order_announce
from production.work_orders.models import OperationStatus, WorkOrder, WorkOrderStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A work order's new status and the event that tells the MES.
STATUS_EVENTS: dict[str, type[WorkOrderEvent]] = {
    WorkOrderStatus.CANCELLED: WorkOrderCancelled,
    WorkOrderStatus.ON_HOLD: WorkOrderHeld,
}


def announce_step(
    work_order: WorkOrder,
    *,
    status_before: str,
    quantity_before: Decimal,
    settled: str,
    surplus: Decimal,
    kind: str,
    change_request_number: str,
    actor: User | None,
    reason: str,
) -> None:
    """The messages for what one step of an applied change did to one work order.

    `settled`: the disposition carried out now for `surplus` made units of `kind` (empty: none, or left open
    pending a decision while the work order waits on hold).
    """
    number = change_request_number
    if work_order.quantity != quantity_before and work_order.status != WorkOrderStatus.CANCELLED:
        work_order_announce(
            WorkOrderQuantityChanged,
            work_order=work_order,
            actor=actor,
            reason=reason,
            change_request_number=number,
            quantity_from=quantity_text(quantity_before),
            quantity_to=quantity_text(work_order.quantity),
        )
    if work_order.status != status_before:
        event_class = STATUS_EVENTS.get(work_order.status)
        if event_class is None and status_before == WorkOrderStatus.ON_HOLD:
            event_class = WorkOrderResumed
        if event_class is not None:
            work_order_announce(
                event_class, work_order=work_order, actor=actor, reason=reason, change_request_number=number
            )
    if settled and surplus > 0:
        announce_disposition(
            work_order,
            decision=settled,
            quantity=surplus,
            kind=kind,
            change_request_number=number,
            actor=actor,
            reason=reason,
        )


def announce_disposition(
    work_order: WorkOrder,
    *,
    decision: str,
    quantity: Decimal,
    kind: str,
    change_request_number: str,
    actor: User | None,
    reason: str,
) -> None:
    """To stock or scrap: one disposition message; rework: a rework request (a new request to the MES)."""
    if decision == Disposition.REWORK:
        rework_request(
            work_order,
            quantity=quantity,
            change_request_number=change_request_number,
            actor=actor,
            reason=reason,
        )
        return
    work_order_announce(
        WorkOrderDispositionDecided,
        work_order=work_order,
        actor=actor,
        reason=reason,
        change_request_number=change_request_number,
        disposition=decision,
        disposition_quantity=quantity_text(quantity),
        disposition_kind=kind,
    )


def rework_rounds(*, work_order_id: int, excluding: str = "") -> int:
    """How many change requests had the work order's made parts reworked (one round each)."""
    rows = ChangeDisposition.objects.filter(work_order_id=work_order_id, decision=Disposition.REWORK)
    if excluding:
        rows = rows.exclude(change_request_number=excluding)
    return rows.values("change_request_number").distinct().count()


def rework_request(
    work_order: WorkOrder,
    *,
    quantity: Decimal,
    change_request_number: str,
    actor: User | None,
    reason: str,
) -> None:
    """Ask the MES to rework what a work order made to an old spec: a new request that names the work order
    and its lot, the operations from the re-entry point (the first that ran under the old spec) on, the
    reason, this round and the most rounds allowed (settings.MES_REWORK_MAX_ROUNDS).

    The round counts the change requests whose disposition for this work order was rework (this one
    included: its rows are saved before).
    """
    operations = list(work_order.operations.order_by("sequence"))
    if not operations:
        return  # nothing to redo on the floor: the work order has no routing
    ran = [op for op in operations if op.status != OperationStatus.PENDING]
    reentry = (ran[0] if ran else operations[0]).sequence
    rework_round = max(rework_rounds(work_order_id=work_order.pk), 1)
    lot = work_order.lots.order_by("-produced_at").values_list("number", flat=True).first()
    work_order_announce(
        WorkOrderReworkRequested,
        work_order=work_order,
        actor=actor,
        reason=reason,
        change_request_number=change_request_number,
        rework_number=f"{work_order.number}-RW{rework_round}",
        quantity=quantity_text(quantity),
        lot=lot,
        reentry_operation=reentry,
        operations=[op.sequence for op in operations if op.sequence >= reentry],
        rework_round=rework_round,
        max_rework_rounds=settings.MES_REWORK_MAX_ROUNDS,
    )
