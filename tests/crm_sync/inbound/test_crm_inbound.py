"""Orders created, changed and cancelled in the CRM arrive here through the `orders.sales` services, once, in
order."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm_sync.models import Delivery, ExternalSystem, InboundCursor, InboundMessage, OutboxEvent
from orders.models import OrderStatus, Product, SalesOrder
from orders.sales import transitions
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec

pytestmark = pytest.mark.django_db

HOOK = reverse("hooks:crm")


@pytest.fixture
def crm_system(db):
    return ExternalSystemFactory(
        slug="crm",
        kind=ExternalSystem.Kind.CRM,
        service_user=UserFactory(username="crm-bot", role="admin"),
    )


@pytest.fixture
def mes_system(db):
    return ExternalSystemFactory(slug="mes", kind=ExternalSystem.Kind.MES)


@pytest.fixture
def crm_customer(db):
    return CustomerFactory(crm_id="ACME-1")


@pytest.fixture
def sku(db):
    return ProductFactory(sku="PANEL-1").sku


def created(crm_id="CRM-100", *, sequence=1, status="confirmed", **data):
    return {
        "type": "order.created",
        "subject": crm_id,
        "sequence": sequence,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": "ACME-1",
            "customer_po": "PO-77",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": status,
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "12", "spec_values": valid_spec()}],
            **data,
        },
    }


def updated(crm_id="CRM-100", *, sequence=2, **data):
    return {**created(crm_id, sequence=sequence, **data), "type": "order.updated"}


def last_message() -> InboundMessage:
    return InboundMessage.objects.latest("received_at")


def test_an_order_entered_in_the_crm_becomes_a_confirmed_order_here(client, crm_system, crm_customer, sku):
    response = post_hook(client, HOOK, created())
    process_all()

    assert response.status_code == 202
    order = SalesOrder.objects.get(crm_id="CRM-100")
    assert (order.customer, order.customer_po, order.status) == (crm_customer, "PO-77", OrderStatus.CONFIRMED)
    line = order.lines.get()
    assert (line.product.sku, str(line.quantity), line.spec_values) == ("PANEL-1", "12.000", valid_spec())


def test_an_unknown_customer_is_refused_naming_the_field(client, crm_system, sku):
    post_hook(client, HOOK, created())
    process_all()

    message = last_message()
    assert message.state == InboundMessage.State.DEAD
    assert "data.customer_crm_id" in message.result["fields"]
    assert not SalesOrder.objects.exists()


def test_a_refused_crm_order_keeps_nothing_of_its_attempt_but_the_refusal(client, crm_system, sku):
    # The cursor is advanced before the customer is looked up: the failed attempt rolls it back with the rest.
    post_hook(client, HOOK, created())
    process_all()

    message = last_message()
    assert (message.state, message.attempts) == (InboundMessage.State.DEAD, 1)
    assert message.processed_at is None
    assert not InboundCursor.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_an_invalid_spec_value_is_refused_naming_the_line_and_attribute(
    client, crm_system, crm_customer, sku
):
    bad_line = {"line_no": 1, "sku": "PANEL-1", "quantity": "3", "spec_values": {"material": "wood"}}
    post_hook(client, HOOK, created(lines=[bad_line]))
    process_all()

    fields = last_message().result["fields"]
    assert any(key.startswith("data.lines[0].spec_values") for key in fields), fields
    assert not SalesOrder.objects.exists()


def test_an_unknown_sku_is_refused_naming_the_line(client, crm_system, crm_customer):
    post_hook(client, HOOK, created())
    process_all()

    assert "data.lines[0].sku" in last_message().result["fields"]


# --- customers and products kept per process (committed changes: their commit callbacks run) ----------
@pytest.fixture
def committed_product(db, django_capture_on_commit_callbacks):
    """PANEL-1, committed: the process may keep it (and what it read alongside) from the first order on."""
    with django_capture_on_commit_callbacks(execute=True):
        return ProductFactory(sku="PANEL-1")


@pytest.fixture
def committed_customer(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return CustomerFactory(crm_id="ACME-1")


def test_a_customer_added_after_a_refusal_is_found_by_the_next_order(
    client, crm_system, committed_product, django_capture_on_commit_callbacks
):
    post_hook(client, HOOK, created("CRM-1"))
    process_all()
    assert last_message().state == InboundMessage.State.DEAD
    with django_capture_on_commit_callbacks(execute=True):
        CustomerFactory(crm_id="ACME-1")

    post_hook(client, HOOK, created("CRM-2"))
    process_all()

    assert SalesOrder.objects.filter(crm_id="CRM-2").exists()


def test_a_product_withdrawn_after_an_order_is_refused_in_the_next_one(
    client, crm_system, committed_customer, committed_product, django_capture_on_commit_callbacks
):
    post_hook(client, HOOK, created("CRM-1"))
    process_all()
    product = Product.objects.get(pk=committed_product.pk)
    product.is_active = False
    with django_capture_on_commit_callbacks(execute=True):
        product.save()

    post_hook(client, HOOK, created("CRM-2"))
    process_all()

    assert SalesOrder.objects.filter(crm_id="CRM-1").exists()
    assert "data.lines[0].product" in last_message().result["fields"]
    assert not SalesOrder.objects.filter(crm_id="CRM-2").exists()


def test_a_family_schema_changed_after_an_order_checks_the_next_one(
    client, crm_system, committed_customer, committed_product, django_capture_on_commit_callbacks
):
    post_hook(client, HOOK, created("CRM-1"))
    process_all()
    family = Product.objects.get(pk=committed_product.pk).family
    schema = family.spec_schema
    # A new required attribute the CRM does not send yet.
    family.spec_schema = {
        **schema,
        "properties": {**schema.get("properties", {}), "grade": {"type": "string"}},
        "required": [*schema.get("required", []), "grade"],
    }
    with django_capture_on_commit_callbacks(execute=True):
        family.save()

    post_hook(client, HOOK, created("CRM-2"))
    process_all()

    fields = last_message().result["fields"]
    assert any(key.startswith("data.lines[0].spec_values") for key in fields), fields
    assert not SalesOrder.objects.filter(crm_id="CRM-2").exists()


def test_a_change_in_the_crm_edits_an_order_that_is_still_editable(client, crm_system, crm_customer, sku):
    post_hook(client, HOOK, created())
    process_all()
    line = {"line_no": 1, "sku": "PANEL-1", "quantity": "20", "spec_values": valid_spec()}

    post_hook(client, HOOK, updated(customer_po="PO-78", lines=[line]))
    process_all()

    order = SalesOrder.objects.get(crm_id="CRM-100")
    assert order.customer_po == "PO-78"
    assert str(order.lines.get().quantity) == "20.000"
    assert order.history.first().history_user.username == "crm-bot"


def test_an_older_change_arriving_after_a_newer_one_is_ignored_and_counted(
    client, crm_system, crm_customer, sku
):
    post_hook(client, HOOK, created())
    process_all()
    post_hook(client, HOOK, updated(sequence=3, customer_po="PO-NEWER"))
    post_hook(client, HOOK, updated(sequence=2, customer_po="PO-OLDER"))

    process_all()

    assert SalesOrder.objects.get(crm_id="CRM-100").customer_po == "PO-NEWER"
    assert InboundMessage.objects.filter(result__ignored="stale").count() == 1
    assert InboundCursor.objects.get(subject="crm:CRM-100").stale_ignored == 1


def test_the_same_crm_message_delivered_twice_creates_one_order(client, crm_system, crm_customer, sku):
    first = post_hook(client, HOOK, created(), msg_id="crm_1")
    second = post_hook(client, HOOK, created(), msg_id="crm_1")
    process_all()

    assert (first.status_code, second.status_code) == (202, 200)
    assert SalesOrder.objects.filter(crm_id="CRM-100").count() == 1


def test_a_change_from_the_crm_is_not_echoed_back_to_the_crm(
    client, crm_system, mes_system, crm_customer, sku
):
    post_hook(client, HOOK, created())
    process_all()

    order = SalesOrder.objects.get(crm_id="CRM-100")
    events = OutboxEvent.objects.filter(order=order)
    assert set(events.values_list("origin", flat=True)) == {"crm:crm"}
    assert not Delivery.objects.filter(system=crm_system).exists()
    # Other systems still learn of it.
    assert Delivery.objects.filter(system=mes_system, order=order).count() == events.count()


def test_a_change_made_here_afterwards_goes_to_the_crm(client, crm_system, crm_customer, sku, planner):
    post_hook(client, HOOK, created())
    process_all()
    order = SalesOrder.objects.get(crm_id="CRM-100")

    transitions.order_release(actor=planner, order=order)

    released = OutboxEvent.objects.get(order=order, type="order.released")
    assert released.origin == ""
    assert Delivery.objects.filter(system=crm_system, event=released).exists()


def test_an_update_to_a_released_order_becomes_a_change_request_not_an_edit(
    client, crm_system, crm_customer, sku, planner
):
    post_hook(client, HOOK, created())
    process_all()
    order = transitions.order_release(actor=planner, order=SalesOrder.objects.get(crm_id="CRM-100"))
    line = {"line_no": 1, "sku": "PANEL-1", "quantity": "30", "spec_values": valid_spec()}

    post_hook(client, HOOK, updated(lines=[line]))
    process_all()

    order = SalesOrder.objects.get(pk=order.pk)
    assert str(order.lines.get().quantity) == "12.000"  # not edited
    request = order.change_requests.get()
    assert (request.origin, request.status) == ("crm", "submitted")
    assert request.changes == [{"op": "set_quantity", "line_no": 1, "quantity": "30"}]


def test_a_cancel_from_the_crm_cancels_an_editable_order(client, crm_system, crm_customer, sku):
    post_hook(client, HOOK, created())
    process_all()

    post_hook(client, HOOK, {**updated(reason="Customer withdrew"), "type": "order.cancelled"})
    process_all()

    assert SalesOrder.objects.get(crm_id="CRM-100").status == OrderStatus.CANCELLED


def test_a_second_crm_payload_shape_is_connected_by_configuration_alone(client, crm_customer, sku):
    ExternalSystemFactory(
        slug="other-crm",
        kind=ExternalSystem.Kind.CRM,
        service_user=UserFactory(username="crm2-bot", role="admin"),
        field_mapping={
            "inbound": {
                "type": {
                    "from": "event",
                    "map": {"DealWon": "order.created", "DealChanged": "order.updated"},
                },
                "subject": "deal.id",
                "sequence": "deal.rev",
                "data.crm_id": "deal.id",
                "data.customer_crm_id": "deal.account",
                "data.status": {"const": "confirmed"},
                "data.lines": {
                    "each": "deal.items",
                    "fields": {"sku": "code", "quantity": "qty", "spec_values": "options"},
                },
            }
        },
    )
    their_payload = {
        "event": "DealWon",
        "deal": {
            "id": "D-9",
            "rev": 1,
            "account": "ACME-1",
            "items": [{"code": "PANEL-1", "qty": 4, "options": valid_spec()}],
        },
    }

    response = post_hook(client, reverse("hooks:crm") + "?system=other-crm", their_payload)
    process_all()

    assert response.status_code == 202
    order = SalesOrder.objects.get(crm_id="D-9")
    assert (order.status, str(order.lines.get().quantity)) == (OrderStatus.CONFIRMED, "4.000")


def test_the_hook_alias_needs_a_system_name_when_several_crms_are_enabled(client, crm_system):
    ExternalSystemFactory(slug="crm-b", kind=ExternalSystem.Kind.CRM)

    response = post_hook(client, HOOK, created())

    assert response.status_code == 400
    assert "system" in response.json()["error"]["fields"]
