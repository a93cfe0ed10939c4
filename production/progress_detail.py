"""Where production of one order stands, as data for other systems: percent complete, each work order's
operations with their quantities against the quantity planned, and the current plan's projection against
the promise.

crm_sync builds the CRM's coalesced progress event (order.progress) from it when the event is written, so
the event always carries the state of that moment, whatever reports came in since the last one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Prefetch
from django.utils import timezone

from production.scheduling import order_projection
from production.work_orders import WorkOrder, WorkOrderOperation, WorkOrderStatus

if TYPE_CHECKING:
    from orders.models import SalesOrder


class OperationProgress(TypedDict):
    sequence: int
    name: str
    work_center: str
    status: str
    planned_quantity: str
    good_quantity: str
    scrap_quantity: str
    rework_quantity: str
    actual_start: str | None
    actual_end: str | None


class WorkOrderProgress(TypedDict):
    number: str
    line_no: int | None
    sku: str
    status: str
    quantity: str
    good_quantity: str
    percent_complete: str
    operations: list[OperationProgress]


@dataclass(frozen=True)
class ProgressDetail:
    percent_complete: Decimal
    work_orders: list[WorkOrderProgress]
    projected_completion: dt.datetime | None
    # The projection's day in the plant's time zone, and how it compares with the promised date.
    projected_date: dt.date | None
    on_time: bool | None
    late_days: int


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def order_progress_detail(*, order: SalesOrder) -> ProgressDetail:
    """The order's progress now, in three queries (work orders, their operations, the projection).

    Work orders of the order's current revision; a cancelled one is listed (its status says so) but does not
    count towards the percentage, which weighs the others' percentages by their quantity (as
    production.work_orders.order_progress does).
    """
    operations = WorkOrderOperation.objects.select_related("work_center").order_by("sequence")
    work_orders = list(
        WorkOrder.objects.filter(order_id=order.pk, order_revision=order.revision)
        .select_related("product", "order_line")
        .prefetch_related(Prefetch("operations", queryset=operations))
        .order_by("number")
    )
    live = [wo for wo in work_orders if wo.status != WorkOrderStatus.CANCELLED]
    total = sum((wo.quantity for wo in live), Decimal(0))
    weighted = sum((wo.quantity * wo.percent_complete for wo in live), Decimal(0))
    percent = (weighted / total).quantize(Decimal("0.01")) if total else Decimal(0)

    projection = order_projection(order=order)
    projected = projection.projected_completion if projection is not None else None
    projected_day = timezone.localdate(projected) if projected is not None else None
    on_time: bool | None = None
    late_days = 0
    if projected_day is not None and order.promised_date is not None:
        late_days = max(0, (projected_day - order.promised_date).days)
        on_time = late_days == 0
    return ProgressDetail(
        percent_complete=percent,
        work_orders=[
            {
                "number": wo.number,
                "line_no": wo.order_line.line_no if wo.order_line else None,
                "sku": wo.product.sku,
                "status": wo.status,
                "quantity": str(wo.quantity),
                "good_quantity": str(wo.good_quantity),
                "percent_complete": str(wo.percent_complete),
                "operations": [
                    {
                        "sequence": op.sequence,
                        "name": op.name,
                        "work_center": op.work_center.code,
                        "status": op.status,
                        # Every operation of a work order is planned for the work order's quantity.
                        "planned_quantity": str(wo.quantity),
                        "good_quantity": str(op.good_quantity),
                        "scrap_quantity": str(op.scrap_quantity),
                        "rework_quantity": str(op.rework_quantity),
                        "actual_start": _iso(op.actual_start),
                        "actual_end": _iso(op.actual_end),
                    }
                    for op in wo.operations.all()
                ],
            }
            for wo in work_orders
        ],
        projected_completion=projected,
        projected_date=projected_day,
        on_time=on_time,
        late_days=late_days,
    )
