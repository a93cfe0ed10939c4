"""Celery tasks of the integration: ids in, one service call, nothing else."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import inbound, selectors, services

logger = logging.getLogger("orderbridge.crm_sync")


@shared_task(name="crm_sync.deliver_order", ignore_result=True)
def deliver_order(system_id: int, order_id: int) -> int:
    """Send one order's due events to one system in sequence. Safe to run twice or after a crash."""
    return services.deliveries_drain(system_id=system_id, order_id=order_id)


@shared_task(name="crm_sync.deliveries_sweep", ignore_result=True)
def deliveries_sweep(limit: int = 500) -> int:
    """Beat, every SYNC_SWEEP_SECONDS: wake what has a due retry or lost its task with the broker."""
    queues = selectors.due_queues(now=timezone.now(), limit=limit)
    for system_id, order_id in queues:
        deliver_order.delay(system_id, order_id)
    messages = inbound.inbound_due(limit=limit)
    for message_pk in messages:
        process_inbound.delay(message_pk)
    if queues or messages:
        logger.info(
            "sweep woke %s queues and %s inbound messages (every %ss)",
            len(queues),
            len(messages),
            settings.SYNC_SWEEP_SECONDS,
        )
    return len(queues) + len(messages)


@shared_task(name="crm_sync.process_inbound", ignore_result=True)
def process_inbound(message_pk: int) -> None:
    """Apply one stored inbound message through the dispatch table, once."""
    inbound.inbound_process(message_pk=message_pk)
