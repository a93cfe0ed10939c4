"""Honest latency: an event caused by an inbound message starts its clock when our hook received that
message, not when it was processed; sync health measures from there to the receiver's acknowledgement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm_sync import inbound, outbox
from crm_sync.models import Delivery, ExternalSystem, InboundMessage, OutboxEvent
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order, valid_spec

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_message(client):
    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin"))
    ExternalSystemFactory(slug="erp")  # takes every event
    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")
    message = {
        "type": "order.created",
        "subject": "CRM-L1",
        "sequence": 1,
        "data": {
            "crm_id": "CRM-L1",
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "2", "spec_values": valid_spec()}],
        },
    }
    assert post_hook(client, "/hooks/crm/?system=crm", message).status_code == 202
    stored = InboundMessage.objects.get()
    # It waited ten seconds in the queue before a worker took it.
    InboundMessage.objects.filter(pk=stored.pk).update(received_at=timezone.now() - dt.timedelta(seconds=10))
    stored.refresh_from_db()
    return stored


def test_an_event_caused_by_an_inbound_message_starts_when_the_hook_received_it(crm_message):
    inbound.inbound_process(message_pk=crm_message.pk)

    event = OutboxEvent.objects.get(type="order.created")
    assert event.caused_at == crm_message.received_at
    assert event.time - event.caused_at >= dt.timedelta(seconds=10)


def test_an_event_of_a_change_made_here_starts_when_it_was_made(sales):
    ExternalSystemFactory()
    make_order(owner=sales)

    event = OutboxEvent.objects.get()
    assert event.caused_at == event.time


def test_sync_health_counts_the_queue_in_the_end_to_end_latency(crm_message):
    inbound.inbound_process(message_pk=crm_message.pk)
    Delivery.objects.update(state=Delivery.State.DELIVERED, delivered_at=timezone.now())

    health = outbox.sync_health(now=timezone.now())

    (erp,) = [row for row in health["systems"] if row.system.slug == "erp"]
    assert erp.latency["hour"]["p50"] >= 10_000  # ms: the ten seconds in the queue are in it
