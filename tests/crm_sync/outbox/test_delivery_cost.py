"""What one order costs on the CRM → MES path: queries per stage (the sync bench's budget), queue routing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.celery import app as celery_app
from crm_sync import fast_sql, inbound, outbox, poison_guard
from crm_sync.models import Delivery, ExternalSystem, InboundMessage, OutboxEvent, TaskReceipt
from production.master_data import Operation, Routing, WorkCenter
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order, valid_spec

pytestmark = pytest.mark.django_db

# Measured when these budgets were set (December 2026, sync-speed2), with the process's caches warm (an
# order processed before; the master data committed): processing 24 (was 43: the new lines and the
# release's work orders handed on instead of read back, no savepoint per step of create-and-advance and the
# order's row updated once with the steps' history rows written together, the
# CRM id looked up once, customers, products and routings kept per process), delivery 7 (was 10: the claim
# is one statement, in no transaction of its own). A change that adds queries on the path must raise them
# here, knowingly. Materials: +3 for the release's reservations (what the work orders already reserved, the
# BOMs and their items) and +1 for the MES payload's MaterialRequirements (the BOM digest that says whether
# the process's explosions still hold: production.supply_planning); then -4 (December 2026, cpu): a product
# with no material item skips the reservations check and the BOM book, and processing takes no savepoint
# on its way to success (a failure is recorded in a transaction of its own). The figure counts the test's
# own savepoint around the processing transaction (2 of them).
INBOUND_QUERY_BUDGET = 24
# PostgreSQL claims a delivery in one statement; other databases (SQLite for `make test` without
# DATABASE_URL) keep the ORM's claim, three queries more. December 2026 (deliver): 7 -> 2 on PostgreSQL, the
# attempt's outcome (attempt row, compare-and-set, the event settled, what is left in the queue) recorded in
# one statement (fast_sql.delivery_record_outcome) instead of a transaction of four and a read after it;
# other databases keep the ORM's way of it.
DELIVERY_QUERY_BUDGET = 2
DELIVERY_QUERY_BUDGET_ORM_CLAIM = 10
# The CRM hook's own work in the web process: the message stored in one statement (December 2026, hook: was
# 3, BEGIN, the model's INSERT and COMMIT around it); the systems come from the process's cache.
HOOK_QUERY_BUDGET = 1


@pytest.fixture
def crm_orders_released(client, django_capture_on_commit_callbacks):
    """Two CRM "created, released" messages stored by our hook, for a product with a two-step routing.

    The master data is committed (its commit callbacks run), as it is long before a message arrives: the
    processes' caches of systems and routings may keep it, as they do in the bench and in production.
    """
    with django_capture_on_commit_callbacks(execute=True):
        ExternalSystemFactory(
            slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin")
        )
        ExternalSystemFactory(kind=ExternalSystem.Kind.MES, format="b2mml", event_types=["order.released"])
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
    for crm_id in ("CRM-1", "CRM-2"):
        message = {
            "type": "order.created",
            "subject": crm_id,
            "sequence": 1,
            "data": {
                "crm_id": crm_id,
                "customer_crm_id": "ACME-1",
                "requested_date": in_days(20).isoformat(),
                "promised_date": in_days(25).isoformat(),
                "status": "released",
                "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "12", "spec_values": valid_spec()}],
            },
        }
        response = post_hook(client, "/hooks/crm/?system=crm", message)
        assert response.status_code == 202
    return list(InboundMessage.objects.order_by("pk"))


def test_processing_a_released_crm_order_stays_within_its_query_budget(crm_orders_released):
    first, second = crm_orders_released
    inbound.inbound_process(message_pk=first.pk)  # the order before it: the process's caches are warm

    with CaptureQueriesContext(connection) as queries:
        inbound.inbound_process(message_pk=second.pk)

    second.refresh_from_db()
    assert second.state == InboundMessage.State.PROCESSED
    assert Delivery.objects.filter(event__type="order.released", order__crm_id="CRM-2").count() == 1
    assert len(queries) <= INBOUND_QUERY_BUDGET, f"{len(queries)} queries:\n" + "\n".join(
        q["sql"][:120] for q in queries
    )


def test_delivering_one_event_stays_within_its_query_budget(mes):
    system = ExternalSystemFactory(kind=ExternalSystem.Kind.MES, base_url=mes.url)
    order = make_order()

    with CaptureQueriesContext(connection) as queries:
        delivered = outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)

    assert delivered == 1
    assert OutboxEvent.objects.get(order=order).state == OutboxEvent.State.DELIVERED
    budget = DELIVERY_QUERY_BUDGET if connection.vendor == "postgresql" else DELIVERY_QUERY_BUDGET_ORM_CLAIM
    assert len(queries) <= budget, "\n".join(q["sql"][:120] for q in queries)


def test_the_hook_stores_a_crm_message_within_its_query_budget_and_queues_it_after_commit(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # committed: the process may cache the systems
        ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM)
    post_hook(client, "/hooks/crm/?system=crm", {"type": "order.created"})  # the systems cached

    with django_capture_on_commit_callbacks() as queued, CaptureQueriesContext(connection) as queries:
        response = post_hook(client, "/hooks/crm/?system=crm", {"type": "order.created"})

    assert response.status_code == 202
    assert len(queries) <= HOOK_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries)
    assert len(queued) == 1


def test_counting_a_task_delivery_is_one_statement():
    poison_guard.task_receipt_count(task_id="t-9", name="crm_sync.process_inbound", args=[9])

    with CaptureQueriesContext(connection) as queries:
        receipt = poison_guard.task_receipt_count(task_id="t-9", name="crm_sync.process_inbound", args=[9])

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

    fast_sql.outbox_event_settle(event.pk)

    event.refresh_from_db()
    assert event.state == OutboxEvent.State.DEAD


# --- queues ---------------------------------------------------------------------------------------------
def test_deliveries_go_to_their_own_queue_and_inbound_work_to_the_default_one():
    route = celery_app.amqp.router.route

    assert route({}, "crm_sync.deliver_order")["queue"].name == settings.SYNC_DELIVERY_QUEUE
    assert route({}, "crm_sync.deliver_orders")["queue"].name == settings.SYNC_DELIVERY_QUEUE
    assert route({}, "crm_sync.process_inbound")["queue"].name == settings.CELERY_TASK_DEFAULT_QUEUE


def test_a_worker_started_without_queues_takes_both_and_each_queue_has_its_own_routing_key():
    queues = {queue.name: queue.routing_key for queue in celery_app.conf.task_queues}

    assert queues == {
        settings.CELERY_TASK_DEFAULT_QUEUE: settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.SYNC_DELIVERY_QUEUE: settings.SYNC_DELIVERY_QUEUE,
    }


# --- the relay under a backlog --------------------------------------------------------------------------
def test_the_relay_republishes_a_waiting_inbound_message_once_per_hold_not_every_sweep(crm_orders_released):
    first = inbound.inbound_due(grace_seconds=0, hold_seconds=30)
    again = inbound.inbound_due(grace_seconds=0, hold_seconds=30)

    assert sorted(first) == [message.pk for message in crm_orders_released]
    assert again == []


def test_a_held_inbound_message_is_still_processed_when_its_task_arrives(crm_orders_released):
    message = crm_orders_released[0]
    inbound.inbound_due(grace_seconds=0, hold_seconds=30)

    inbound.inbound_process(message_pk=message.pk)

    message.refresh_from_db()
    assert message.state == InboundMessage.State.PROCESSED
