"""The work orders' hand-written SQL (see production.fast_sql): the report path's locked read."""

from __future__ import annotations

import functools

from django.db import connection

from orders.models import SalesOrder
from production.fast_sql import instance, select_list, table, width
from production.work_orders.models import WorkOrder, WorkOrderOperation

__all__ = ["work_order_locked_with_operations"]


@functools.cache
def _locked_work_order_sql(vendor: str) -> str:
    # Only the work order's row is locked (OF w): the order is locked by whoever moves it. SQLite has no
    # row locks (its writers take turns on the whole database).
    lock = " FOR NO KEY UPDATE OF w" if vendor == "postgresql" else ""
    return (
        f"SELECT {select_list(WorkOrder, 'w')}, {select_list(SalesOrder, 'o')}"  # noqa: S608 - our tables
        f" FROM {table(WorkOrder)} w JOIN {table(SalesOrder)} o ON o.id = w.order_id"
        f" WHERE w.id = (SELECT op.work_order_id FROM {table(WorkOrderOperation)} op WHERE op.id = %s)"
        f"{lock}"
    )


@functools.cache
def _operations_sql() -> str:
    return (
        f"SELECT {select_list(WorkOrderOperation, 'op')} FROM {table(WorkOrderOperation)} op"  # noqa: S608 - our tables
        " WHERE op.work_order_id = %s ORDER BY op.sequence, op.id"
    )


def work_order_locked_with_operations(
    operation_id: int,
) -> tuple[WorkOrder, list[WorkOrderOperation]] | None:
    """Lock the work order of the operation `operation_id` (FOR NO KEY UPDATE, until the caller's
    transaction ends) and read it with its order (one statement), then its operations in sequence (a second
    statement, so that it sees what the lock's previous holder committed). Each operation's `work_order`
    and the work order's `order` are set. None when there is no such operation.

    The ORM's spelling (select_for_update … select_related("order"), then the operations) cost about 1.5 ms
    of the web process's CPU per report to build and load; these cost about a third of that."""
    split = width(WorkOrder)
    with connection.cursor() as cursor:
        cursor.execute(_locked_work_order_sql(connection.vendor), [operation_id])
        row = cursor.fetchone()
        if row is None:
            return None
        work_order = instance(WorkOrder, row[:split])
        work_order.order = instance(SalesOrder, row[split:])
        cursor.execute(_operations_sql(), [work_order.pk])
        operations = [instance(WorkOrderOperation, values) for values in cursor.fetchall()]
    for operation in operations:
        operation.work_order = work_order
    return work_order, operations
