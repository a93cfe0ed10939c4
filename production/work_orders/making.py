"""Making work orders: from a released order's lines (one per lot of the routing's lot size), and giving
work orders that waited for a routing its operations once it exists.

Whenever work orders are made for an order, production announces them: `WorkOrdersCreated` (config.kernel)
carries them as made, each with its operations as `operations_made`, to whoever needs them in the same
transaction (the outbox puts them into the event that caused them) — nobody reads back what was just
written, and nobody reads it off the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from config.kernel import ValidationFailed, publish, stamp
from config.kernel.events import WorkOrdersCreated
from config.kernel.quantities import quantize
from orders.sales import current_lines
from production.master_data import Operation, Routing, WorkCenter, active_routings, planned_minutes
from production.work_orders.models import (
    HOLDABLE_STATUSES,
    OperationStatus,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import SalesOrder
    from production.work_orders.models import MadeWorkOrder


def split_quantity(quantity: Decimal, lot_size: Decimal | None) -> list[Decimal]:
    """Lots of at most `lot_size`, the remainder last: 250 by 100 → 100, 100, 50.

    The one lot-splitting rule of production: a release and a change request split alike. A quantity of
    zero or less has no lots: ValidationFailed.
    """
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


def operations_create(
    *, work_order: WorkOrder, operations: Sequence[Operation], actor: User | None, reason: str
) -> list[WorkOrderOperation]:
    """The work order's operations, copied from routing `operations` in sequence order (one bulk write with
    history); their planned minutes are the standard time of the work order's quantity."""
    made = [
        WorkOrderOperation(
            work_order=work_order,
            sequence=operation.sequence,
            name=operation.name,
            name_zh=operation.name_zh,
            work_center=operation.work_center,
            planned_minutes=planned_minutes(operation, work_order.quantity),
        )
        for operation in sorted(operations, key=lambda operation: operation.sequence)
    ]
    bulk_create_with_history(made, WorkOrderOperation, default_user=actor, default_change_reason=reason)
    return made


def work_orders_create_for_order(
    *, order: SalesOrder, actor: User | None, reason: str = ""
) -> Sequence[MadeWorkOrder]:
    """Make the work orders of a released order: per line, one per lot (the routing's lot size).

    Runs inside the release's transaction. Idempotent per order revision. Decision on a product without
    a routing: the release goes on (the order is the customer's, the routing is the plant's master data),
    the work order is made with `routing_missing` set and no operations, the plan lists it as not
    schedulable and its order at risk, and creating the routing later gives it its operations.

    Publishes WorkOrdersCreated with the work orders made (in number order, operations in sequence order
    as `operations_made`, their work centers, products and order lines loaded).
    """
    # One read for both "already made for this revision?" and the next work order number.
    revisions = list(order.work_orders.values_list("order_revision", flat=True))
    if order.revision in revisions:
        return []
    # The lines the release loaded (and locked with the order) when it has them; only ids are needed.
    lines = current_lines(order)
    routings = active_routings(product_ids={line.product_id for line in lines})
    reason = reason or _("Order %(number)s released") % {"number": order.number}
    sequence = len(revisions)
    created: list[MadeWorkOrder] = []
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
                product=line.product,  # loaded with the line: what the announcement's readers need
                # As the column holds it (3 places), so the announced object reads like a fresh one.
                quantity=quantize(quantity),
                routing_missing=not operations,
            )
            stamp(work_order, actor=actor, reason=reason)
            work_order.save()
            made = cast("MadeWorkOrder", work_order)  # it is about to carry its operations
            made.operations_made = operations_create(
                work_order=work_order, operations=operations, actor=actor, reason=reason
            )
            created.append(made)
    if created:
        publish(
            WorkOrdersCreated(
                order=order, actor=actor, reason=reason, revision=order.revision, work_orders=created
            )
        )
    return created


def work_orders_take_routing(routing: Routing, actor: User | None, reason: str) -> None:
    """Work orders of the routing's product made without a routing (still planned or held) get its
    operations. Called by master_data's routing_create, in its transaction."""
    waiting = WorkOrder.objects.filter(
        product=routing.product_id,
        routing_missing=True,
        status__in=[WorkOrderStatus.PLANNED, WorkOrderStatus.ON_HOLD],
    )
    for work_order in waiting.select_for_update(no_key=True):
        operations = list(routing.operations.select_related("work_center"))
        operations_create(work_order=work_order, operations=operations, actor=actor, reason=reason)
        work_order.routing_missing = False
        stamp(work_order, actor=actor, reason=reason)
        work_order.save()


def open_operations(work_center: WorkCenter) -> int:
    """Operations not yet finished, of work orders still open (or held), planned on `work_center`."""
    return WorkOrderOperation.objects.filter(
        work_center=work_center,
        status__in=[OperationStatus.PENDING, OperationStatus.STARTED],
        work_order__status__in=[*HOLDABLE_STATUSES, WorkOrderStatus.ON_HOLD],
    ).count()
