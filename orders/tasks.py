"""Celery tasks of the orders app: ids in, one service call, nothing else.

The services queue these by their registered names (`celery.signature(name).delay(...)`), so they never
import this module; it is imported by OrdersConfig.ready (and by the worker's autodiscovery), which
registers the tasks in every process.
"""

from __future__ import annotations

import logging

from celery import shared_task

from orders import imports, notifications

logger = logging.getLogger("orderbridge.notifications")


@shared_task(name="orders.notification_deliver", bind=True, ignore_result=True, max_retries=None)
def notification_deliver(self, delivery_id: int) -> str:
    """Send one email/chat delivery. Idempotent: a sent or failed delivery is left alone."""
    result = notifications.delivery_send(delivery_id=delivery_id)
    if result.outcome == "retry" and not self.request.is_eager:
        # Backoff lives on the row too (next_attempt_at): if this retry is lost, the sweep sends it.
        raise self.retry(countdown=result.retry_in)
    return result.outcome


@shared_task(name="orders.notifications_sweep", ignore_result=True)
def notifications_sweep(limit: int = 500) -> int:
    """Beat, every minute: enqueue deliveries whose retry is due or whose task was lost with the broker."""
    due = notifications.deliveries_due(limit=limit)
    for delivery_id in due:
        notification_deliver.delay(delivery_id)
    if due:
        logger.info("notification sweep enqueued %s deliveries", len(due))
    return len(due)


@shared_task(name="orders.import_validate", acks_late=True)
def import_validate(job_id: int) -> str | None:
    job = imports.import_job_validate(job_id=job_id)
    return job.status if job else None


@shared_task(name="orders.import_run", acks_late=True)
def import_run(job_id: int) -> str | None:
    job = imports.import_job_run(job_id=job_id)
    return job.status if job else None
