"""The inbound package's Celery task: ids in, one service call (registered through crm_sync.tasks)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from crm_sync.inbound.processing import inbound_process_waiting, inbound_taken_in
from crm_sync.poison_guard import PoisonGuardedTask


class InboundTask(PoisonGuardedTask):
    def settled(self, message_pk: int, *args: Any, **kwargs: Any) -> bool:
        # Under a burst most of these tasks find their message taken in by another's batch: one read.
        return inbound_taken_in(message_pk)


@shared_task(name="crm_sync.process_inbound", ignore_result=True, base=InboundTask)
def process_inbound(message_pk: int) -> None:
    """Apply one stored inbound message through the dispatch table, once (with the CRM's new orders waiting
    behind it, when there are: crm_sync.inbound.processing.inbound_process_waiting).

    The deliveries its effect wrote are woken after commit as tasks of their own on the sync-deliveries
    queue (crm_sync.outbox.wake_ups): a slow or failing receiver never holds up the intake of messages.
    """
    inbound_process_waiting(message_pk=message_pk)
