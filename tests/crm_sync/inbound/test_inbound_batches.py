"""A CRM's new orders waiting together are taken in by one task, in one transaction, each exactly as it would
be alone; a bad message in the batch never takes the others down with it."""

from __future__ import annotations

import datetime as dt
import time

import psycopg
import pytest
from celery.signals import before_task_publish
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm_sync import inbound
from crm_sync.models import Delivery, ExternalSystem, InboundMessage, OutboxEvent
from orders.models import OrderStatus, SalesOrder
from production.master_data import Operation, Routing, WorkCenter
from production.work_orders import WorkOrder, WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db

HOOK = reverse("hooks:crm")


@pytest.fixture
def crm(db):
    ExternalSystemFactory(
        slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(username="crm-bot", role="admin")
    )
    ExternalSystemFactory(slug="mes", kind=ExternalSystem.Kind.MES, event_types=["order.released"])
    CustomerFactory(crm_id="ACME-1")
    product = ProductFactory(sku="PANEL-1")
    routing = Routing.objects.create(product=product, name="Panel")
    for sequence, code in ((10, "CUT"), (20, "BEND")):
        Operation.objects.create(
            routing=routing,
            sequence=sequence,
            name=code,
            work_center=WorkCenter.objects.create(code=code, name=code),
            setup_minutes=5,
            run_minutes_per_unit=1,
        )


def created(crm_id, *, status="released", customer="ACME-1", quantity="12"):
    return {
        "type": "order.created",
        "subject": crm_id,
        "sequence": 1,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": customer,
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": status,
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": quantity, "spec_values": valid_spec()}],
        },
    }


def received(client, *payloads) -> list[InboundMessage]:
    """The messages stored by our hook, waiting for their tasks (none has run yet)."""
    for payload in payloads:
        assert post_hook(client, HOOK, payload).status_code == 202
    return list(InboundMessage.objects.order_by("pk"))


def test_one_task_takes_in_every_new_order_waiting_behind_its_message(client, crm):
    messages = received(client, *(created(f"CRM-{n}") for n in range(5)))

    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundMessage.State.PROCESSED}
    orders = SalesOrder.objects.order_by("crm_id")
    assert [(o.crm_id, o.status) for o in orders] == [(f"CRM-{n}", OrderStatus.RELEASED) for n in range(5)]
    for message in InboundMessage.objects.all():
        order = SalesOrder.objects.get(crm_id=message.subject)
        assert message.result == {"order": order.number, "crm_id": order.crm_id, "status": "released"}
        assert message.attempts == 1


def test_each_order_of_a_batch_gets_what_it_would_get_alone(client, crm):
    alone, *batch = received(client, *(created(f"CRM-{n}") for n in range(4)))
    inbound.inbound_process(message_pk=alone.pk)  # the single path, for comparison
    inbound.inbound_process_waiting(message_pk=batch[0].pk)

    def outcome(order: SalesOrder) -> dict:
        work_orders = list(WorkOrder.objects.filter(order=order).order_by("number"))
        events = list(OutboxEvent.objects.filter(order=order).order_by("sequence"))
        released = events[-1].data["work_orders"]
        return {
            "history": list(
                order.history.order_by("history_id").values_list(
                    "history_type", "status", "history_user__username"
                )
            ),
            "work_orders": [w.number.removeprefix(order.number) for w in work_orders],
            "operations": [
                list(
                    WorkOrderOperation.objects.filter(work_order=w).values_list("sequence", "planned_minutes")
                )
                for w in work_orders
            ],
            "operation_history": WorkOrderOperation.history.filter(work_order__order=order).count(),
            "work_order_history": list(
                WorkOrder.history.filter(order=order).values_list("history_type", "history_user__username")
            ),
            "events": [(e.type, e.sequence, e.origin) for e in events],
            "payload": [(w["number"].removeprefix(order.number), len(w["operations"])) for w in released],
            "deliveries": list(Delivery.objects.filter(order=order).values_list("sequence", "system__slug")),
        }

    expected = outcome(SalesOrder.objects.get(crm_id="CRM-0"))
    assert expected["work_orders"] == ["-01"] and expected["events"][-1][0] == "order.released"
    for crm_id in ("CRM-1", "CRM-2", "CRM-3"):
        assert outcome(SalesOrder.objects.get(crm_id=crm_id)) == expected


def test_a_bad_message_in_a_batch_is_refused_alone_and_the_others_are_taken_in(client, crm):
    messages = received(
        client, created("CRM-1"), created("CRM-2", customer="NOBODY"), created("CRM-3"), created("CRM-4")
    )

    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    states = dict(InboundMessage.objects.values_list("subject", "state"))
    assert states == {
        "CRM-1": InboundMessage.State.PROCESSED,
        "CRM-2": InboundMessage.State.DEAD,
        "CRM-3": InboundMessage.State.PROCESSED,
        "CRM-4": InboundMessage.State.PROCESSED,
    }
    refused = InboundMessage.objects.get(subject="CRM-2")
    assert refused.result["fields"] == {"data.customer_crm_id": ["Unknown customer."]}
    assert sorted(SalesOrder.objects.values_list("crm_id", flat=True)) == ["CRM-1", "CRM-3", "CRM-4"]


