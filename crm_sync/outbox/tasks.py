"""The outbox's Celery task: ids in, one service call (registered through crm_sync.tasks)."""

from __future__ import annotations

import logging

from celery import shared_task

from crm_sync.outbox.delivery import deliveries_drain, deliveries_drain_in_turn
from crm_sync.poison_guard import PoisonGuardedTask

logger = logging.getLogger("orderbridge.crm_sync")


@shared_task(name="crm_sync.deliver_order", ignore_result=True, base=PoisonGuardedTask)
def deliver_order(system_id: int, order_id: int) -> int:
    """Send one order's due events to one system in sequence. Safe to run twice or after a crash."""
    return deliveries_drain(system_id=system_id, order_id=order_id)


@shared_task(name="crm_sync.deliver_orders", ignore_result=True, base=PoisonGuardedTask)
def deliver_orders(system_id: int, order_ids: list[int]) -> int:
    """deliver_order for several orders in turn (the wake-up of a batch of orders written together: one task
    message and one receipt for them, not one each). Each order's queue is claimed and sent as alone; a slow
    receiver gets the orders left handed off, a task each (deliveries_drain_in_turn)."""

    def hand_off(left: list[int]) -> None:
        for order_id in left:
            try:
                deliver_order.delay(system_id, order_id)
            except Exception:  # the broker is down: the sweep publishes it once its queued mark runs out
                logger.warning("could not hand off delivery system=%s order=%s", system_id, order_id)
                return

    return deliveries_drain_in_turn(system_id=system_id, order_ids=list(order_ids), hand_off=hand_off)
