"""The order's status follows its work orders: started with the first, completed with the last.

- `order_work`: the order's work orders as orders.providers.OrderWork (registered in ProductionConfig.ready):
  the order's transition door asks it whether starting or completing the order is earned by the work or
  is a production manager's override (orders.sales.overrides).
- `order_follow_work`: after a work order started, completed or was closed by a decision (a disposition, a
  planner's cancel): a released order whose work started goes to in production; an order whose work
  orders of its current revision are all closed, one of them completed, is completed. Both through the
  order's one transition door, as the system actor (production.work_orders.system), with the reason.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy

from config.kernel import Message, define, message
from orders import sales as order_services
from orders.models import OrderStatus, SalesOrder
from orders.providers import OrderWork, WorkOrderState
from production.work_orders.models import CLOSED_STATUSES, WorkOrder, WorkOrderStatus
from production.work_orders.system import system_actor

# The order's history in the reader's language: what the follow-up writes is stored as codes.
STARTED = define("production.order_started", gettext_lazy("Production started"))
STARTED_BY = define("production.order_started_by", gettext_lazy("Production started (work order %(number)s)"))
CLOSED_BY_CHANGE = define(
    "production.closed_by_change", gettext_lazy("All work orders closed (change request %(number)s)")
)
ALL_COMPLETED = define("production.all_completed", gettext_lazy("All work orders completed"))
CLOSED_CANCELLED = define(
    "production.closed_cancelled", gettext_lazy("All work orders closed (%(number)s cancelled)")
)

# Orders whose work may still start or finish them (an order on hold resumes first).
FOLLOWING_STATUSES = (OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION)
STARTED_STATUSES = (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED)


def order_work(order: SalesOrder) -> OrderWork:
    """The work orders of the order's current revision (one query), in number order."""
    rows = (
        WorkOrder.objects.filter(order=order, order_revision=order.revision)
        .select_related("product")
        .order_by("number")
    )
    return OrderWork(
        tuple(
            WorkOrderState(
                number=work_order.number,
                product=work_order.product.sku,
                done=work_order.good_quantity,
                planned=work_order.quantity,
                status=work_order.status,
                status_label=str(work_order.get_status_display()),
                # A held work order that had run counts as started: its percentage says so.
                started=work_order.status in STARTED_STATUSES
                or work_order.good_quantity > 0
                or work_order.percent_complete > 0,
                closed=work_order.status in CLOSED_STATUSES,
                completed=work_order.status == WorkOrderStatus.COMPLETED,
            )
            for work_order in rows
        )
    )


def order_follow_work(
    *, order: SalesOrder, work_order: WorkOrder | None, closed_reason: str | Message
) -> SalesOrder:
    """Move `order` as its work earns it, after `work_order` moved (the caller holds the work order's lock).

    `closed_reason`: the history's reason when the order completes ("All work orders completed").
    Returns the order as it now is; does nothing when the work earns nothing new.
    """
    if order.status not in FOLLOWING_STATUSES:
        return order
    work = order_work(order)
    if order.status == OrderStatus.RELEASED and work.started:
        order = order_services.order_start_production(
            actor=system_actor(),
            order=order,
            reason=message(STARTED_BY, number=work_order.number)
            if work_order is not None
            else message(STARTED),
        )
    if work.finished:
        order = order_services.order_complete(actor=system_actor(), order=order, reason=closed_reason)
    return order


def order_follow_work_of(*, work_order: WorkOrder, closed_reason: str | Message) -> SalesOrder:
    """order_follow_work for the order of `work_order` (whose lock the caller holds), read afresh under the
    order's own lock: reports on the order's other work orders run in parallel, so a copy read before may
    be stale (two first reports would both try to start it)."""
    order = SalesOrder.objects.select_for_update(no_key=True, of=("self",)).get(pk=work_order.order_id)
    return order_follow_work(order=order, work_order=work_order, closed_reason=closed_reason)


def order_follow_work_after_change(*, order_id: int, change_request_number: str) -> None:
    """After a change request's transaction has committed: the order follows what the change left of its
    work (a removed line or a cut quantity may have closed its last open work order).

    A transaction of its own, after the change's: the CRM and the MES get "order.change_applied" first, then
    "order.completed", in that order. Does nothing when the work earns nothing new.
    """
    with transaction.atomic():
        order = SalesOrder.objects.select_for_update(no_key=True, of=("self",)).get(pk=order_id)
        order_follow_work(
            order=order,
            work_order=None,
            closed_reason=message(CLOSED_BY_CHANGE, number=change_request_number),
        )
