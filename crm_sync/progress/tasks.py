"""The progress feed's Celery task: an order id in, one service call (registered through crm_sync.tasks)."""

from __future__ import annotations

from celery import shared_task

from crm_sync.poison_guard import PoisonGuardedTask
from crm_sync.progress.emission import progress_emit


@shared_task(name="crm_sync.progress_emit", ignore_result=True, base=PoisonGuardedTask)
def progress_emit_order(order_id: int) -> bool:
    """Write the order's owed progress event if it is due. Safe to run twice, or early (then it does
    nothing: the sweep writes it once due)."""
    return progress_emit(order_id=order_id) is not None
