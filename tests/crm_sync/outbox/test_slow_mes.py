"""A slow, failing MES never slows CRM intake: inbound messages are processed by their own task on the
default queue, deliveries by theirs on the deliveries queue (workers started as the README starts them:
one consuming each queue, the deliveries' with threads), over real HTTP, Redis and worker processes; and a
slow MES gets several orders' messages at once, not one after the other."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection

from crm_sync.models import Delivery, DeliveryAttempt, ExternalSystem, InboundMessage
from production.master_data import Operation, Routing, WorkCenter
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.crm_sync.outbox.test_faults import Worker, broker, redis_server, wait_for  # noqa: F401 - fixtures
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MES_DELAY_MS = 2000
ORDERS = 6


@pytest.fixture(scope="module")
def _split_workers(redis_server, django_db_blocker, tmp_path_factory):  # noqa: F811 - the imported fixture
    with django_db_blocker.unblock():
        intake = Worker(broker=redis_server.url, folder=tmp_path_factory.mktemp("intake"), queues="celery")
        deliveries = Worker(
            broker=redis_server.url,
            folder=tmp_path_factory.mktemp("deliveries"),
            queues="sync-deliveries",
            beat=False,
            pool="threads",
            concurrency=8,
        )
        intake.start()
        deliveries.start()
    yield intake, deliveries
    intake.kill()
    deliveries.kill()


@pytest.fixture
def split_workers(broker, _split_workers):  # noqa: F811 - the imported fixture
    for worker in _split_workers:
        if not worker.alive():
            worker.start()
        worker.wait_ready()
    return _split_workers


def released(crm_id: str) -> dict:
    return {
        "type": "order.created",
        "subject": crm_id,
        "sequence": 1,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "status": "released",
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "3", "spec_values": valid_spec()}],
        },
    }


def plant_with_a_crm_and_an_mes(mes) -> None:
    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin"))
    ExternalSystemFactory(
        kind=ExternalSystem.Kind.MES,
        base_url=mes.url,
        format="b2mml",
        event_types=["order.released"],
        read_timeout=MES_DELAY_MS / 1000 + 5,
    )
    CustomerFactory(crm_id="ACME-1")
    routing = Routing.objects.create(product=ProductFactory(sku="PANEL-1"), name="Panel")
    center = WorkCenter.objects.create(code="CUT", name="Cut")
    Operation.objects.create(
        routing=routing, sequence=10, name="Cut", work_center=center, setup_minutes=5, run_minutes_per_unit=1
    )


def test_a_slow_and_failing_mes_does_not_delay_crm_intake(client, mes, split_workers):
    plant_with_a_crm_and_an_mes(mes)
    mes.control(latency_ms=MES_DELAY_MS, error_rate=0.3)

    for number in range(ORDERS):
        assert post_hook(client, "/hooks/crm/?system=crm", released(f"CRM-S{number}")).status_code == 202

    processed = wait_for(
        lambda: InboundMessage.objects.filter(state=InboundMessage.State.PROCESSED).count() == ORDERS,
        timeout=60,
    )
    assert processed, f"inbound not processed: {list(InboundMessage.objects.values_list('state', flat=True))}"
    # The MES takes 2 s per answer and fails 30 % of them: its deliveries are still under way.
    assert Delivery.objects.exclude(state=Delivery.State.DELIVERED).exists()
    waits = [
        (message.processed_at - message.received_at).total_seconds()
        for message in InboundMessage.objects.all()
    ]
    assert max(waits) < MES_DELAY_MS / 1000, f"inbound waited for the MES: {sorted(waits)}"

    # The guarantees still hold: every release reaches the MES once, in the end.
    connection.close()
    assert wait_for(
        lambda: set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED},
        timeout=90,
        interval=0.5,
    )
    assert sorted(subject for subject, _seq in mes.subjects()) == sorted(
        Delivery.objects.values_list("event__subject", flat=True)
    )


def test_a_slow_mes_gets_several_orders_at_once(client, mes, split_workers):
    plant_with_a_crm_and_an_mes(mes)
    mes.control(latency_ms=MES_DELAY_MS, error_rate=0)

    for number in range(ORDERS):
        assert post_hook(client, "/hooks/crm/?system=crm", released(f"CRM-P{number}")).status_code == 202

    connection.close()
    assert wait_for(
        lambda: Delivery.objects.filter(state=Delivery.State.DELIVERED).count() == ORDERS,
        timeout=60,
        interval=0.5,
    )
    # One message in flight per order, several orders in flight at once: some requests overlapped.
    spans = sorted(
        (attempt.started_at.timestamp(), attempt.started_at.timestamp() + attempt.latency_ms / 1000)
        for attempt in DeliveryAttempt.objects.all()
    )
    overlapping = sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)
    assert overlapping >= 1, f"every request waited for the one before: {spans}"
