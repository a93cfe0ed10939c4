"""A batch's wake-up drains its orders in turn while the receiver answers quickly, and hands the rest off (a
task each, for the deliveries worker's threads) once the receiver turns out slow."""

from __future__ import annotations

import pytest

from crm_sync import outbox
from crm_sync.models import Delivery
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_orders(crm, sales):
    system = ExternalSystemFactory(base_url=crm.url)
    return system, [make_order(owner=sales).pk for _ in range(3)]


def test_a_quick_receiver_gets_every_order_of_the_batch_from_one_task(three_orders, settings):
    settings.SYNC_DELIVERY_HAND_OFF_MS = 5_000
    system, order_ids = three_orders
    handed_off: list[list[int]] = []

    delivered = outbox.deliveries_drain_in_turn(
        system_id=system.pk, order_ids=order_ids, hand_off=handed_off.append
    )

    assert delivered == 3
    assert handed_off == []


def test_a_slow_receiver_gets_the_orders_left_handed_off_after_the_first(three_orders, crm, settings):
    settings.SYNC_DELIVERY_HAND_OFF_MS = 100
    crm.control(latency_ms=300)
    system, order_ids = three_orders
    handed_off: list[list[int]] = []

    delivered = outbox.deliveries_drain_in_turn(
        system_id=system.pk, order_ids=order_ids, hand_off=handed_off.append
    )

    assert delivered == 1
    assert handed_off == [order_ids[1:]]
    assert Delivery.objects.get(order_id=order_ids[0]).state == Delivery.State.DELIVERED
