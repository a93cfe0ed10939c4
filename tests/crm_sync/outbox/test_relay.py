"""The relay (beat sweep) publishes each waiting queue once per lease, probes a failing system, and a
system that answers again gets its whole backlog at once, not at each row's backoff."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.utils import timezone

from crm_sync import outbox, tasks
from crm_sync.models import Delivery, TaskReceipt
from crm_sync.poison_guard import task_receipts_abandon
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order

pytestmark = pytest.mark.django_db

LEASE = 60


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.fixture
def waiting_orders(crm, sales):
    """Three orders whose first event waits for the CRM simulator (their wake-ups were never published:
    the test's transaction is not committed, as after a broker outage)."""
    ExternalSystemFactory(base_url=crm.url)
    return [make_order(owner=sales) for _ in range(3)]


def test_the_sweep_publishes_a_waiting_queue_once_while_its_task_is_queued(waiting_orders):
    first = outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE)
    again = outbox.deliveries_relay(now=later(5), lease_seconds=LEASE)
    and_again = outbox.deliveries_relay(now=later(LEASE - 1), lease_seconds=LEASE)

    assert sorted(order for _system, order in first) == sorted(order.pk for order in waiting_orders)
    assert again == []
    assert and_again == []


def test_a_queue_whose_task_was_lost_is_published_again_when_its_lease_runs_out(waiting_orders):
    outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE)

    after_lease = outbox.deliveries_relay(now=later(LEASE + 1), lease_seconds=LEASE)

    assert len(after_lease) == len(waiting_orders)


def test_an_attempt_recorded_clears_the_queued_mark(waiting_orders, crm):
    crm.control(fail_next=1)
    system_id, order_id = outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE)[0]

    outbox.deliveries_drain(system_id=system_id, order_id=order_id)

    failed = Delivery.objects.get(order_id=order_id)
    assert failed.state == Delivery.State.FAILED
    assert failed.queued_until is None  # its retry is published as soon as it is due, not after the lease


def test_an_mes_that_answers_again_gets_its_backlog_within_seconds(waiting_orders, crm, settings):
    settings.SYNC_RETRY_BASE_MS = 600_000  # a backoff of minutes: recovery must not wait for it
    crm.control(down_for_ms=60_000)
    for system_id, order_id in outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE):
        outbox.deliveries_drain(system_id=system_id, order_id=order_id)
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.FAILED}
    assert all(d.next_attempt_at > later(60) for d in Delivery.objects.all())

    crm.control(reset=True)  # the receiver is back, a probe interval after the last attempt
    Delivery.objects.update(updated_at=timezone.now() - dt.timedelta(seconds=15))
    back = time.monotonic()
    # The sweep's probe makes one head due now; the worker sends it; its success wakes the rest.
    (probed,) = outbox.deliveries_probe(now=timezone.now(), every_seconds=10, lease_seconds=LEASE)
    head = Delivery.objects.get(pk=probed)
    outbox.deliveries_drain(system_id=head.system_id, order_id=head.order_id)
    for system_id, order_id in outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE):
        outbox.deliveries_drain(system_id=system_id, order_id=order_id)

    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
    assert time.monotonic() - back < 5
    assert sorted(crm.subjects()) == sorted((order.number, 1) for order in waiting_orders)


def test_a_retry_that_goes_through_while_the_system_answers_others_leaves_the_other_retries_to_their_backoff(
    waiting_orders, crm, settings
):
    settings.SYNC_RETRY_BASE_MS = 600_000
    first, second, third = waiting_orders
    crm.control(fail_next=2)  # an MES that fails now and then
    system_id = Delivery.objects.values_list("system_id", flat=True).first()
    for order in (first, second, third):  # two fail, the third goes through
        outbox.deliveries_drain(system_id=system_id, order_id=order.pk)
    Delivery.objects.filter(order=first).update(next_attempt_at=timezone.now())

    outbox.deliveries_drain(system_id=system_id, order_id=first.pk)  # its retry goes through

    assert Delivery.objects.get(order=first).state == Delivery.State.DELIVERED
    assert Delivery.objects.get(order=second).next_attempt_at > later(60)  # still its own backoff


def test_a_probe_does_not_count_against_the_retry_budget(waiting_orders, crm, settings):
    settings.SYNC_RETRY_BASE_MS = 600_000
    crm.control(down_for_ms=60_000)
    for system_id, order_id in outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE):
        outbox.deliveries_drain(system_id=system_id, order_id=order_id)

    (probed,) = outbox.deliveries_probe(now=later(30), every_seconds=10, lease_seconds=LEASE)

    delivery = Delivery.objects.get(pk=probed)
    assert delivery.attempts - delivery.attempts_before_replay == 0


def test_no_probe_while_a_delivery_to_the_system_is_due_or_was_just_tried(waiting_orders, crm):
    crm.control(fail_next=1)
    assert outbox.deliveries_probe(now=timezone.now(), every_seconds=10, lease_seconds=LEASE) == []  # all due
    system_id, order_id = outbox.deliveries_relay(now=timezone.now(), lease_seconds=LEASE)[0]
    outbox.deliveries_drain(system_id=system_id, order_id=order_id)  # failed just now

    assert outbox.deliveries_probe(now=timezone.now(), every_seconds=10, lease_seconds=LEASE) == []


def test_a_task_receipt_left_running_by_a_killed_worker_is_marked_abandoned():
    stuck = TaskReceipt.objects.create(task_id="killed-1", name="crm_sync.deliver_order", args=[1, 2])
    running = TaskReceipt.objects.create(task_id="running-1", name="crm_sync.deliver_order", args=[1, 3])
    TaskReceipt.objects.filter(pk=stuck.pk).update(last_seen_at=timezone.now() - dt.timedelta(hours=1))

    assert task_receipts_abandon(now=timezone.now(), lease_seconds=600) == 1

    stuck.refresh_from_db()
    running.refresh_from_db()
    assert stuck.state == TaskReceipt.State.ABANDONED
    assert running.state == TaskReceipt.State.RUNNING


def test_the_beat_sweep_marks_stale_receipts_abandoned(settings):
    settings.SYNC_TASK_LEASE_SECONDS = 60
    stuck = TaskReceipt.objects.create(task_id="killed-2", name="crm_sync.process_inbound", args=[7])
    TaskReceipt.objects.filter(pk=stuck.pk).update(last_seen_at=timezone.now() - dt.timedelta(minutes=5))

    tasks.deliveries_sweep()

    stuck.refresh_from_db()
    assert stuck.state == TaskReceipt.State.ABANDONED
