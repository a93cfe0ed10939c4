"""The inbound package's Celery task: ids in, one service call (registered through crm_sync.tasks)."""

from __future__ import annotations

from celery import shared_task

from crm_sync.inbound.processing import inbound_process_waiting
from crm_sync.poison_guard import PoisonGuardedTask


@shared_task(name="crm_sync.process_inbound", ignore_result=True, base=PoisonGuardedTask)
def process_inbound(message_pk: int) -> None:
    """Apply one stored inbound message through the dispatch table, once (with the CRM's new orders waiting
    behind it, when there are: crm_sync.inbound.processing.inbound_process_waiting).

    The deliveries its effect wrote are woken after commit as tasks of their own on the sync-deliveries
    queue (crm_sync.outbox.wake_ups): a slow or failing receiver never holds up the intake of messages.
    """
    inbound_process_waiting(message_pk=message_pk)
