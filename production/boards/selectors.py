"""What a work center's board shows, read in a fixed number of queries whatever the plant's size: what runs
now, what waits next, what is late against the current plan, and the last reports and exceptions.

Work follows the one visibility rule (production.work_orders.records_visible_to).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from config.kernel import Actor
from production.floor import paused_operation_ids
from production.master_data import WorkCenter
from production.work_orders import (
    SCHEDULABLE_STATUSES,
    OperationStatus,
    ProductionException,
    ProgressReport,
    WorkOrderOperation,
    records_visible_to,
)

NEXT_ROWS = 8
LATE_ROWS = 10
REPORT_ROWS = 8
EXCEPTION_ROWS = 6


@dataclass(frozen=True)
class Board:
    work_center: WorkCenter
    now: dt.datetime
    running: list[WorkOrderOperation]
    next_up: list[WorkOrderOperation]
    late: list[WorkOrderOperation]
    reports: list[ProgressReport]
    exceptions: list[ProductionException]
    paused: set[int]  # of the running operations, those paused on the floor


def board_work_centers() -> QuerySet[WorkCenter]:
    return WorkCenter.objects.filter(is_active=True).order_by("code")


def _open_operations(*, user: Actor, work_center: WorkCenter) -> QuerySet[WorkOrderOperation]:
    return records_visible_to(
        WorkOrderOperation.objects.filter(
            work_center=work_center, work_order__status__in=SCHEDULABLE_STATUSES
        ).select_related("work_order__order", "work_order__product"),
        user=user,
    )


def work_center_board(*, user: Actor, work_center: WorkCenter) -> Board:
    """The board of `work_center` as `user` may see it. Late: not finished although the current plan has
    it end before now (the oldest first); next: not started, in plan order, late ones shown under late."""
    now = timezone.now()
    operations = _open_operations(user=user, work_center=work_center)
    running = list(operations.filter(status=OperationStatus.STARTED).order_by("actual_start", "pk"))
    late = list(
        operations.exclude(status=OperationStatus.COMPLETED)
        .filter(scheduled_end__lt=now)
        .order_by("scheduled_end", "pk")[:LATE_ROWS]
    )
    next_up = list(
        operations.filter(status=OperationStatus.PENDING)
        .filter(Q(scheduled_end__gte=now) | Q(scheduled_end__isnull=True))
        .order_by(F("scheduled_start").asc(nulls_last=True), "pk")[:NEXT_ROWS]
    )
    reports = list(
        records_visible_to(
            ProgressReport.objects.filter(operation__work_center=work_center).select_related(
                "operation__work_order"
            ),
            user=user,
        ).order_by("-reported_at", "-pk")[:REPORT_ROWS]
    )
    exceptions = list(
        records_visible_to(
            ProductionException.objects.filter(
                Q(work_center=work_center)
                | Q(
                    work_order_id__in=WorkOrderOperation.objects.filter(work_center=work_center).values(
                        "work_order_id"
                    )
                )
            ).select_related("work_order"),
            user=user,
        ).order_by(F("resolved_at").desc(nulls_first=True), "-raised_at", "-pk")[:EXCEPTION_ROWS]
    )
    return Board(
        work_center=work_center,
        now=now,
        running=running,
        next_up=next_up,
        late=late,
        reports=reports,
        exceptions=exceptions,
        paused=paused_operation_ids(op.pk for op in running),
    )
