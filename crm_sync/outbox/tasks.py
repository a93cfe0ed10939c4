"""The outbox's Celery task: ids in, one service call (registered through crm_sync.tasks)."""

from __future__ import annotations

from celery import shared_task

from crm_sync.outbox.delivery import deliveries_drain
from crm_sync.poison_guard import PoisonGuardedTask


@shared_task(name="crm_sync.deliver_order", ignore_result=True, base=PoisonGuardedTask)
def deliver_order(system_id: int, order_id: int) -> int:
    """Send one order's due events to one system in sequence. Safe to run twice or after a crash."""
    return deliveries_drain(system_id=system_id, order_id=order_id)
