"""order_representation (the API's answer to a write) is exactly what OrderSerializer makes of an order."""

import json

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from orders.models import Priority
from orders.sales import selectors, transitions
from orders.sales.serializers import OrderSerializer, order_representation
from tests.factories import CustomerFactory, make_order

pytestmark = pytest.mark.django_db


def api_request(user):
    request = Request(APIRequestFactory().post("/api/v1/orders/"))
    request.user = user
    return request


def both(order, user):
    """(serializer output, fast output) for the order as `user` reads it, as JSON text (key order counts)."""
    order = selectors.order_get(user=user, number=order.number)
    request = api_request(user)
    expected = OrderSerializer(order, context={"request": request}).data
    return json.dumps(expected), json.dumps(order_representation(order, request=request))


def test_a_draft_with_lines_is_represented_as_the_serializer_does(sales):
    expected, fast = both(make_order(owner=sales, lines=3), sales)

    assert fast == expected


def test_an_order_without_lines_or_dates_is_represented_as_the_serializer_does(sales):
    order = make_order(owner=sales, lines=0, requested_date=None, promised=False)

    expected, fast = both(order, sales)

    assert fast == expected
    assert json.loads(fast)["lines"] == [] and json.loads(fast)["promised_date"] is None


def test_a_released_order_with_an_overridden_priority_is_represented_as_the_serializer_does(sales, planner):
    customer = CustomerFactory()
    order = make_order(
        owner=sales, customer=customer, confirmed=True, priority=Priority.URGENT, priority_reason="Line down"
    )
    order = transitions.order_release(actor=planner, order=order)

    for user in (sales, planner):  # what each may do next differs: transitions and links follow the user
        expected, fast = both(order, user)
        assert fast == expected


def test_an_order_on_hold_is_represented_as_the_serializer_does(sales):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_hold(actor=sales, order=order, reason="Customer asked")

    expected, fast = both(order, sales)

    assert fast == expected
    assert json.loads(fast)["status"] == "on_hold"


def test_without_a_request_the_representation_has_no_transitions_as_the_serializer(sales):
    order = selectors.order_get(user=sales, number=make_order(owner=sales).number)

    fast = order_representation(order, request=None)

    assert fast == OrderSerializer(order).data
    assert fast["available_transitions"] == []
