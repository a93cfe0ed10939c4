"""The cancel rule, on every door: once an order is released to production, only a production manager may
cancel it (orders.sales.policies.cancel_needs_manager), whether the cancel comes from the order page, the
REST API, the admin, a change request or the CRM.

Every door reaches orders.sales.transitions.order_transition; a change request's cancel counts the
request's production-manager approval as the authority.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel import Forbidden
from crm_sync.models import ExternalSystem, InboundMessage
from orders import change_requests as crs
from orders.models import ChangeRequest, OrderStatus, SalesOrder
from orders.sales import transitions
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order, valid_spec

pytestmark = pytest.mark.django_db

CANCEL = [{"op": "cancel"}]


@pytest.fixture
def released(sales, planner):
    return transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))


def status_of(order: SalesOrder) -> str:
    return SalesOrder.objects.get(pk=order.pk).status


# --- the door itself --------------------------------------------------------------------------------------
def test_a_planner_cannot_cancel_a_released_order(planner, released):
    with pytest.raises(Forbidden):
        transitions.order_cancel(actor=planner, order=released, reason="Customer withdrew")
    assert status_of(released) == OrderStatus.RELEASED


def test_the_owner_cannot_cancel_a_released_order(sales, released):
    with pytest.raises(Forbidden):
        transitions.order_cancel(actor=sales, order=released, reason="Customer withdrew")
    assert status_of(released) == OrderStatus.RELEASED


def test_the_owner_cancels_an_order_not_yet_released(sales):
    order = make_order(owner=sales, confirmed=True)
    assert (
        transitions.order_cancel(actor=sales, order=order, reason="Withdrew").status == OrderStatus.CANCELLED
    )


def test_a_production_manager_cancels_a_released_order_on_record(manager, released):
    order = transitions.order_cancel(actor=manager, order=released, reason="Customer withdrew")
    assert order.status == OrderStatus.CANCELLED
    assert (order.history.first().history_user, order.history.first().history_change_reason) == (
        manager,
        "Customer withdrew",
    )


# --- the order page ---------------------------------------------------------------------------------------
def _page_cancel(client, user, order):
    client.force_login(user)
    return client.post(
        reverse("orders:order_transition", kwargs={"number": order.number, "action": "cancel"}),
        {"reason": "Customer withdrew", "version": SalesOrder.objects.get(pk=order.pk).version},
    )


def test_the_order_page_refuses_a_planners_cancel_of_a_released_order(client, planner, released):
    response = _page_cancel(client, planner, released)
    assert response.status_code == 403
    assert status_of(released) == OrderStatus.RELEASED


def test_the_order_page_lets_the_production_manager_cancel_a_released_order(client, manager, released):
    response = _page_cancel(client, manager, released)
    assert response.status_code in (200, 302)
    assert status_of(released) == OrderStatus.CANCELLED


def test_the_order_page_offers_cancel_of_a_released_order_to_the_manager_only(
    client, planner, manager, released
):
    url = reverse("orders:order_detail", kwargs={"number": released.number})
    action = reverse("orders:order_transition", kwargs={"number": released.number, "action": "cancel"})
    client.force_login(planner)
    assert action not in client.get(url).content.decode()
    client.force_login(manager)
    assert action in client.get(url).content.decode()


# --- the REST API -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("persona", "expected", "status"), [("planner", 403, "released"), ("manager", 200, "cancelled")]
)
def test_the_api_cancels_a_released_order_for_the_production_manager_only(
    request, released, persona, expected, status
):
    client = APIClient()
    client.force_authenticate(request.getfixturevalue(persona))
    response = client.post(f"/api/v1/orders/{released.number}/cancel/", {"reason": "Withdrew"}, format="json")
    assert response.status_code == expected, response.content
    assert status_of(released) == status


# --- the admin --------------------------------------------------------------------------------------------
def _admin_cancel(client, user, order):
    user.is_staff = True
    user.save()
    client.force_login(user)
    return client.post(
        reverse("admin:orders_salesorder_changelist"),
        {"action": "transition_cancel", "_selected_action": [order.pk]},
        follow=True,
    )


def test_an_admin_action_refuses_a_planners_cancel_of_a_released_order(client, planner, released):
    response = _admin_cancel(client, planner, released)
    # The action ran and the door refused it (not the admin turning the planner away).
    assert f"{released.number}: You are not allowed to do this." in response.content.decode()
    assert status_of(released) == OrderStatus.RELEASED


def test_an_admin_action_cancels_a_released_order_for_the_production_manager(client, manager, released):
    _admin_cancel(client, manager, released)
    assert status_of(released) == OrderStatus.CANCELLED


# --- a change request -------------------------------------------------------------------------------------
def _submitted_cancel(sales, order) -> ChangeRequest:
    return crs.change_request_create(
        actor=sales,
        order=order,
        base_revision=order.revision,
        reason="Customer withdrew",
        changes=CANCEL,
        submit=True,
    )


def test_a_change_request_cancelling_a_released_order_needs_the_production_manager(sales, released):
    cr = _submitted_cancel(sales, released)
    assert cr.needs_manager
    assert "cancels_released_order" in cr.impact["manager_reasons"]


def test_a_planners_approval_alone_does_not_approve_a_cancel(sales, planner, released):
    cr = crs.change_request_approve(actor=planner, change_request=_submitted_cancel(sales, released))
    assert cr.status == "submitted"
    other_planner = UserFactory(role="planner")
    with pytest.raises(Forbidden) as refused:
        crs.change_request_approve(actor=other_planner, change_request=cr)
    assert refused.value.code == "needs_manager"
    assert status_of(released) == OrderStatus.RELEASED


def test_a_cancel_approved_by_planner_and_manager_is_applied_through_the_door(
    sales, planner, manager, released
):
    cr = crs.change_request_approve(actor=planner, change_request=_submitted_cancel(sales, released))
    cr = crs.change_request_approve(actor=manager, change_request=cr)
    cr = crs.change_request_apply(actor=planner, change_request=cr)
    order = SalesOrder.objects.get(pk=released.pk)
    assert (order.status, cr.status, order.revision) == (OrderStatus.CANCELLED, "applied", 2)
    # One history row for the applied request's write, with who applied it and why.
    assert order.history.first().history_change_reason == f"{cr.number}: Customer withdrew"


def test_a_cancel_approved_before_the_rule_without_a_manager_is_refused_at_apply(sales, planner, released):
    cr = _submitted_cancel(sales, released)
    # A request approved by a planner alone under the old matrix (before the cancel rule reached requests).
    ChangeRequest.objects.filter(pk=cr.pk).update(
        needs_manager=False, status="approved", planner_approved_by=planner, impact={"manager_reasons": []}
    )
    with pytest.raises(Forbidden) as refused:
        crs.change_request_apply(actor=planner, change_request=cr)
    assert refused.value.code == "needs_manager"
    assert status_of(released) == OrderStatus.RELEASED
    assert ChangeRequest.objects.get(pk=cr.pk).status == "approved"


def test_a_cancel_submitted_before_the_rule_asks_for_the_manager_when_decided(sales, planner, released):
    cr = _submitted_cancel(sales, released)
    ChangeRequest.objects.filter(pk=cr.pk).update(needs_manager=False, impact={"manager_reasons": []})
    cr = crs.change_request_approve(actor=planner, change_request=cr)
    assert (cr.status, cr.needs_manager) == ("submitted", True)


# --- the CRM ----------------------------------------------------------------------------------------------
@pytest.fixture
def crm(db):
    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")
    return ExternalSystemFactory(
        slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(username="crm-bot", role="admin")
    )


def _crm_message(kind: str, sequence: int, **data) -> dict:
    return {
        "type": kind,
        "subject": "CRM-100",
        "sequence": sequence,
        "data": {
            "crm_id": "CRM-100",
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": "released",
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "12", "spec_values": valid_spec()}],
            **data,
        },
    }


def _crm_released_then_cancelled(client) -> tuple[SalesOrder, InboundMessage]:
    hook = reverse("hooks:crm")
    post_hook(client, hook, _crm_message("order.created", 1))
    process_all()
    post_hook(client, hook, _crm_message("order.cancelled", 2, reason="Customer withdrew"))
    process_all()
    return SalesOrder.objects.get(crm_id="CRM-100"), InboundMessage.objects.latest("received_at")


def test_a_crm_cancel_of_a_released_order_waits_for_the_production_manager(client, crm):
    order, message = _crm_released_then_cancelled(client)
    assert order.status == OrderStatus.RELEASED  # not cancelled by the CRM alone
    assert message.state == InboundMessage.State.PROCESSED
    cr = ChangeRequest.objects.get(number=message.result["change_request"])
    assert (cr.origin, cr.status, cr.changes, cr.needs_manager) == ("crm", "submitted", CANCEL, True)


def test_a_crm_that_may_not_propose_changes_gets_its_cancel_refused_on_record(client, crm):
    hook = reverse("hooks:crm")
    post_hook(client, hook, _crm_message("order.created", 1))
    process_all()
    crm.service_user = UserFactory(username="crm-reader", role="customer_service")
    crm.save()
    post_hook(client, hook, _crm_message("order.cancelled", 2, reason="Customer withdrew"))
    process_all()
    message = InboundMessage.objects.latest("received_at")
    assert message.state == InboundMessage.State.DEAD
    assert message.result["error"] == "forbidden"
    assert SalesOrder.objects.get(crm_id="CRM-100").status == OrderStatus.RELEASED
    assert not ChangeRequest.objects.exists()
