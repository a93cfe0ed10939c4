"""The work orders an integration event carries for the MES, and production's hand-off of them.

production announces the work orders it makes for an order (`WorkOrdersCreated`) inside the transaction that
makes them; the outbox row of the event that caused them (a release; an applied change or a decided
disposition that makes new ones) is written in the same transaction by another subscriber. Which of the two
runs first is the bus's subscriber order, and must not matter:

- announced first: a release's row takes the announced work orders as made (nothing is read back: they
  are all the work orders of that revision, a release makes them only once);
- row first: the row is written with what the database holds then, and completed when the announcement
  comes (one UPDATE), with what it would have held had it come second.

Rows of the other events that carry work orders (applied change, decided disposition, resync) read the
order's current work orders, as they do when written after production's handler.

The two sides meet in `_pending`, keyed by (order id, revision); a release announces its work orders once
per revision, so an entry lives until the commit, which clears them all. An entry is used only with the
order object it was made for: each transaction loads and locks its order afresh, so what a rolled-back
transaction left (no commit clears it; the next commit that uses the hand-off in this thread or Celery
worker process does) is never taken.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from django.db import transaction
from django.db.models import Prefetch

from config.kernel.events import (
    OrderEvent,
    OrderReleased,
    OrderTransitioned,
    WorkOrderDispositionDecided,
    WorkOrderEvent,
    WorkOrderQuantityChanged,
    WorkOrderReworkRequested,
    WorkOrdersCreated,
)
from crm_sync.models import OutboxEvent
from production.master_data import floor_work_center_ids
from production.supply_planning import OperationMaterial, operation_materials
from production.work_orders import (
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
    order_follow_up,
)

if TYPE_CHECKING:
    from orders.models import SalesOrder
    from production.work_orders.models import MadeWorkOrder

# Events after which the MES needs the order's work orders (B2MML: one OperationsRequest per work order).
# A decided disposition completes or cancels a work order held pending it, or makes a new one.
WORK_ORDER_EVENTS = {
    "order.released",
    # The MES is told about the order's hold, resume and cancel by its work orders' own ids.
    "order.held",
    "order.resumed",
    "order.cancelled",
    "order.change_applied",
    "order.resync",
    "production.disposition_decided",
}


class OperationPayload(TypedDict):
    sequence: int
    mes_id: str
    name: str
    work_center: str
    planned_minutes: int
    # The components the operation consumes (production.supply_planning): MaterialRequirements for the MES.
    materials: NotRequired[list[OperationMaterial]]


class WorkOrderPayload(TypedDict):
    number: str
    mes_id: str
    line_no: int | None
    sku: str
    quantity: str
    status: str
    operations: list[OperationPayload]
    # What a work-order event changes (config.kernel.events.WorkOrderEvent): {"kind": "quantity_changed", …}.
    change: NotRequired[dict[str, Any]]


@dataclass
class _Pending:
    order: SalesOrder
    # Announced in this transaction (a release's row written later takes them as made).
    work_orders: Sequence[MadeWorkOrder] | None = None
    # Rows written before the announcement, to complete when it comes.
    rows: list[OutboxEvent] = field(default_factory=list)


_pending: ContextVar[dict[tuple[int, int], _Pending] | None] = ContextVar(
    "crm_sync_work_orders_pending", default=None
)


def _found(order: SalesOrder) -> _Pending | None:
    """This transaction's entry for the order, if any (one left with another order object is not ours:
    a rolled-back transaction's)."""
    entry = (_pending.get() or {}).get((order.pk, order.revision))
    return entry if entry is not None and entry.order is order else None


def _entry(order: SalesOrder) -> _Pending:
    entry = _found(order)
    if entry is None:
        pending = _pending.get()
        if pending is None:
            pending = {}
            _pending.set(pending)
        entry = pending[(order.pk, order.revision)] = _Pending(order=order)
        transaction.on_commit(_forget)
    return entry


def _forget() -> None:
    _pending.set(None)


def event_data(event: OrderEvent) -> dict[str, Any]:
    """The event's data, plus the order's work orders and their operations where the MES needs them (a
    work-order event: the one work order, with what changed)."""
    if isinstance(event, WorkOrderEvent):
        return {**event.data, "work_orders": [_changed(event)]}
    if event.type not in WORK_ORDER_EVENTS or "work_orders" in event.data:
        return event.data
    entry = _found(event.order)
    if isinstance(event, OrderReleased) and entry is not None and entry.work_orders is not None:
        # Made by this release just now, announced before this row: taken as made.
        work_orders = entry.work_orders
    else:
        work_orders = _read(event.order)
    payload = _payload(work_orders)
    if isinstance(event, OrderTransitioned) and event.change_request_id is None:
        _as_followed(event, work_orders, payload)
    return {**event.data, "work_orders": payload}


def _as_followed(event: OrderTransitioned, work_orders: Sequence[MadeWorkOrder], payload: list) -> None:
    """An order's own hold, resume or cancel: its work orders as production's follow-up leaves them (the
    same rule, production.work_orders.order_follow_up), whether this row is written before or after it ran."""
    follow_up = order_follow_up(event, work_orders)
    if follow_up is None:
        return
    moved = {work_order.number for work_order in follow_up.work_orders}
    for item in payload:
        if item["number"] in moved:
            item["status"] = follow_up.status


