"""Outbound delivery: per order in sequence, at least once and applied once, retried, dead-lettered."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from crm_sync import outbox
from crm_sync.models import Delivery, DeliveryAttempt, ExternalSystem, OutboxEvent
from orders.sales import transitions
from tests.crm_sync.conftest import start_simulator
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import CustomerFactory, ProductFactory, make_order

pytestmark = pytest.mark.django_db


def drain(system: ExternalSystem, order) -> int:
    return outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)


def states(system: ExternalSystem, order) -> list[tuple[int, str]]:
    return list(
        Delivery.objects.filter(system=system, order=order)
        .order_by("sequence")
        .values_list("sequence", "state")
    )


@pytest.fixture
def crm_system(crm):
    return ExternalSystemFactory(name="CRM", slug="crm", base_url=crm.url)


# --- recording ------------------------------------------------------------------------------------------
def test_an_event_creates_one_delivery_per_subscribed_system():
    everything = ExternalSystemFactory()
    releases_only = ExternalSystemFactory(kind=ExternalSystem.Kind.MES, event_types=["order.released"])
    ExternalSystemFactory(is_enabled=False)

    order = make_order()

    event = OutboxEvent.objects.get(order=order)
    assert list(event.deliveries.values_list("system", flat=True)) == [everything.pk]
    assert not Delivery.objects.filter(system=releases_only).exists()


def test_an_event_nobody_takes_is_not_left_pending():
    order = make_order()

    assert OutboxEvent.objects.get(order=order).state == OutboxEvent.State.DELIVERED


def test_a_delivery_task_is_enqueued_only_after_commit(django_capture_on_commit_callbacks):
    ExternalSystemFactory()
    ExternalSystemFactory(is_paused=True)
    # Made before: their saves have commit callbacks of their own (the processes' master data caches).
    customer, product = CustomerFactory(), ProductFactory()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_order(customer=customer, product=product)

    assert len(callbacks) == 1  # the paused system's queue waits for resume


# --- sending --------------------------------------------------------------------------------------------
def test_one_wake_up_task_delivers_several_orders_each_in_its_own_sequence(crm, crm_system):
    orders = [make_order() for _ in range(3)]

    assert outbox.deliver_orders.run(crm_system.pk, [order.pk for order in orders]) == 3

    assert sorted(crm.subjects()) == sorted((order.number, 1) for order in orders)


def test_it_delivers_a_signed_cloudevent_that_the_crm_accepts(crm, crm_system):
    order = make_order()

    assert drain(crm_system, order) == 1

    [received] = crm.received()
    event = OutboxEvent.objects.get(order=order)
    assert received["id"] == str(event.id)
    assert received["body"]["subject"] == order.number
    assert received["body"]["type"] == "com.orderbridge.order.created"
    assert received["body"]["data"]["lines"][0]["spec"]["material"] == "steel"
    assert states(crm_system, order) == [(1, Delivery.State.DELIVERED)]
    assert OutboxEvent.objects.get(order=order).state == OutboxEvent.State.DELIVERED


def test_every_attempt_is_logged_with_status_and_latency(crm, crm_system):
    crm.control(fail_next=1)
    order = make_order()

    drain(crm_system, order)
    drain(crm_system, order)

    attempts = list(DeliveryAttempt.objects.order_by("number").values_list("number", "status_code", "error"))
    assert attempts == [(1, 500, "HTTP 500"), (2, 200, "")]
    assert all(a.latency_ms < 5000 for a in DeliveryAttempt.objects.all())


def test_the_simulator_rejects_a_wrong_signing_secret(crm):
    system = ExternalSystemFactory(base_url=crm.url, signing_secret="whsec_" + "QUJD" * 8)
    order = make_order()

    drain(system, order)

    assert crm.received() == []
    assert crm.snapshot()["rejected"] == 1
    delivery = Delivery.objects.get(system=system)
    assert (delivery.state, delivery.last_error) == (Delivery.State.FAILED, "HTTP 401")


def test_an_unreachable_system_is_a_failed_attempt_not_a_crash():
    system = ExternalSystemFactory(base_url="http://127.0.0.1:9")
    order = make_order()

    drain(system, order)

    delivery = Delivery.objects.get(system=system)
    assert delivery.state == Delivery.State.FAILED
    assert "ConnectError" in delivery.last_error
    assert DeliveryAttempt.objects.get(delivery=delivery).status_code is None


def test_a_bearer_token_is_sent_when_configured():
    strict = start_simulator("crm_sync.simulators.crm", "--token", "tok-123", "--secret", "")
    try:
        system = ExternalSystemFactory(base_url=strict.url, signing_secret="", bearer_token="tok-123")
        wrong = ExternalSystemFactory(base_url=strict.url, signing_secret="", bearer_token="nope")
        order = make_order()

        drain(system, order)
        drain(wrong, order)

        assert len(strict.received()) == 1
        assert Delivery.objects.get(system=wrong).last_error == "HTTP 401"
    finally:
        strict.stop()


# --- ordering -------------------------------------------------------------------------------------------
def test_a_failing_event_holds_back_its_order_but_not_other_orders(crm, crm_system, sales, settings):
    settings.SYNC_RETRY_BASE_MS = 60_000  # the failed head waits; its successor is due but must wait too
    stuck = make_order(owner=sales)
    stuck = transitions.order_confirm(actor=sales, order=stuck)
    other = make_order(owner=sales)
    crm.control(fail_subjects=[stuck.number])

    drain(crm_system, stuck)
    drain(crm_system, stuck)
    drain(crm_system, other)

    assert states(crm_system, stuck) == [(1, Delivery.State.FAILED), (2, Delivery.State.PENDING)]
    assert crm.subjects() == [(other.number, 1)]


def test_a_held_back_order_catches_up_in_sequence_once_the_receiver_recovers(crm, crm_system, sales):
    order = make_order(owner=sales)
    order = transitions.order_confirm(actor=sales, order=order)
    crm.control(fail_next=1)
    drain(crm_system, order)

    drain(crm_system, order)

    assert crm.subjects() == [(order.number, 1), (order.number, 2)]
    assert crm.snapshot()["out_of_order"] == []


def test_a_later_event_cannot_be_claimed_while_an_earlier_one_is_in_flight(crm_system, sales):
    order = make_order(owner=sales)
    transitions.order_confirm(actor=sales, order=order)

    first = outbox.delivery_claim_next(system_id=crm_system.pk, order_id=order.pk)
    second = outbox.delivery_claim_next(system_id=crm_system.pk, order_id=order.pk)

    assert (first.sequence, first.state) == (1, Delivery.State.IN_FLIGHT)
    assert second is None


def test_an_in_flight_delivery_whose_worker_died_is_claimed_again_after_its_lease(crm_system):
    order = make_order()
    claimed = outbox.delivery_claim_next(system_id=crm_system.pk, order_id=order.pk)
    Delivery.objects.filter(pk=claimed.pk).update(claimed_until=timezone.now() - dt.timedelta(seconds=1))

    again = outbox.delivery_claim_next(system_id=crm_system.pk, order_id=order.pk)

    assert again.pk == claimed.pk
    assert again.attempts == 2


def test_a_claim_holds_its_delivery_for_the_systems_timeouts_plus_the_margin(settings):
    system = ExternalSystemFactory(connect_timeout=2.5, read_timeout=7.0)
    order = make_order()

    claimed = outbox.delivery_claim_next(system_id=system.pk, order_id=order.pk)

    stored = Delivery.objects.get(pk=claimed.pk)
    lease = dt.timedelta(seconds=2.5 + 7.0 + settings.SYNC_LEASE_MARGIN_SECONDS)
    assert (stored.state, stored.attempts) == (Delivery.State.IN_FLIGHT, 1)
    assert stored.claimed_until - stored.updated_at == lease
    assert (claimed.claimed_until, claimed.attempts) == (stored.claimed_until, stored.attempts)
    assert (claimed.event.data, claimed.system.read_timeout) == (stored.event.data, 7.0)


def test_a_paused_or_disabled_system_gets_no_claim():
    paused, disabled = ExternalSystemFactory(is_paused=True), ExternalSystemFactory()
    order = make_order()
    ExternalSystem.objects.filter(pk=disabled.pk).update(is_enabled=False)
    assert Delivery.objects.filter(order=order, state=Delivery.State.PENDING).count() == 2

    assert outbox.delivery_claim_next(system_id=paused.pk, order_id=order.pk) is None
    assert outbox.delivery_claim_next(system_id=disabled.pk, order_id=order.pk) is None


# --- retries and dead letters ---------------------------------------------------------------------------
def test_retry_delays_grow_exponentially_with_jitter(settings):
    settings.SYNC_RETRY_BASE_MS = 1000
    settings.SYNC_RETRY_MAX_SECONDS = 5

    delays = [[outbox.retry_delay(attempts=n).total_seconds() for _ in range(50)] for n in (1, 2, 3, 4)]

    assert all(0.5 <= d <= 1 for d in delays[0])
    assert all(1 <= d <= 2 for d in delays[1])
    assert all(2 <= d <= 4 for d in delays[2])
    assert all(2.5 <= d <= 5 for d in delays[3])  # capped
    assert len(set(delays[0])) > 1  # jittered


def test_a_failed_delivery_waits_for_its_backoff(crm, crm_system, settings):
    settings.SYNC_RETRY_BASE_MS = 60_000
    crm.control(fail_next=1)
    order = make_order()
    drain(crm_system, order)

    assert drain(crm_system, order) == 0

    delivery = Delivery.objects.get(system=crm_system)
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    assert delivery.state == Delivery.State.FAILED
    assert 25 < wait <= 60
    assert crm.received() == []


def test_it_becomes_a_dead_letter_after_max_attempts_and_raises_an_alert(crm, crm_system, settings, caplog):
    settings.SYNC_MAX_ATTEMPTS = 3
    crm.control(fail_next=10)
    order = make_order()

    with caplog.at_level(logging.ERROR, logger="orderbridge.crm_sync"):
        for _ in range(4):
            drain(crm_system, order)

    delivery = Delivery.objects.get(system=crm_system)
    assert (delivery.state, delivery.attempts) == (Delivery.State.DEAD, 3)
    assert OutboxEvent.objects.get(order=order).state == OutboxEvent.State.DEAD
    assert any("dead letter" in r.message and order.number in r.message for r in caplog.records)


def test_it_becomes_a_dead_letter_when_too_old(crm, crm_system, settings):
    settings.SYNC_MAX_AGE_SECONDS = 60
    crm.control(fail_next=1)
    order = make_order()
    Delivery.objects.update(created_at=timezone.now() - dt.timedelta(minutes=2))

    drain(crm_system, order)

    assert Delivery.objects.get(system=crm_system).state == Delivery.State.DEAD


def test_a_dead_letter_holds_back_the_later_events_of_its_order(crm, crm_system, settings, sales):
    settings.SYNC_MAX_ATTEMPTS = 1
    order = make_order(owner=sales)
    transitions.order_confirm(actor=sales, order=order)
    crm.control(fail_next=1)

    drain(crm_system, order)
    drain(crm_system, order)

    assert states(crm_system, order) == [(1, Delivery.State.DEAD), (2, Delivery.State.PENDING)]
    assert crm.received() == []


def test_replaying_a_dead_letter_delivers_it_and_then_the_rest_in_order(
    crm, crm_system, settings, sales, admin_user
):
    settings.SYNC_MAX_ATTEMPTS = 1
    order = make_order(owner=sales)
    transitions.order_confirm(actor=sales, order=order)
    crm.control(fail_next=1)
    drain(crm_system, order)

    replayed = outbox.deliveries_replay(deliveries=Delivery.objects.filter(state="dead"), actor=admin_user)
    drain(crm_system, order)

    assert replayed == 1
    assert states(crm_system, order) == [(1, Delivery.State.DELIVERED), (2, Delivery.State.DELIVERED)]
    assert crm.subjects() == [(order.number, 1), (order.number, 2)]


def test_a_replay_gets_a_fresh_retry_budget(crm, crm_system, settings, admin_user):
    settings.SYNC_MAX_ATTEMPTS = 2
    crm.control(fail_next=2)
    order = make_order()
    drain(crm_system, order)
    drain(crm_system, order)
    outbox.deliveries_replay(deliveries=Delivery.objects.all(), actor=admin_user)
    crm.control(fail_next=1)

    drain(crm_system, order)

    delivery = Delivery.objects.get(system=crm_system)
    assert (delivery.state, delivery.attempts) == (Delivery.State.FAILED, 3)


# --- exactly once in effect ---------------------------------------------------------------------------
def test_a_delivery_that_timed_out_after_being_applied_is_applied_once(crm, crm_system):
    crm_system.read_timeout = 0.3
    crm_system.save()
    crm.control(delay_next_ms=1500)  # applied, then the answer comes too late
    order = make_order()

    drain(crm_system, order)
    drain(crm_system, order)

    snapshot = crm.snapshot()
    assert len(snapshot["received"]) == 1
    assert snapshot["duplicates"] == 1
    assert Delivery.objects.get(system=crm_system).state == Delivery.State.DELIVERED
    assert "ReadTimeout" in DeliveryAttempt.objects.get(number=1).error


# --- pause ----------------------------------------------------------------------------------------------
def test_a_paused_system_is_sent_nothing(crm, crm_system, admin_user):
    outbox.external_system_set_paused(system=crm_system, paused=True, actor=admin_user)
    order = make_order()

    assert drain(crm_system, order) == 0
    assert crm.received() == []
    assert states(crm_system, order) == [(1, Delivery.State.PENDING)]


def test_resuming_a_system_wakes_its_waiting_orders(
    crm, crm_system, admin_user, django_capture_on_commit_callbacks
):
    outbox.external_system_set_paused(system=crm_system, paused=True, actor=admin_user)
    order = make_order()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        outbox.external_system_set_paused(system=crm_system, paused=False, actor=admin_user)
    drain(crm_system, order)

    # One wake-up for the waiting order (the other callback renews the outbox's cached systems).
    assert len([c for c in callbacks if c.__qualname__.startswith("enqueue_on_commit.")]) == 1
    assert crm.subjects() == [(order.number, 1)]