def test_a_second_created_of_one_order_in_a_batch_is_applied_after_it_as_an_update(client, crm):
    first = created("CRM-1", status="draft", quantity="12")
    again = {**created("CRM-1", status="draft", quantity="20"), "sequence": 2}
    messages = received(client, first, again)

    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    order = SalesOrder.objects.get(crm_id="CRM-1")
    assert str(order.lines.get().quantity) == "20.000"
    assert InboundMessage.objects.get(pk=messages[1].pk).result == {"order": order.number, "version": 2}


def test_the_other_tasks_of_a_batch_find_their_messages_taken_in_with_one_read(client, crm):
    messages = received(client, *(created(f"CRM-{n}") for n in range(3)))
    assert not inbound.process_inbound.settled(messages[1].pk)
    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    with CaptureQueriesContext(connection) as queries:
        settled = inbound.process_inbound.settled(messages[1].pk)

    assert settled  # the task returns at once: no receipt, no lock
    assert len(queries) == 1
    assert SalesOrder.objects.count() == 3


def test_a_batch_writes_its_orders_in_far_fewer_queries_than_one_by_one(client, crm):
    warm = received(client, created("CRM-WARM"))
    inbound.inbound_process(message_pk=warm[0].pk)  # the process's caches, as in a running worker
    messages = received(client, *(created(f"CRM-{n}") for n in range(10)))[1:]

    with CaptureQueriesContext(connection) as queries:
        inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert SalesOrder.objects.count() == 11
    # Alone, one order costs about 22 queries (test_delivery_cost); ten together about three each.
    assert len(queries) <= 30 + 3 * 10


def test_messages_are_taken_one_at_a_time_when_batches_are_off(client, crm, settings):
    settings.SYNC_INBOUND_BATCH = 1
    messages = received(client, created("CRM-1"), created("CRM-2"))

    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert dict(InboundMessage.objects.values_list("subject", "state")) == {
        "CRM-1": InboundMessage.State.PROCESSED,
        "CRM-2": InboundMessage.State.RECEIVED,
    }


def test_a_message_that_failed_before_is_retried_alone(client, crm):
    messages = received(client, created("CRM-1"), created("CRM-2"))
    InboundMessage.objects.filter(pk=messages[0].pk).update(state=InboundMessage.State.FAILED, attempts=1)

    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert dict(InboundMessage.objects.values_list("subject", "state")) == {
        "CRM-1": InboundMessage.State.PROCESSED,
        "CRM-2": InboundMessage.State.RECEIVED,
    }


def test_a_change_taken_before_its_order_exists_is_retried_and_applied_after_it(client, crm):
    first = created("CRM-1", status="draft", quantity="12")
    change = {**created("CRM-1", status="draft", quantity="20"), "type": "order.updated", "sequence": 2}
    order_message, change_message = received(client, first, change)

    inbound.inbound_process(message_pk=change_message.pk)  # another worker has the "created" in hand
    waiting = InboundMessage.objects.get(pk=change_message.pk)
    assert (waiting.state, waiting.attempts) == (InboundMessage.State.FAILED, 1)
    assert "No order has CRM id CRM-1 (yet)." in waiting.last_error

    inbound.inbound_process(message_pk=order_message.pk)
    inbound.inbound_process(message_pk=change_message.pk)  # its retry

    order = SalesOrder.objects.get(crm_id="CRM-1")
    assert str(order.lines.get().quantity) == "20.000"
    assert InboundMessage.objects.get(pk=change_message.pk).state == InboundMessage.State.PROCESSED


