"""The poison guard every integration task runs under (PoisonGuardedTask), and its task receipts.

Settings make delivery at-least-once on purpose (CELERY_TASK_ACKS_LATE: a task is acknowledged after it
ran, so a worker that dies mid-task does not lose it; CELERY_TASK_REJECT_ON_WORKER_LOST: a pool child
killed mid-task puts its message back), and the cost of that choice is a message that kills its worker
coming back forever. The guard counts deliveries per message id and dead-letters the message after
SYNC_POISON_MAX_DELIVERIES.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from celery import Task
from django.conf import settings
from django.utils import timezone

from crm_sync import fast_sql
from crm_sync.models import TaskReceipt

logger = logging.getLogger("orderbridge.crm_sync")


def task_receipt_count(*, task_id: str, name: str, args: list[Any]) -> TaskReceipt:
    """Count one more delivery of this task message; committed at once, before the task body runs
    (one statement: fast_sql.task_receipt_count)."""
    return fast_sql.task_receipt_count(task_id=task_id, name=name, args=list(args), now=timezone.now())


class PoisonGuardedTask(Task):
    """Refuse (dead-letter) a task message that has been delivered more than the allowed number of times."""

    def settled(self, *args: Any, **kwargs: Any) -> bool:
        """True when the task has nothing left to do (a subclass knows: its message was applied by another
        task's batch): it returns at once, without a receipt. A read only: it cannot poison a worker."""
        return False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        task_id = getattr(self.request, "id", None)
        if not task_id or self.request.called_directly or self.request.is_eager:
            return super().__call__(*args, **kwargs)
        if self.settled(*args, **kwargs):
            return None
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
        try:
            result = super().__call__(*args, **kwargs)
        except BaseException:
            # Recorded if the database still answers; if not, the sweep marks the receipt abandoned.
            try:
                TaskReceipt.objects.filter(pk=receipt.pk).update(state=TaskReceipt.State.FAILED)
            except Exception:
                logger.warning("task receipt %s not marked failed", receipt.pk, exc_info=True)
            raise
        fast_sql.task_receipt_done(pk=receipt.pk)
        return result


def task_receipts_abandon(*, now: dt.datetime, lease_seconds: float) -> int:
    """Mark abandoned the receipts still "running" `lease_seconds` after their task was last delivered: its
    worker was killed (and the broker lost the message) or lost the database before recording the end.
    The work itself is not lost: the outbox and inbound rows are the truth, and the relay publishes them
    again. Returns how many receipts were marked."""
    return TaskReceipt.objects.filter(
        state=TaskReceipt.State.RUNNING, last_seen_at__lt=now - dt.timedelta(seconds=lease_seconds)
    ).update(state=TaskReceipt.State.ABANDONED)
