"""Purchase suggestions from the open work orders (service), and a suggestion turned into a purchase order."""

from __future__ import annotations

from decimal import Decimal

import pytest

from config.kernel.errors import Forbidden, ValidationFailed
from orders.sales import transitions
from production.materials import OPEN_PURCHASE_STATUSES, Item, open_supply
from production.supply_planning import purchase_suggestions, suggestion_order
from tests.factories import make_order
from tests.production.supply_planning.conftest import in_days_date, stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def released(sales, planner, frame, profile):
    Item.objects.filter(pk=profile.pk).update(minimum_order_quantity=Decimal(25), order_multiple=Decimal(10))
    stock(profile, "4")
    order = make_order(owner=sales, product=frame, confirmed=True)  # 10 frames: 20 m
    return transitions.order_release(actor=planner, order=order)


def test_the_buyer_sees_the_net_requirement_rounded_to_minimum_and_multiple(buyer, released, profile):
    [suggestion] = purchase_suggestions(actor=buyer)
    assert (suggestion.code, suggestion.net_requirement, suggestion.quantity) == (
        "AL-6063",
        Decimal(16),
        Decimal(30),
    )
    assert suggestion.late is True  # needed now, 10 days' lead time


def test_a_suggestion_becomes_an_open_purchase_order_and_supply(buyer, released, profile):
    order = suggestion_order(actor=buyer, item=profile, quantity=Decimal(30), expected_date=in_days_date(10))
    assert order.status in OPEN_PURCHASE_STATUSES and order.supplier == "Alu AG"
    assert [line.quantity for line in open_supply([profile.pk])[profile.pk]] == [Decimal(30)]


def test_a_suggestion_for_nothing_is_refused_with_the_field(buyer, profile):
    with pytest.raises(ValidationFailed) as caught:
        suggestion_order(actor=buyer, item=profile, quantity=Decimal(0), expected_date=in_days_date(1))
    assert "quantity" in caught.value.fields


def test_sales_may_not_see_purchase_suggestions(sales):
    with pytest.raises(Forbidden):
        purchase_suggestions(actor=sales)
