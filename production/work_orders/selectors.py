"""Reads of work orders, their shop-floor records and the dispositions changes left on them; each selector
owns its joins."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from django.db.models import Model, Prefetch, QuerySet

from config.kernel import Actor
from orders.models import SalesOrder
from orders.sales import visible_to
from production.changes.models import HOLDING_KINDS, ChangeDisposition
from production.master_data import floor_work_center_ids
from production.work_orders.models import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)

RecordT = TypeVar("RecordT", bound=Model)

# How each production record reaches its order. Production data follows the one visibility rule of orders
# (orders.sales.visible_to): whoever may not see an order sees none of the work done for it.
ORDER_PATHS: dict[type[Model], str] = {
    WorkOrder: "order",
    WorkOrderOperation: "work_order__order",
    Lot: "work_order__order",
    QualityInspection: "lot__work_order__order",
    ProgressReport: "operation__work_order__order",
    ProductionException: "work_order__order",
    ChangeDisposition: "work_order__order",
}


def records_visible_to(queryset: QuerySet[RecordT], *, user: Actor) -> QuerySet[RecordT]:
    """The production records of `queryset` (any model of ORDER_PATHS) that `user` may see: those of the
    orders they may see; an exception raised on a work center alone (no work order) concerns no order and
    stays visible to whoever sees production."""
    return visible_to(
        queryset,
        user=user,
        through=ORDER_PATHS[queryset.model],
        or_no_order=queryset.model is ProductionException,
    )


def work_orders() -> QuerySet[WorkOrder]:
    return WorkOrder.objects.select_related("order__customer", "product").prefetch_related(
        Prefetch("operations", queryset=WorkOrderOperation.objects.select_related("work_center")),
        "lots__inspections",
    )


def open_dispositions() -> QuerySet[ChangeDisposition]:
    """Dispositions nobody has decided yet, oldest first: the planners' worklist (partial index)."""
    return (
        ChangeDisposition.objects.filter(decided_at__isnull=True)
        .select_related("work_order__order__customer", "work_order__product", "operation")
        .order_by("created_at", "pk")
    )


def work_orders_pending_disposition(*, work_order_ids: list[int] | None = None) -> set[int]:
    """Ids of work orders a change holds pending an open disposition (resume is not the way out for them)."""
    rows = ChangeDisposition.objects.filter(
        decided_at__isnull=True, kind__in=HOLDING_KINDS, work_order__status=WorkOrderStatus.ON_HOLD
    )
    if work_order_ids is not None:
        rows = rows.filter(work_order_id__in=work_order_ids)
    return set(rows.values_list("work_order_id", flat=True))


def change_disposition(*, pk: int) -> ChangeDisposition:
    return ChangeDisposition.objects.select_related("work_order__order", "operation", "decided_by").get(pk=pk)


def open_exceptions() -> QuerySet[ProductionException]:
    return ProductionException.objects.filter(resolved_at__isnull=True).select_related(
        "work_center", "work_order", "raised_by"
    )


def order_progress(*, order: SalesOrder) -> Decimal:
    """Percent complete of an order: its live work orders' percentages weighted by quantity."""
    rows = list(
        WorkOrder.objects.filter(order=order, order_revision=order.revision)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .values_list("quantity", "percent_complete")
    )
    total = sum(quantity for quantity, _ in rows)
    if not total:
        return Decimal(0)
    return (sum(quantity * percent for quantity, percent in rows) / total).quantize(Decimal("0.01"))


def order_work_orders(*, order: SalesOrder) -> list[WorkOrder]:
    """An order's work orders for its page: operations, lots with their inspections, open exceptions."""
    return list(
        WorkOrder.objects.filter(order=order)
        .select_related("product")
        .prefetch_related(
            Prefetch(
                "operations",
                queryset=WorkOrderOperation.objects.select_related("work_center").order_by("sequence"),
            ),
            Prefetch(
                "lots",
                queryset=Lot.objects.order_by("produced_at").prefetch_related(
                    Prefetch(
                        "inspections",
                        queryset=QualityInspection.objects.select_related("inspector").order_by(
                            "inspected_at"
                        ),
                    )
                ),
            ),
            Prefetch(
                "exceptions",
                queryset=ProductionException.objects.filter(resolved_at__isnull=True).order_by("raised_at"),
                to_attr="open_exceptions",
            ),
        )
        .order_by("order_revision", "number")
    )


def work_order_on_floor(work_order: WorkOrder) -> bool:
    """Whether the work order is reported on OrderBridge's own floor (its first operation's work center
    belongs to a plant in floor mode, production.master_data.plants), not by an MES."""
    first = (
        WorkOrderOperation.objects.filter(work_order=work_order)
        .order_by("sequence")
        .values_list("work_center_id", flat=True)
        .first()
    )
    return first is not None and first in floor_work_center_ids([first])
