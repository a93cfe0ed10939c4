"""Celery tasks of the integration: ids in, one service call, nothing else.

Every task here runs under PoisonGuardedTask. Settings make delivery at-least-once on purpose
(CELERY_TASK_ACKS_LATE: a task is acknowledged after it ran, so a worker that dies mid-task does not lose
it; CELERY_TASK_REJECT_ON_WORKER_LOST: a pool child killed mid-task puts its message back), and the cost
of that choice is a message that kills its worker coming back forever. The guard counts deliveries per
message id and dead-letters the message after SYNC_POISON_MAX_DELIVERIES.
"""

from __future__ import annotations

import datetime as dt
import logging

from celery import Task, shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm_sync.inbound import receive as inbound
from crm_sync.models import TaskReceipt
from crm_sync.outbox import selectors, services

logger = logging.getLogger("orderbridge.crm_sync")

RECEIPT_KEEP = dt.timedelta(days=1)


def task_receipt_count(*, task_id: str, name: str, args: list) -> TaskReceipt:
    """Count one more delivery of this task message; committed at once, before the task body runs.

    One statement (an upsert, PostgreSQL and SQLite alike) rather than lock, read, insert or update: it
    runs before every task, so its cost is paid per order twice (inbound, delivery). The unique task_id
    makes concurrent redeliveries of one message count one after the other.
    """
    table = connection.ops.quote_name(TaskReceipt._meta.db_table)
    now = timezone.now()
    args_value = TaskReceipt._meta.get_field("args").get_db_prep_save(list(args), connection)
    # A single statement: in autocommit mode it is its own transaction, committed before the body runs.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (task_id, name, args, deliveries, state, first_seen_at, last_seen_at) "  # noqa: S608 - our table name
            "VALUES (%s, %s, %s, 1, %s, %s, %s) "
            f"ON CONFLICT (task_id) DO UPDATE SET deliveries = {table}.deliveries + 1, "
            "last_seen_at = excluded.last_seen_at "
            "RETURNING id, deliveries, state, first_seen_at",
            [task_id, name, args_value, TaskReceipt.State.RUNNING, now, now],
        )
        pk, deliveries, state, first_seen_at = cursor.fetchone()
    return TaskReceipt(
        pk=pk,
        task_id=task_id,
        name=name,
        args=list(args),
        deliveries=deliveries,
        state=state,
        first_seen_at=first_seen_at,
        last_seen_at=now,
    )


def task_receipt_done(*, pk: int) -> None:
    """Mark a receipt done; a plain statement (after every task) rather than the ORM's UPDATE machinery."""
    table = connection.ops.quote_name(TaskReceipt._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET state = %s WHERE id = %s",  # noqa: S608 - our table name
            [TaskReceipt.State.DONE.value, pk],
        )


class PoisonGuardedTask(Task):
    """Refuse (dead-letter) a task message that has been delivered more than the allowed number of times."""

    def __call__(self, *args, **kwargs):
        task_id = getattr(self.request, "id", None)
        if not task_id or self.request.called_directly or self.request.is_eager:
            return super().__call__(*args, **kwargs)
        receipt = task_receipt_count(task_id=task_id, name=self.name, args=list(args))
        if receipt.deliveries > settings.SYNC_POISON_MAX_DELIVERIES:
            TaskReceipt.objects.filter(pk=receipt.pk).update(state=TaskReceipt.State.DEAD)
            logger.error(
                "poison message: task %s %s%s delivered %s times; dead-lettered, not run again",
                self.name,
                task_id,
                tuple(args),
                receipt.deliveries,
            )
            return None
        result = super().__call__(*args, **kwargs)
        task_receipt_done(pk=receipt.pk)
        return result


@shared_task(name="crm_sync.deliver_order", ignore_result=True, base=PoisonGuardedTask)
def deliver_order(system_id: int, order_id: int) -> int:
    """Send one order's due events to one system in sequence. Safe to run twice or after a crash."""
    return services.deliveries_drain(system_id=system_id, order_id=order_id)


@shared_task(name="crm_sync.deliveries_sweep", ignore_result=True, base=PoisonGuardedTask)
def deliveries_sweep(limit: int = 500) -> int:
    """Beat, every SYNC_SWEEP_SECONDS: the relay. Re-publishes what the outbox holds as pending.

    Wakes queues with a due retry and those whose wake-up task was lost (broker down at commit, Redis
    restarted with its queue): the outbox rows are the truth, tasks only wake-up calls.
    """
    grace = settings.SYNC_RELAY_GRACE_SECONDS
    queues = selectors.due_queues(now=timezone.now(), limit=limit, grace_seconds=grace)
    for system_id, order_id in queues:
        deliver_order.delay(system_id, order_id)
    messages = inbound.inbound_due(limit=limit, grace_seconds=grace, hold_seconds=max(grace, 1))
    for message_pk in messages:
        process_inbound.delay(message_pk)
    TaskReceipt.objects.filter(
        state=TaskReceipt.State.DONE, last_seen_at__lt=timezone.now() - RECEIPT_KEEP
    ).delete()
    if queues or messages:
        logger.info(
            "sweep woke %s queues and %s inbound messages (every %ss)",
            len(queues),
            len(messages),
            settings.SYNC_SWEEP_SECONDS,
        )
    return len(queues) + len(messages)


@shared_task(name="crm_sync.process_inbound", ignore_result=True, base=PoisonGuardedTask)
def process_inbound(message_pk: int) -> None:
    """Apply one stored inbound message through the dispatch table, once; then deliver what it caused (see
    services.deliveries_inline: one task per order instead of two)."""
    with services.deliveries_inline() as woken:
        inbound.inbound_process(message_pk=message_pk)
    services.deliveries_drain_woken(woken)


@shared_task(name="crm_sync.reconcile", ignore_result=True, base=PoisonGuardedTask)
def reconcile() -> int:
    """Beat, every SYNC_RECONCILE_SECONDS: compare with each system's read API; returns open drifts."""
    from crm_sync.reconciliation import services as reconciliation

    return reconciliation.reconcile_all()
