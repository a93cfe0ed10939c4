"""Celery's own pitfalls, handled on purpose (the worker-level behaviour is in test_faults.py)."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.celery import app
from crm_sync import inbound, outbox, poison_guard, tasks
from crm_sync.models import TaskReceipt
from crm_sync.poison_guard import PoisonGuardedTask

pytestmark = pytest.mark.django_db


def test_tasks_are_acknowledged_after_they_ran_and_requeued_when_their_process_dies():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


@pytest.mark.parametrize(
    "task",
    [
        outbox.deliver_order,
        outbox.deliver_orders,
        tasks.deliveries_sweep,
        inbound.process_inbound,
        tasks.reconcile,
    ],
)
def test_every_integration_task_counts_its_deliveries(task):
    assert isinstance(task, PoisonGuardedTask)


def test_each_delivery_of_one_task_message_is_counted():
    for _ in range(3):
        receipt = poison_guard.task_receipt_count(task_id="t-1", name="crm_sync.deliver_order", args=[1, 2])

    assert receipt.deliveries == 3
    assert TaskReceipt.objects.count() == 1


def test_the_relay_runs_periodically_and_so_does_reconciliation():
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}

    assert schedule["crm_sync.deliveries_sweep"] == float(settings.SYNC_SWEEP_SECONDS)
    assert schedule["crm_sync.reconcile"] == float(settings.SYNC_RECONCILE_SECONDS)
