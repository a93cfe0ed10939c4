"""Reads of the operator pages: an operation with what the operator needs to see, in a fixed number of
queries."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

from orders.catalog import spec_display
from production.floor.models import FloorAction, FloorReport, ReasonCode, ReasonKind
from production.floor.services import available
from production.work_orders import OperationStatus, WorkOrder, WorkOrderOperation


@dataclass(frozen=True)
class OperationView:
    operation: WorkOrderOperation
    work_order: WorkOrder
    previous: WorkOrderOperation | None
    following: WorkOrderOperation | None
    spec: list[tuple[str, Any]]
    remaining: Decimal
    recent: list[FloorReport]
    paused: bool


def operation_view(pk: int) -> OperationView | None:
    """The operation, its work order (order, product, line), the operations before and after it, the line's
    spec values with their labels, what remains to report and the last reports on it."""
    op = (
        WorkOrderOperation.objects.select_related(
            "work_center",
            "work_order__order",
            "work_order__product__family",
            "work_order__order_line",
        )
        .filter(pk=pk)
        .first()
    )
    if op is None:
        return None
    work_order = op.work_order
    operations = list(WorkOrderOperation.objects.filter(work_order=work_order).order_by("sequence"))
    earlier = [o for o in operations if o.sequence < op.sequence]
    later = [o for o in operations if o.sequence > op.sequence]
    previous = earlier[-1] if earlier else None
    line = work_order.order_line
    spec = spec_display(work_order.product.family.spec_schema, line.spec_values) if line is not None else []
    recent = list(
        FloorReport.objects.filter(operation=op).select_related("operator", "scrap_reason", "rework_reason")[
            :10
        ]
    )
    return OperationView(
        operation=op,
        work_order=work_order,
        previous=previous,
        following=later[0] if later else None,
        spec=spec,
        remaining=available(op, work_order=work_order, previous=previous),
        recent=recent,
        paused=op.pk in paused_operation_ids([op.pk]) if op.status == OperationStatus.STARTED else False,
    )


def reason_codes() -> dict[str, list[ReasonCode]]:
    """The active scrap and rework reasons, in their order."""
    rows = list(ReasonCode.objects.filter(is_active=True))
    return {
        "scrap": [row for row in rows if row.kind == ReasonKind.SCRAP],
        "rework": [row for row in rows if row.kind == ReasonKind.REWORK],
    }


def paused_operation_ids(operation_ids: Iterable[int]) -> set[int]:
    """Of `operation_ids`, those an operator paused on the floor and nobody started again since (the last
    Start or Pause tapped on each is a Pause). An operation has no paused state of its own: a pause is the
    floor's note that nobody works on it now (the boards and the operator page show it)."""
    ids = list(operation_ids)
    if not ids:
        return set()
    # Each operation's newest Start or Pause, in one query (a correlated subquery: DISTINCT ON is PostgreSQL's
    # alone, and `make run` runs on SQLite).
    taps = [FloorAction.START, FloorAction.PAUSE]
    newest = (
        FloorReport.objects.filter(operation_id=OuterRef("operation_id"), action__in=taps)
        .order_by("-received_at", "-id")
        .values("pk")[:1]
    )
    latest = FloorReport.objects.filter(operation_id__in=ids, action__in=taps, pk=Subquery(newest))
    return {
        operation_id
        for operation_id, action in latest.values_list("operation_id", "action")
        if action == FloorAction.PAUSE
    }
