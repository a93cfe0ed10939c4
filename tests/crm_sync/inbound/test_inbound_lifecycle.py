"""Neither the CRM nor the MES starts or completes an order ahead of its work orders: such a message is
refused, dead-lettered with the reason (what is unfinished), and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_sync.models import ExternalSystem, InboundMessage
from orders.models import OrderStatus, SalesOrder
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec
from tests.orders.change_requests.cr_helpers import finish, make_line, released_order

pytestmark = pytest.mark.django_db

MES_HOOK = reverse("crm_sync:inbound", args=["mes"])
CRM_HOOK = reverse("hooks:crm")


@pytest.fixture
def mes_system(db):
    # The MES's service user may report progress and move orders like a planner, no more.
    return ExternalSystemFactory(
        slug="mes", kind=ExternalSystem.Kind.MES, service_user=UserFactory(username="mes-bot", role="planner")
    )


@pytest.fixture
def crm_system(db):
    # Even an all-powerful CRM service user cannot complete an order by message.
    return ExternalSystemFactory(
        slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(username="crm-bot", role="admin")
    )


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner), lines=2)


def progress(order, state):
    return {"type": "operations.progress", "subject": order.number, "data": {"state": state}}


def test_an_mes_completed_report_with_work_orders_unfinished_is_dead_lettered_with_what_is_unfinished(
    client, mes_system, planner, order
):
    finish(planner, order.work_orders.order_by("number").first())

    post_hook(client, MES_HOOK, progress(order, "completed"))
    process_all()

    message = InboundMessage.objects.get()
    assert (message.state, message.result["error"]) == (InboundMessage.State.DEAD, "work_unfinished")
    assert f"{order.number}-02" in message.result["message"]
    assert "1 of 2 work orders are unfinished" in message.result["message"]
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.IN_PRODUCTION


def test_an_mes_running_report_before_any_work_order_started_is_dead_lettered(client, mes_system, order):
    post_hook(client, MES_HOOK, progress(order, "running"))
    process_all()

    message = InboundMessage.objects.get()
    assert (message.state, message.result["error"]) == (InboundMessage.State.DEAD, "work_unfinished")
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.RELEASED


def test_an_mes_completed_report_after_the_work_orders_completed_the_order_is_ignored(
    client, mes_system, planner, order
):
    for work_order in order.work_orders.all():
        finish(planner, work_order)

    post_hook(client, MES_HOOK, progress(order, "completed"))
    process_all()

    message = InboundMessage.objects.get()
    assert (message.state, message.result) == (
        InboundMessage.State.PROCESSED,
        {"ignored": "order is completed"},
    )


def crm_created(status):
    return {
        "type": "order.created",
        "subject": "CRM-9",
        "sequence": 1,
        "data": {
            "crm_id": "CRM-9",
            "customer_crm_id": "ACME-9",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": status,
            "lines": [{"line_no": 1, "sku": "PANEL-9", "quantity": "3", "spec_values": valid_spec()}],
        },
    }


@pytest.mark.parametrize("status", ["in_production", "completed"])
def test_a_crm_order_entered_as_started_or_completed_is_dead_lettered_and_not_created(
    client, crm_system, status
):
    CustomerFactory(crm_id="ACME-9")
    ProductFactory(sku="PANEL-9")

    post_hook(client, CRM_HOOK, crm_created(status))
    process_all()

    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.DEAD
    assert "data.status" in message.result["fields"]
    assert not SalesOrder.objects.filter(crm_id="CRM-9").exists()
