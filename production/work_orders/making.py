"""Making work orders: from a released order's lines (one per lot of the routing's lot size), and giving
work orders that waited for a routing its operations once it exists.

Whenever work orders are made for an order, production announces them: `WorkOrdersCreated` (config.kernel)
carries them as made, each with its operations as `operations_made`, to whoever needs them in the same
transaction (the outbox puts them into the event that caused them) — nobody reads back what was just
written, and nobody reads it off the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.db import transaction
from django.utils.translation import gettext as _

from config.history import bulk_history_copy
from config.kernel import ValidationFailed, publish_many, stamp
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
        _operation(work_order, operation, actor=actor, reason=reason)
        for operation in sorted(operations, key=_by_sequence)
    ]
    with transaction.atomic(savepoint=False):  # the rows and their history together, as before
        WorkOrderOperation.objects.bulk_create(made)
        bulk_history_copy(WorkOrderOperation, made, default_user=actor, default_change_reason=reason)
    return made


@dataclass(frozen=True)
class Release:
    """A released order whose work orders are to be made, by whom and why (the history rows')."""

    order: SalesOrder
    actor: User | None
    reason: str = ""


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
    [made] = work_orders_create_for_orders([Release(order=order, actor=actor, reason=reason)])
    return made


def work_orders_create_for_orders(releases: Sequence[Release]) -> list[Sequence[MadeWorkOrder]]:
    """work_orders_create_for_order for each release (the work orders made, per release), written together:
    one read of the orders' work orders, then the work orders, their history rows, their operations and the
    operations' history rows in one statement each, whatever the number of orders. Each order's
    WorkOrdersCreated is published, in the releases' order, once all are written."""
    order_ids = [release.order.pk for release in releases]
    # One read for both "already made for this revision?" and each order's next work order number.
    revisions: dict[int, list[int]] = {order_id: [] for order_id in order_ids}
    for order_id, revision in WorkOrder.objects.filter(order_id__in=order_ids).values_list(
        "order_id", "order_revision"
    ):
        revisions[order_id].append(revision)
    # The lines each release loaded (and locked with its order) when it has them; only ids are needed.
    lines_of = {release.order.pk: current_lines(release.order) for release in releases}
    routings = active_routings(product_ids={line.product_id for lines in lines_of.values() for line in lines})
    made_of: list[list[MadeWorkOrder]] = []
    reasons: list[str] = []
    routing_operations: dict[int, list[Operation]] = {}
    for release in releases:
        order = release.order
        made: list[MadeWorkOrder] = []
        made_of.append(made)
        reason = release.reason or _("Order %(number)s released") % {"number": order.number}
        reasons.append(reason)
        if order.revision in revisions[order.pk]:
            continue
        sequence = len(revisions[order.pk])
        for line in lines_of[order.pk]:
            routing = routings.get(line.product_id)
            operations = routing_operations.get(line.product_id)
            if operations is None:
                ordered = sorted(routing.operations.all(), key=_by_sequence) if routing else []
                operations = routing_operations[line.product_id] = ordered
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
                stamp(work_order, actor=release.actor, reason=reason)
                made_work_order = cast("MadeWorkOrder", work_order)  # it is about to carry its operations
                made_work_order.operations_made = [
                    _operation(work_order, operation, actor=release.actor, reason=reason)
                    for operation in operations
                ]
                made.append(made_work_order)
    work_orders = [work_order for made in made_of for work_order in made]
    if not work_orders:
        return list(made_of)
    # Each row's actor and reason are its own (stamped): the defaults are never used.
    WorkOrder.objects.bulk_create(work_orders)
    bulk_history_copy(WorkOrder, work_orders, default_change_reason=None)
    made_operations = []
    for work_order in work_orders:
        for made_operation in work_order.operations_made:
            made_operation.work_order = work_order  # now with its id
            made_operations.append(made_operation)
    if made_operations:
        WorkOrderOperation.objects.bulk_create(made_operations)
        bulk_history_copy(WorkOrderOperation, made_operations, default_change_reason=None)
    # Together: a subscriber's batch form reads what it needs for all of them at once.
    publish_many(
        [
            WorkOrdersCreated(
                order=release.order,
                actor=release.actor,
                reason=reason,
                revision=release.order.revision,
                work_orders=made,
            )
            for release, made, reason in zip(releases, made_of, reasons, strict=True)
            if made
        ]
    )
    return list(made_of)


def _by_sequence(operation: Operation) -> int:
    return operation.sequence


def _operation(
    work_order: WorkOrder, operation: Operation, *, actor: User | None, reason: str
) -> WorkOrderOperation:
    """A work order's copy of a routing operation (unsaved, stamped); its planned minutes are the standard
    time of the work order's quantity."""
    made = WorkOrderOperation(
        work_order=work_order,
        sequence=operation.sequence,
        name=operation.name,
        name_zh=operation.name_zh,
        work_center=operation.work_center,
        planned_minutes=planned_minutes(operation, work_order.quantity),
    )
    stamp(made, actor=actor, reason=reason)
    return made


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
