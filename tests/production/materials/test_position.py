"""What a quote reads of its items in one query: stock on hand over all locations, open supply earliest
first, and what active reservations and unexpired quote holds still hold."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from production import materials
from production.materials import PurchaseLineInput, Reservation
from tests.factories import UserFactory
from tests.production.materials.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", role="purchasing")


def test_stock_supply_and_holds_of_the_items_come_back_in_one_query(buyer, manager):
    tube, other = ItemFactory(code="TUBE", unit="m"), ItemFactory(code="OTHER")
    today = timezone.localdate()
    for code, quantity in (("MAIN", 30), ("LINE", 12)):
        location = LocationFactory(code=code, name=code)
        materials.stock_adjust(item=tube, location=location, quantity=quantity, actor=manager, reason="Count")
    late = materials.purchase_order_create(
        supplier="Alu AG",
        lines=[
            PurchaseLineInput(item=tube, quantity=Decimal(50), expected_date=today + dt.timedelta(days=9))
        ],
        actor=buyer,
    )
    soon = materials.purchase_order_create(
        supplier="Alu AG",
        lines=[
            PurchaseLineInput(item=tube, quantity=Decimal(20), expected_date=today + dt.timedelta(days=2))
        ],
        actor=buyer,
    )
    materials.purchase_order_receive(line=soon.lines.get(), quantity=Decimal(5), actor=buyer)
    now = timezone.now()
    Reservation.objects.create(item=tube, quantity=Decimal(8), consumed_quantity=Decimal(3), needed_on=today)
    Reservation.objects.create(item=tube, quantity=Decimal(4), expires_at=now + dt.timedelta(minutes=5))
    Reservation.objects.create(item=tube, quantity=Decimal(99), expires_at=now - dt.timedelta(minutes=1))
    Reservation.objects.create(item=other, quantity=Decimal(7))

    with CaptureQueriesContext(connection) as queries:
        position = materials.item_position([tube.pk], now=now)

    assert len(queries.captured_queries) == 1
    assert position.on_hand == {tube.pk: Decimal(47)}  # 30 + 12 counted, 5 received
    assert [(line.purchase_order_number, line.quantity) for line in position.supply[tube.pk]] == [
        (soon.number, Decimal(15)),
        (late.number, Decimal(50)),
    ]
    assert sorted(row.open_quantity for row in position.reserved) == [Decimal(4), Decimal(5)]
    # The same as the separate reads.
    assert position.on_hand == materials.on_hand([tube.pk])
    assert position.supply == materials.open_supply([tube.pk])