def test_the_orders_of_a_batch_are_woken_for_delivery_by_a_few_tasks(
    client, crm, django_capture_on_commit_callbacks
):
    messages = received(client, *(created(f"CRM-{n}") for n in range(10)))
    published = []

    def seen(sender=None, body=None, **kwargs):
        if sender.startswith("crm_sync.deliver"):
            published.append((sender, *body[0]))

    before_task_publish.connect(seen, weak=False)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            inbound.inbound_process_waiting(message_pk=messages[0].pk)
    finally:
        before_task_publish.disconnect(seen)

    mes = ExternalSystem.objects.get(slug="mes")  # the CRM is not sent back what it sent
    assert [(name, system, len(orders)) for name, system, orders in published] == [
        ("crm_sync.deliver_orders", mes.pk, 8),
        ("crm_sync.deliver_orders", mes.pk, 2),
    ]
    woken = sorted(order for _name, _system, orders in published for order in orders)
    assert woken == sorted(SalesOrder.objects.values_list("pk", flat=True))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_message_another_worker_holds_is_left_to_it_without_waiting(client, crm):
    require_postgresql()
    messages = received(client, created("CRM-1"), created("CRM-2"))
    with connection.cursor() as cursor:  # a regression fails here instead of waiting for ever
        cursor.execute("SET lock_timeout = '5s'")
    other_worker = psycopg.connect(**connection.get_connection_params())
    try:
        other_worker.execute(
            "SELECT id FROM crm_sync_inboundmessage WHERE id = %s FOR UPDATE", [messages[0].pk]
        )

        assert inbound.process_inbound.settled(messages[0].pk)  # its task returns before any receipt
        assert not inbound.process_inbound.settled(messages[1].pk)
        inbound.inbound_process_waiting(message_pk=messages[0].pk)

        # Left to the worker that holds it (its batch): nothing applied here, not even the one behind it.
        states = set(InboundMessage.objects.values_list("state", flat=True))
        assert states == {InboundMessage.State.RECEIVED}
    finally:
        # Its transaction ends, acknowledged by the server, before the lock is counted as released: a bare
        # close() returns before the server's backend has let go of the row (CI once took the next step
        # too early and found it still held).
        other_worker.rollback()
        other_worker.close()
    inbound.inbound_process_waiting(message_pk=messages[0].pk)  # released: taken in with the other
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundMessage.State.PROCESSED}


# --- the linger: a new order waits a moment for those arriving just behind it to join its batch -----------
MES_HOOK = reverse("hooks:mes")


@pytest.fixture
def waits(monkeypatch):
    """The waits asked of time.sleep, in seconds (none taken: the tests stay fast and exact)."""
    asked: list[float] = []
    monkeypatch.setattr(time, "sleep", asked.append)
    return asked


@pytest.fixture
def linger(settings):
    settings.SYNC_INBOUND_LINGER_MS = 400
    settings.SYNC_INBOUND_BATCH = 25
    return settings


def test_a_new_order_waits_the_rest_of_the_linger_before_its_task_takes_it_in(client, crm, linger, waits):
    (message,) = received(client, created("CRM-1"))

    assert not inbound.process_inbound.settled(message.pk)

    (wait,) = waits
    assert 0.2 < wait <= 0.4


def test_orders_arriving_during_the_wait_are_taken_in_by_the_batch_of_the_first(client, crm, linger, waits):
    messages = received(client, created("CRM-1"))
    waits_seen: list[float] = []

    def others_arrive(seconds):
        waits_seen.append(seconds)
        messages.extend(received(client, created("CRM-2"), created("CRM-3"))[1:])

    time.sleep = others_arrive  # restored by the `waits` fixture
    assert not inbound.process_inbound.settled(messages[0].pk)
    inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert SalesOrder.objects.count() == 3
    assert set(InboundMessage.objects.values_list("state", flat=True)) == {InboundMessage.State.PROCESSED}
    assert len(waits_seen) == 1


def test_a_task_whose_message_a_batch_took_during_its_wait_returns_without_taking_it_in(
    client, crm, linger, waits
):
    messages = received(client, created("CRM-1"), created("CRM-2"))
    time.sleep = lambda seconds: inbound.inbound_process_waiting(message_pk=messages[0].pk)

    assert inbound.process_inbound.settled(messages[1].pk)
    assert SalesOrder.objects.count() == 2


def test_a_message_older_than_the_linger_is_taken_in_at_once(client, crm, linger, waits):
    (message,) = received(client, created("CRM-1"))
    InboundMessage.objects.filter(pk=message.pk).update(received_at=timezone.now() - dt.timedelta(seconds=1))

    assert not inbound.process_inbound.settled(message.pk)
    assert waits == []


def test_a_retried_message_does_not_wait(client, crm, linger, waits):
    (message,) = received(client, created("CRM-1"))
    InboundMessage.objects.filter(pk=message.pk).update(state=InboundMessage.State.FAILED, attempts=1)

    assert not inbound.process_inbound.settled(message.pk)
    assert waits == []


def test_nothing_waits_when_batches_are_off(client, crm, linger, waits):
    linger.SYNC_INBOUND_BATCH = 1
    (message,) = received(client, created("CRM-1"))

    assert not inbound.process_inbound.settled(message.pk)
    assert waits == []


def test_nothing_waits_when_the_linger_is_zero(client, crm, linger, waits):
    linger.SYNC_INBOUND_LINGER_MS = 0
    (message,) = received(client, created("CRM-1"))

    assert not inbound.process_inbound.settled(message.pk)
    assert waits == []


def test_messages_that_have_no_batch_form_never_wait(client, crm, linger, waits):
    mes = ExternalSystem.objects.get(slug="mes")
    mes.signing_secret = ExternalSystem.objects.get(slug="crm").signing_secret
    mes.save()
    payload = {"type": "operations.exception", "subject": "WO-1", "data": {"work_order": "WO-1"}}
    assert post_hook(client, MES_HOOK, payload).status_code == 202
    message = InboundMessage.objects.get(system=mes)

    assert not inbound.process_inbound.settled(message.pk)
    assert waits == []
