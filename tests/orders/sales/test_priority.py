"""order_set_priority: who may change an order's priority, when, and what it records and publishes."""

import pytest

from config.kernel import bus as events
from config.kernel.errors import Conflict, Forbidden, StaleObject, ValidationFailed
from orders import sales as services
from orders.models import Priority, SalesOrder
from orders.sales import transitions
from tests.factories import CustomerFactory, make_order, start_by_hand

pytestmark = pytest.mark.django_db


@pytest.fixture
def published():
    seen = []
    handler = events.subscribe(seen.append)
    yield seen
    events.unsubscribe(handler)


def released_order(sales, planner, **kwargs):
    order = make_order(owner=sales, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def test_a_planner_raises_the_priority_of_a_released_order_with_a_reason(sales, planner):
    order = released_order(sales, planner)
    order = services.order_set_priority(
        actor=planner, order=order, priority=Priority.URGENT, reason="Line stop at the customer"
    )
    order = SalesOrder.objects.get(pk=order.pk)
    assert (order.priority, order.priority_overridden) == (Priority.URGENT, True)
    assert order.priority_reason == "Line stop at the customer"


def test_history_records_who_changed_the_priority_and_why(sales, planner):
    order = released_order(sales, planner)
    services.order_set_priority(actor=planner, order=order, priority=Priority.URGENT, reason="Line stop")
    record = order.history.latest("history_date")
    assert record.history_user == planner
    assert "Line stop" in record.history_change_reason and "Urgent" in record.history_change_reason


def test_it_publishes_priority_changed_so_production_replans(sales, planner, published):
    order = released_order(sales, planner)
    services.order_set_priority(actor=planner, order=order, priority=Priority.HIGH, reason="Key project")
    event = published[-1]
    assert event.type == "order.priority_changed"
    assert (event.data["priority"], event.data["previous_priority"]) == (Priority.HIGH, Priority.NORMAL)


def test_a_production_manager_may_change_the_priority_of_an_order_in_production(sales, planner, manager):
    order = released_order(sales, planner)
    order = start_by_hand(order)
    order = services.order_set_priority(actor=manager, order=order, priority=Priority.LOW, reason="Slipped")
    assert order.priority == Priority.LOW


def test_sales_may_change_the_priority_of_their_own_order_before_release(sales):
    order = make_order(owner=sales, confirmed=True)
    order = services.order_set_priority(actor=sales, order=order, priority=Priority.HIGH, reason="Trade fair")
    assert order.priority == Priority.HIGH


def test_sales_cannot_change_the_priority_after_release(sales, planner):
    order = released_order(sales, planner)
    with pytest.raises(Forbidden):
        services.order_set_priority(actor=sales, order=order, priority=Priority.URGENT, reason="Please")
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.priority == Priority.NORMAL


def test_customer_service_cannot_change_the_priority(sales, planner, service_agent):
    order = released_order(sales, planner)
    with pytest.raises(Forbidden):
        services.order_set_priority(actor=service_agent, order=order, priority=Priority.HIGH, reason="x")


def test_a_reason_is_required(sales, planner):
    order = released_order(sales, planner)
    with pytest.raises(ValidationFailed) as error:
        services.order_set_priority(actor=planner, order=order, priority=Priority.URGENT, reason="  ")
    assert "reason" in error.value.fields


def test_an_unknown_priority_names_the_field(sales, planner):
    order = released_order(sales, planner)
    with pytest.raises(ValidationFailed) as error:
        services.order_set_priority(actor=planner, order=order, priority=9, reason="x")
    assert "priority" in error.value.fields


def test_a_cancelled_order_keeps_its_priority(sales, planner, manager):
    order = released_order(sales, planner)
    order = transitions.order_cancel(actor=manager, order=order, reason="Customer withdrew")
    with pytest.raises(Conflict):
        services.order_set_priority(actor=planner, order=order, priority=Priority.URGENT, reason="x")


def test_a_stale_version_is_refused(sales, planner):
    order = released_order(sales, planner)
    with pytest.raises(StaleObject):
        services.order_set_priority(
            actor=planner,
            order=order,
            priority=Priority.URGENT,
            reason="x",
            expected_version=order.version - 1,
        )


def test_back_to_the_tier_priority_clears_the_override(sales, planner):
    order = released_order(sales, planner, customer=CustomerFactory(tier="key"))
    services.order_set_priority(actor=planner, order=order, priority=Priority.URGENT, reason="Rush")
    order = services.order_set_priority(actor=planner, order=order, priority=Priority.HIGH, reason="Done")
    assert (order.priority_overridden, order.priority_reason) == (False, "")


# --- API: POST /api/v1/orders/{number}/priority/ -------------------------------------------------------
def priority_url(order) -> str:
    return f"/api/v1/orders/{order.number}/priority/"


def api_as(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_planner_raises_a_released_orders_priority_through_the_api(sales, planner):
    order = released_order(sales, planner)
    response = api_as(planner).post(
        priority_url(order),
        {"priority": Priority.URGENT, "reason": "Line stop at the customer", "version": order.version},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["priority"] == Priority.URGENT
    assert SalesOrder.objects.get(pk=order.pk).priority_reason == "Line stop at the customer"


def test_the_api_refuses_a_priority_change_without_a_reason(sales, planner):
    order = released_order(sales, planner)
    response = api_as(planner).post(priority_url(order), {"priority": Priority.URGENT}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["error"]["fields"]


def test_sales_may_not_change_the_priority_once_the_plant_has_the_order(sales, planner):
    order = released_order(sales, planner)
    response = api_as(sales).post(
        priority_url(order), {"priority": Priority.URGENT, "reason": "Customer called"}, format="json"
    )
    assert response.status_code == 403
    assert SalesOrder.objects.get(pk=order.pk).priority == order.priority


def test_a_stale_version_is_refused_with_409(sales, planner):
    order = released_order(sales, planner)
    response = api_as(planner).post(
        priority_url(order),
        {"priority": Priority.URGENT, "reason": "Line stop", "version": order.version - 1},
        format="json",
    )
    assert response.status_code == 409