def _changed(event: WorkOrderEvent) -> WorkOrderPayload:
    """The work order a work-order event names, as the MES knows it, with what changed (a rework request:
    the new request for the MES, naming the work order it reworks)."""
    operations = WorkOrderOperation.objects.select_related("work_center").order_by("sequence")
    work_order = (
        WorkOrder.objects.filter(number=event.work_order_number)
        .select_related("product", "order_line")
        .prefetch_related(Prefetch("operations", queryset=operations, to_attr="operations_made"))
        .get()
    )
    item = _payload([work_order], floor_too=True)[0]
    change: dict[str, Any] = {
        "kind": event.name.removeprefix("work_order."),
        "change_request": event.change_request_number,
        "reason": (event.reason or "")[:200] or None,
    }
    if isinstance(event, WorkOrderQuantityChanged):
        change.update(quantity_from=event.quantity_from, quantity_to=event.quantity_to)
    elif isinstance(event, WorkOrderDispositionDecided):
        change.update(
            disposition=event.disposition,
            disposition_quantity=event.disposition_quantity,
            disposition_kind=event.disposition_kind,
        )
    elif isinstance(event, WorkOrderReworkRequested):
        change.update(
            rework_of=work_order.number,
            rework_of_mes_id=work_order.mes_id or None,
            lot=event.lot,
            reentry_operation=event.reentry_operation,
            rework_round=event.rework_round,
            max_rework_rounds=event.max_rework_rounds,
        )
        redo = set(event.operations)
        item = {
            **item,
            "number": event.rework_number,
            "mes_id": "",
            "quantity": event.quantity,
            "status": WorkOrderStatus.PLANNED,
            "operations": [
                {**operation, "mes_id": ""}
                for operation in item["operations"]
                if operation["sequence"] in redo
            ],
        }
    item["change"] = change
    return item


def rows_written(rows: Sequence[tuple[OutboxEvent, OrderEvent]]) -> None:
    """After the rows are saved: those that carry work orders, written before the order's work orders were
    announced in this transaction, are completed when they are (the row came first)."""
    for row, event in rows:
        if event.type in WORK_ORDER_EVENTS and "work_orders" not in event.data:
            entry = _entry(event.order)
            if entry.work_orders is None:
                entry.rows.append(row)


def on_work_orders_created(event: WorkOrdersCreated) -> None:
    """Subscriber of WorkOrdersCreated: complete the rows already written for them, or keep them for the
    release's row to come."""
    entry = _entry(event.order)
    entry.work_orders = event.work_orders
    for row in entry.rows:
        if row.type == OrderReleased.name:
            work_orders: Sequence[MadeWorkOrder] = event.work_orders
        else:
            work_orders = _read(event.order)
        row.data = {**row.data, "work_orders": _payload(work_orders)}
        OutboxEvent.objects.filter(pk=row.pk).update(data=row.data)
    entry.rows.clear()


def _read(order: SalesOrder) -> Sequence[MadeWorkOrder]:
    """The order's work orders as the MES gets them (two queries): those of its current revision and the
    cancelled ones of earlier revisions, so that the MES is told a work order is cancelled rather than left
    guessing why it is no longer named (a change moves every other work order to the new revision)."""
    operations = WorkOrderOperation.objects.select_related("work_center").order_by("sequence")
    return list(
        WorkOrder.objects.filter(order_id=order.pk)
        .select_related("product", "order_line")
        .prefetch_related(Prefetch("operations", queryset=operations, to_attr="operations_made"))
        .order_by("number")
    )


def _payload(work_orders: Sequence[MadeWorkOrder], *, floor_too: bool = False) -> list[WorkOrderPayload]:
    """The work orders as the MES gets them, each operation with the materials it consumes. Those whose first
    operation's work center belongs to a plant that reports on OrderBridge's own floor
    (production.master_data.plants) are not the MES's: left out."""
    if not floor_too:
        first_centers = {wo.operations_made[0].work_center_id for wo in work_orders if wo.operations_made}
        floor = floor_work_center_ids(first_centers) if first_centers else set()
        work_orders = [
            wo
            for wo in work_orders
            if not (wo.operations_made and wo.operations_made[0].work_center_id in floor)
        ]
    materials = operation_materials(work_orders)
    payload: list[WorkOrderPayload] = []
    for work_order in work_orders:
        operations: list[OperationPayload] = []
        for operation in work_order.operations_made:
            row: OperationPayload = {
                "sequence": operation.sequence,
                "mes_id": operation.mes_id,
                "name": operation.name,
                "work_center": operation.work_center.code,
                "planned_minutes": operation.planned_minutes,
            }
            consumed = materials.get((work_order.pk, operation.sequence))
            if consumed:
                row["materials"] = consumed
            operations.append(row)
        payload.append(
            {
                "number": work_order.number,
                "mes_id": work_order.mes_id,
                "line_no": work_order.order_line.line_no if work_order.order_line else None,
                "sku": work_order.product.sku,
                "quantity": str(work_order.quantity),
                "status": work_order.status,
                "operations": operations,
            }
        )
    return payload
