"""Celery tasks of the integration: ids in, one service call, nothing else.

Every task runs under crm_sync.poison_guard.PoisonGuardedTask. Celery's autodiscovery imports this
module: it defines the periodic ones and brings in each package's own (outbox: deliver_order; inbound:
process_inbound; progress: progress_emit).
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from crm_sync import inbound, outbox, progress, reconciliation
from crm_sync.models import TaskReceipt
from crm_sync.poison_guard import PoisonGuardedTask, task_receipts_abandon

logger = logging.getLogger("orderbridge.crm_sync")

RECEIPT_KEEP = dt.timedelta(days=1)


@shared_task(name="crm_sync.deliveries_sweep", ignore_result=True, base=PoisonGuardedTask)
def deliveries_sweep(limit: int = 500) -> int:
    """Beat, every SYNC_SWEEP_SECONDS: the relay. Re-publishes what the outbox holds as pending.

    Wakes queues with a due retry and those whose wake-up task was lost (broker down at commit, Redis
    restarted with its queue): the outbox rows are the truth, tasks only wake-up calls. What it published
    is marked queued for SYNC_QUEUED_LEASE_SECONDS and not published again before. Probes failing systems
    (outbox.deliveries_probe) and marks abandoned the task receipts left running by a killed worker.
    """
    now = timezone.now()
    grace = settings.SYNC_RELAY_GRACE_SECONDS
    lease = settings.SYNC_QUEUED_LEASE_SECONDS
    queues = outbox.deliveries_relay(now=now, lease_seconds=lease, grace_seconds=grace, limit=limit)
    outbox.deliveries_probe(now=now, every_seconds=settings.SYNC_PROBE_SECONDS, lease_seconds=lease)
    # Held for the lease once published: a message waiting in a backlog is not published again.
    messages = inbound.inbound_due(limit=limit, grace_seconds=grace, hold_seconds=max(lease, 1))
    for message_pk in messages:
        inbound.process_inbound.delay(message_pk)
    task_receipts_abandon(now=now, lease_seconds=settings.SYNC_TASK_LEASE_SECONDS)
    TaskReceipt.objects.filter(
        state__in=[TaskReceipt.State.DONE, TaskReceipt.State.FAILED, TaskReceipt.State.ABANDONED],
        last_seen_at__lt=now - RECEIPT_KEEP,
    ).delete()
    if queues or messages:
        logger.info(
            "sweep woke %s queues and %s inbound messages (every %ss)",
            len(queues),
            len(messages),
            settings.SYNC_SWEEP_SECONDS,
        )
    return len(queues) + len(messages)


@shared_task(name="crm_sync.reconcile", ignore_result=True, base=PoisonGuardedTask)
def reconcile() -> int:
    """Beat, every SYNC_RECONCILE_SECONDS: compare with each system's read API; returns open drifts."""
    return reconciliation.reconcile_all()


@shared_task(name="crm_sync.progress_sweep", ignore_result=True, base=PoisonGuardedTask)
def progress_sweep(limit: int = 500) -> int:
    """Beat, every SYNC_SWEEP_SECONDS: the relay for progress events. Writes the owed ones whose countdown
    task is overdue by SYNC_RELAY_GRACE_SECONDS (lost with the broker); returns how many were written."""
    return progress.progress_emit_due(limit=limit, grace_seconds=settings.SYNC_RELAY_GRACE_SECONDS)


@shared_task(name="crm_sync.mes_acks_overdue", ignore_result=True, base=PoisonGuardedTask)
def mes_acks_overdue() -> int:
    """Beat, every MES_ACK_CHECK_SECONDS: tell the planners about changes the MES has not acknowledged."""
    return outbox.mes_acks_overdue_notify(now=timezone.now())
