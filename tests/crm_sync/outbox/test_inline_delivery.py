"""The inbound task delivers the events its message caused itself, after commit (one task per CRM order, not
two), with the outbox's guarantees: the rows were committed with the change, and what it does not deliver
stays pending for a delivery task or the relay."""

from __future__ import annotations

import pytest

from crm_sync import inbound
from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from production.master_data import Operation, Routing, WorkCenter
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec

# Real commits: the wake-ups are commit callbacks of the inbound transaction.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def crm_message(client, mes):
    """A CRM "created, released" message stored by our hook; the MES simulator takes the release."""
    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin"))
    ExternalSystemFactory(
        kind=ExternalSystem.Kind.MES, base_url=mes.url, format="b2mml", event_types=["order.released"]
    )
    CustomerFactory(crm_id="ACME-1")
    routing = Routing.objects.create(product=ProductFactory(sku="PANEL-1"), name="Panel")
    center = WorkCenter.objects.create(code="CUT", name="Cut")
    Operation.objects.create(
        routing=routing, sequence=10, name="Cut", work_center=center, setup_minutes=5, run_minutes_per_unit=1
    )
    message = {
        "type": "order.created",
        "subject": "CRM-1",
        "sequence": 1,
        "data": {
            "crm_id": "CRM-1",
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": "released",
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "12", "spec_values": valid_spec()}],
        },
    }
    assert post_hook(client, "/hooks/crm/?system=crm", message).status_code == 202
    return InboundMessage.objects.get()


def test_the_inbound_task_delivers_the_release_it_caused_itself(crm_message, mes):
    inbound.process_inbound(crm_message.pk)

    delivery = Delivery.objects.get(event__type="order.released")
    assert delivery.state == Delivery.State.DELIVERED
    assert delivery.attempts == 1
    assert [item["subject"] for item in mes.received()] == [delivery.event.subject]


def test_with_inline_delivery_off_the_release_waits_for_its_delivery_task(crm_message, mes, settings):
    settings.SYNC_DELIVER_INLINE = False

    inbound.process_inbound(crm_message.pk)

    assert Delivery.objects.get(event__type="order.released").state == Delivery.State.PENDING
    assert mes.received() == []


def test_a_message_processed_before_delivers_nothing_again(crm_message, mes):
    inbound.process_inbound(crm_message.pk)

    inbound.process_inbound(crm_message.pk)  # a redelivered task: the message is processed, nothing is woken

    assert len(mes.received()) == 1
    assert Delivery.objects.get(event__type="order.released").attempts == 1
