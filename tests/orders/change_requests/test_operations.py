"""Change operations: each one class (clean, describe, diff, impact, apply), registered by op name."""

import pytest

from orders import change_requests as crs
from orders.change_requests.change_lists import clean_changes
from orders.sales import transitions
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(sales, planner):
    return transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))


def test_a_request_changes_the_orders_status_once_at_most(order):
    _, errors = clean_changes(order=order, changes=[{"op": "hold"}, {"op": "hold"}])
    assert errors == {"changes[1].op": ["A change request changes the order's status once at most."]}


def test_each_change_is_described_and_diffed_by_its_operation(order):
    changes = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}, {"op": "hold"}]
    assert [crs.describe_change(change) for change in changes] == ["Line 1: quantity → 12", "Hold the order"]
    # line_no: the row's subject, rendered in the reader's language ("line 1" is the English fallback).
    assert crs.change_diff(order=order, changes=changes) == [
        {
            "op": "set_quantity",
            "subject": "line 1",
            "line_no": 1,
            "field": "quantity",
            "old": "10",
            "new": "12",
        },
        {
            "op": "hold",
            "subject": "order",
            "line_no": None,
            "field": "status",
            "old": "Released",
            "new": "On hold",
        },
    ]
