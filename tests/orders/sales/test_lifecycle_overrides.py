"""No order completes with nothing made: starting production and completing ahead of the work orders is a
production manager's override, with a reason and an explicit confirmation, whichever door asks (the
service, the API, the admin, a change request). The UI's confirmation page: test_override_page.py; the
automatic moves: tests/production/work_orders/test_order_lifecycle.py; the CRM and MES:
tests/crm_sync/inbound/test_inbound_lifecycle.py.
"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel import events, message_text, subscribe, unsubscribe
from config.kernel.errors import Forbidden, ValidationFailed
from orders import change_requests as crs
from orders.models import OrderStatus, SalesOrder
from orders.sales import transitions
from tests.factories import make_order
from tests.orders.change_requests.cr_helpers import approved, finish, make_line, released_order

pytestmark = pytest.mark.django_db


def fresh(order):
    return SalesOrder.objects.get(pk=order.pk)


@pytest.fixture
def released(sales, planner):
    """A released order of two lines: two work orders, nothing made (0 of 2 done)."""
    return released_order(sales, planner, make_line(planner), lines=2)


@pytest.fixture
def in_production(planner, released):
    finish(planner, released.work_orders.order_by("number").first())
    order = fresh(released)
    assert order.status == OrderStatus.IN_PRODUCTION  # the first work order started it
    return order


@pytest.fixture
def published():
    """The start and completion events published, as subscribers get them."""
    seen = []

    def handler(event):
        seen.append(event)

    subscribe(handler, to=(events.OrderCompleted, events.OrderProductionStarted))
    yield seen
    unsubscribe(handler)


@pytest.fixture
def as_user():
    def client_for(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return client_for


# --- the door --------------------------------------------------------------------------------------------
def test_a_planner_cannot_complete_an_order_with_unfinished_work_orders(planner, in_production):
    with pytest.raises(Forbidden) as refused:
        transitions.order_complete(actor=planner, order=in_production, reason="Looks done")

    assert refused.value.code == "work_unfinished"
    assert "1 of 2 work orders are unfinished" in refused.value.message
    assert f"{in_production.number}-02" in refused.value.message
    assert fresh(in_production).version == in_production.version


def test_a_planner_cannot_start_production_before_a_work_order_starts(planner, released):
    with pytest.raises(Forbidden) as refused:
        transitions.order_start_production(actor=planner, order=released, reason="Soon")

    assert refused.value.code == "work_unfinished"
    assert fresh(released).status == OrderStatus.RELEASED


def test_sales_cannot_complete_an_order_even_with_a_reason_and_the_override(sales, in_production):
    with pytest.raises(Forbidden):
        transitions.order_complete(actor=sales, order=in_production, reason="Customer asked", override=True)


def test_a_manager_must_give_a_reason_to_override(manager, in_production):
    with pytest.raises(ValidationFailed) as refused:
        transitions.order_complete(actor=manager, order=in_production, reason=" ", override=True)

    assert refused.value.code == "override_reason_required"
    assert "reason" in refused.value.fields
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_a_manager_must_confirm_the_override_explicitly(manager, in_production):
    with pytest.raises(ValidationFailed) as refused:
        transitions.order_complete(
            actor=manager, order=in_production, reason="Customer takes them as they are"
        )

    assert refused.value.code == "override_required"
    assert "1 of 2 work orders are unfinished" in refused.value.fields["override"][0]
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_a_managers_override_completes_the_order_and_history_records_who_why_and_what_was_unfinished(
    manager, in_production, published
):
    order = transitions.order_complete(
        actor=manager, order=in_production, reason="Customer takes them as they are", override=True
    )

    assert fresh(order).status == OrderStatus.COMPLETED
    last = order.history.first()
    assert last.history_user == manager
    reason = message_text(last.history_change_reason)
    assert reason.startswith("Override by hand: Customer takes them as they are")
    assert f"{order.number}-02" in reason
    assert [(type(e), e.override) for e in published] == [(events.OrderCompleted, True)]
    assert published[0].data["override"] is True


def test_a_managers_override_starts_production_with_nothing_started(manager, released, published):
    order = transitions.order_start_production(
        actor=manager, order=released, reason="Work done on the old line, not reported", override=True
    )

    assert fresh(order).status == OrderStatus.IN_PRODUCTION
    assert "No work order has started" in message_text(order.history.first().history_change_reason)
    assert published[0].override is True


def test_an_order_without_any_work_order_cannot_be_completed_by_a_planner(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    order.work_orders.all().delete()

    with pytest.raises(Forbidden) as refused:
        transitions.order_complete(actor=planner, order=order)

    assert "no work orders: nothing was made" in refused.value.message


# --- the API ---------------------------------------------------------------------------------------------
def url(order, segment):
    return f"/api/v1/orders/{order.number}/{segment}/"


def test_the_api_refuses_a_planners_completion_with_403_naming_the_unfinished_work(
    as_user, planner, in_production
):
    response = as_user(planner).post(url(in_production, "complete"), {"reason": "Done?"}, format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "work_unfinished"
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_the_api_asks_a_manager_for_the_reason_and_the_override_flag_with_field_messages(
    as_user, manager, in_production
):
    without_reason = as_user(manager).post(url(in_production, "complete"), {"override": True}, format="json")
    without_flag = as_user(manager).post(url(in_production, "complete"), {"reason": "As is"}, format="json")

    assert without_reason.status_code == 400
    assert "reason" in without_reason.json()["error"]["fields"]
    assert without_flag.status_code == 400
    assert without_flag.json()["error"]["code"] == "override_required"
    assert "1 of 2 work orders are unfinished" in without_flag.json()["error"]["fields"]["override"][0]
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_the_api_completes_on_a_managers_explicit_override(as_user, manager, in_production):
    body = {"reason": "Customer takes them as they are", "override": True}

    response = as_user(manager).post(url(in_production, "complete"), body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == OrderStatus.COMPLETED


def test_the_api_refuses_an_override_flag_that_is_not_a_boolean(as_user, manager, in_production):
    body = {"reason": "x", "override": "perhaps"}

    response = as_user(manager).post(url(in_production, "complete"), body, format="json")

    assert response.status_code == 400
    assert "override" in response.json()["error"]["fields"]


# --- the admin -------------------------------------------------------------------------------------------
def run_admin_action(client, action, orders):
    return client.post(
        reverse("admin:orders_salesorder_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def test_the_admin_action_does_not_complete_unfinished_work_and_points_to_the_override_page(
    client, admin_user, in_production
):
    client.force_login(admin_user)

    response = run_admin_action(client, "transition_complete", [in_production])

    page = response.content.decode()
    assert "1 of 2 work orders are unfinished" in page
    assert reverse("orders:order_override", args=[in_production.number, "complete"]) in page
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


# --- change requests -------------------------------------------------------------------------------------
def test_a_change_request_cannot_ask_to_complete_an_order(sales, in_production):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(
            actor=sales,
            order=in_production,
            base_revision=in_production.revision,
            reason="Close it",
            changes=[{"op": "complete"}],
        )

    assert "changes[0].op" in refused.value.fields


def test_an_approved_change_request_is_no_authority_to_complete_an_order(
    sales, planner, manager, in_production
):
    change_request = approved(sales, planner, in_production, [{"op": "hold"}], manager=manager)

    with pytest.raises(Forbidden) as refused:
        transitions.order_transition_in_transaction(
            actor=manager, order=in_production, name="complete", change_request=change_request, override=True
        )

    assert refused.value.code == "not_by_change_request"
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION
