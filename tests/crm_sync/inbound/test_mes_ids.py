"""The MES's own ids of work orders and operations: kept from its acknowledgement, matched in its later
messages, and named in ours."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm_sync import b2mml
from crm_sync.models import ExternalSystem, InboundMessage, OutboxEvent
from orders.sales import transitions
from production import work_orders
from production.work_orders import ProductionException, WorkOrder, WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import unavailable

pytestmark = pytest.mark.django_db

HOOK = reverse("hooks:mes")


@pytest.fixture
def mes_system(db):
    return ExternalSystemFactory(
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        format=ExternalSystem.Format.B2MML,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )


@pytest.fixture
def released(mes_system, sales, planner):
    product = ProductFactory()
    cut, weld = make_work_center(planner, "CUT"), make_work_center(planner, "WELD")
    make_routing(planner, product, [(cut, 10, 1), (weld, 5, 2)])
    order = make_order(owner=sales, product=product, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def the_work_order(order) -> WorkOrder:
    return WorkOrder.objects.get(order=order)


def mes_ids(order) -> list[dict]:
    number = the_work_order(order).number
    return [
        {
            "number": number,
            "mes_id": "MES-WO-77",
            "operations": [{"sequence": 10, "mes_id": "MES-OP-1"}, {"sequence": 20, "mes_id": "MES-OP-2"}],
        }
    ]


def acknowledge_b2mml(client, order) -> bytes:
    event = OutboxEvent.objects.get(order=order, type="order.released")
    document = b2mml.acknowledgement_for(
        bod_ids=[str(event.id)],
        created="2026-11-26T08:00:00Z",
        bod_id="ack-1",
        order_number=order.number,
        work_orders=mes_ids(order),
    )
    post_hook(client, HOOK, document, content_type="application/xml")
    process_all()
    return document


def stored(order) -> tuple[str, list[tuple[int, str]]]:
    work_order = the_work_order(order)
    return work_order.mes_id, list(
        work_order.operations.order_by("sequence").values_list("sequence", "mes_id")
    )


def test_the_acknowledgement_with_the_mes_ids_validates_as_b2mml_v0701(client, released):
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema (ORDERBRIDGE_B2MML_SCHEMA_DIR)")
    document = acknowledge_b2mml(client, released)
    assert b2mml.validation_errors(document, schema_dir=folder) == []


def test_a_b2mml_acknowledgement_stores_the_mes_ids_of_the_work_order_and_its_operations(client, released):
    acknowledge_b2mml(client, released)
    assert stored(released) == ("MES-WO-77", [(10, "MES-OP-1"), (20, "MES-OP-2")])
    assert the_work_order(released).status == "released"


def test_a_json_acknowledgement_stores_the_mes_ids_too(client, released):
    event = OutboxEvent.objects.get(order=released, type="order.released")
    message = {
        "type": "operations.acknowledged",
        "subject": released.number,
        "data": {"event_id": str(event.id), "work_orders": mes_ids(released)},
    }
    post_hook(client, HOOK, message)
    process_all()
    assert stored(released) == ("MES-WO-77", [(10, "MES-OP-1"), (20, "MES-OP-2")])
    assert InboundMessage.objects.get().result["mes_ids_stored"] == 3


def test_progress_naming_the_mes_ids_is_matched_to_our_work_order_and_operation(client, released):
    acknowledge_b2mml(client, released)
    message = {
        "type": "operations.progress",
        "sequence": 1,
        "data": {"work_order": "MES-WO-77", "operation": "MES-OP-2", "good_quantity": "3", "finished": False},
    }
    post_hook(client, HOOK, message)
    process_all()
    operation = WorkOrderOperation.objects.get(work_order=the_work_order(released), sequence=20)
    assert str(operation.good_quantity) == "3.000"


def test_a_b2mml_performance_report_naming_the_mes_work_order_id_is_matched(client, released):
    acknowledge_b2mml(client, released)
    document = b2mml.performance_for(
        bod_id="perf-1",
        created="2026-11-26T09:00:00Z",
        work_order="MES-WO-77",
        operation=10,
        good_quantity="2",
        finished=False,
    )
    post_hook(client, HOOK, document, content_type="application/xml")
    process_all()
    assert str(WorkOrderOperation.objects.get(mes_id="MES-OP-1").good_quantity) == "2.000"


def test_an_exception_naming_the_mes_id_is_raised_on_our_work_order(client, released):
    acknowledge_b2mml(client, released)
    message = {
        "type": "operations.exception",
        "data": {"work_order": "MES-WO-77", "kind": "material_shortage", "severity": "high"},
    }
    post_hook(client, HOOK, message)
    process_all()
    assert ProductionException.objects.get().work_order == the_work_order(released)


def test_an_unknown_mes_id_is_a_field_error_not_a_crash(client, released):
    post_hook(client, HOOK, {"type": "operations.exception", "data": {"work_order": "MES-WO-404"}})
    process_all()
    failed = InboundMessage.objects.get()
    assert failed.state == InboundMessage.State.DEAD
    assert "data.work_order" in failed.result["fields"]


def test_our_later_messages_name_the_mes_ids(client, released, planner):
    acknowledge_b2mml(client, released)
    work_orders.work_order_transition(
        actor=planner, work_order=the_work_order(released), name="hold", reason="Tooling"
    )
    event = OutboxEvent.objects.get(order=released, type="work_order.held")
    (sent,) = event.data["work_orders"]
    assert (sent["mes_id"], [op["mes_id"] for op in sent["operations"]]) == (
        "MES-WO-77",
        ["MES-OP-1", "MES-OP-2"],
    )
    read = b2mml.schedule_read(b2mml.schedule_for_event(event.as_cloudevent()))
    parameters = [segment["parameters"] for segment in read["requests"][0]["segments"]]
    assert [(p["mes_work_order_id"], p["mes_operation_id"]) for p in parameters] == [
        ("MES-WO-77", "MES-OP-1"),
        ("MES-WO-77", "MES-OP-2"),
    ]
