"""What one order costs on the CRM → MES path: queries per stage (the sync bench's budget), queue routing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from crm_sync import inbound, services, tasks
from crm_sync.models import Delivery, ExternalSystem, InboundMessage, OutboxEvent, TaskReceipt
from production.models import Operation, Routing, WorkCenter
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order, valid_spec

from .factories import ExternalSystemFactory
from .helpers import post_hook

pytestmark = pytest.mark.django_db

# Measured when these budgets were set (December 2026, sync-speed): processing 43 (was 56: create,
# confirm and release in one pass, no re-lock, the three events written together, the actor handed to
# production, no MAX(sequence) for a new order), delivery 10 (was 12: no second claim on an empty queue).
# A change that adds queries on the path must raise them here, knowingly.
INBOUND_QUERY_BUDGET = 43
DELIVERY_QUERY_BUDGET = 10


@pytest.fixture
def crm_order_released(client):
    """A CRM "created, released" message stored by our hook, for a product with a two-step routing."""
    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin"))
    CustomerFactory(crm_id="ACME-1")
    product = ProductFactory(sku="PANEL-1")
    routing = Routing.objects.create(product=product, name="Panel")
    for sequence, code in ((10, "CUT"), (20, "BEND")):
        center = WorkCenter.objects.create(code=code, name=code)
        Operation.objects.create(
            routing=routing,
            sequence=sequence,
            name=code,
            work_center=center,
            setup_minutes=5,
            run_minutes_per_unit=1,
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
    response = post_hook(client, "/hooks/crm/?system=crm", message)
    assert response.status_code == 202
    return InboundMessage.objects.get()


def test_processing_a_released_crm_order_stays_within_its_query_budget(crm_order_released):
    ExternalSystemFactory(kind=ExternalSystem.Kind.MES, format="b2mml", event_types=["order.released"])

    with CaptureQueriesContext(connection) as queries:
        inbound.inbound_process(message_pk=crm_order_released.pk)

    crm_order_released.refresh_from_db()
    assert crm_order_released.state == InboundMessage.State.PROCESSED
    assert Delivery.objects.filter(event__type="order.released").count() == 1
    assert len(queries) <= INBOUND_QUERY_BUDGET, f"{len(queries)} queries:\n" + "\n".join(
        q["sql"][:120] for q in queries
    )


def test_delivering_one_event_stays_within_its_query_budget(mes):
    system = ExternalSystemFactory(kind=ExternalSystem.Kind.MES, base_url=mes.url)
    order = make_order()

    with CaptureQueriesContext(connection) as queries:
        delivered = services.deliveries_drain(system_id=system.pk, order_id=order.pk)

    assert delivered == 1
    assert OutboxEvent.objects.get(order=order).state == OutboxEvent.State.DELIVERED
    assert len(queries) <= DELIVERY_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries)


def test_counting_a_task_delivery_is_one_statement():
    tasks.task_receipt_count(task_id="t-9", name="crm_sync.process_inbound", args=[9])

    with CaptureQueriesContext(connection) as queries:
        receipt = tasks.task_receipt_count(task_id="t-9", name="crm_sync.process_inbound", args=[9])

    assert len(queries) == 1
    assert receipt.deliveries == 2
    assert TaskReceipt.objects.get(task_id="t-9").args == [9]


def test_an_event_with_one_dead_delivery_is_dead_even_if_another_was_delivered():
    first = ExternalSystemFactory()
    ExternalSystemFactory()
    order = make_order()
    event = OutboxEvent.objects.get(order=order)
    event.deliveries.filter(system=first).update(state=Delivery.State.DEAD)
    event.deliveries.exclude(system=first).update(state=Delivery.State.DELIVERED)

    services._settle_event(event.pk)

    event.refresh_from_db()
    assert event.state == OutboxEvent.State.DEAD


# --- queues ---------------------------------------------------------------------------------------------
def test_deliveries_go_to_their_own_queue_and_inbound_work_to_the_default_one():
    route = celery_app.amqp.router.route

    assert route({}, "crm_sync.deliver_order")["queue"].name == settings.SYNC_DELIVERY_QUEUE
    assert route({}, "crm_sync.process_inbound")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE


def test_a_worker_started_without_queues_takes_both_and_each_queue_has_its_own_routing_key():
    queues = {queue.name: queue.routing_key for queue in celery_app.conf.task_queues}

    assert queues == {
        settings.CELERY_TASK_DEFAULT_QUEUE: settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.SYNC_DELIVERY_QUEUE: settings.SYNC_DELIVERY_QUEUE,
    }


# --- the relay under a backlog --------------------------------------------------------------------------
def test_the_relay_republishes_a_waiting_inbound_message_once_per_hold_not_every_sweep(crm_order_released):
    first = inbound.inbound_due(grace_seconds=0, hold_seconds=30)
    again = inbound.inbound_due(grace_seconds=0, hold_seconds=30)

    assert first == [crm_order_released.pk]
    assert again == []


def test_a_held_inbound_message_is_still_processed_when_its_task_arrives(crm_order_released):
    inbound.inbound_due(grace_seconds=0, hold_seconds=30)

    inbound.inbound_process(message_pk=crm_order_released.pk)

    crm_order_released.refresh_from_db()
    assert crm_order_released.state == InboundMessage.State.PROCESSED
