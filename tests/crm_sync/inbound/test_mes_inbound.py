"""The MES reports back: acknowledgements, progress per operation, exceptions, completion; JSON or B2MML."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from config.kernel.events import OrderChangeApplied
from crm_sync import b2mml
from crm_sync.models import Delivery, ExternalSystem, InboundMessage, OutboxEvent
from crm_sync.outbox import outbox_record_order_event
from orders.models import OrderStatus, SalesOrder
from orders.sales import transitions
from production.work_orders import ProductionException, WorkOrder, WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import unavailable

pytestmark = pytest.mark.django_db

HOOK = reverse("hooks:mes")
EXAMPLES = Path(settings.B2MML_SCHEMA_DIR) / "Examples" / "Courbon-B2MML-V0401"


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


def work_order(order) -> WorkOrder:
    return WorkOrder.objects.get(order=order)


def acknowledge(client, order):
    event = OutboxEvent.objects.get(order=order, type="order.released")
    document = b2mml.acknowledgement_for(
        bod_ids=[str(event.id)], created="2026-11-26T08:00:00Z", bod_id="ack-1"
    )
    post_hook(client, HOOK, document, content_type="application/xml")
    process_all()


def progress(work_order_number, operation, good, *, finished=False, sequence=None):
    message = {
        "type": "operations.progress",
        "data": {
            "work_order": work_order_number,
            "operation": operation,
            "good_quantity": good,
            "finished": finished,
        },
    }
    if sequence is not None:
        message["sequence"] = sequence
    return message


def test_the_release_carries_the_work_orders_and_their_operations(released):
    data = OutboxEvent.objects.get(order=released, type="order.released").data

    [item] = data["work_orders"]
    assert item["number"] == work_order(released).number
    assert [op["sequence"] for op in item["operations"]] == [10, 20]


def test_a_b2mml_acknowledgement_releases_the_work_orders_to_the_mes(client, released, mes_system):
    acknowledge(client, released)

    assert work_order(released).status == "released"
    assert Delivery.objects.get(system=mes_system, event__type="order.released").acknowledged_at is not None


def test_progress_per_operation_moves_the_work_order_and_the_order(client, released):
    acknowledge(client, released)
    number = work_order(released).number

    post_hook(client, HOOK, progress(number, 10, "10", finished=True, sequence=1))
    process_all()

    operation = WorkOrderOperation.objects.get(work_order__number=number, sequence=10)
    assert (operation.status, str(operation.good_quantity)) == ("completed", "10.000")
    assert SalesOrder.objects.get(pk=released.pk).status == OrderStatus.IN_PRODUCTION


def test_reported_totals_are_not_counted_twice_when_repeated(client, released):
    acknowledge(client, released)
    number = work_order(released).number

    post_hook(client, HOOK, progress(number, 10, "4", sequence=1))
    post_hook(client, HOOK, progress(number, 10, "6", sequence=2))
    post_hook(client, HOOK, progress(number, 10, "6", sequence=3))
    process_all()

    assert (
        str(WorkOrderOperation.objects.get(work_order__number=number, sequence=10).good_quantity) == "6.000"
    )


def test_an_older_progress_report_after_a_newer_one_does_not_roll_back(client, released):
    acknowledge(client, released)
    number = work_order(released).number
    post_hook(client, HOOK, progress(number, 10, "8", sequence=5))
    process_all()

    post_hook(client, HOOK, progress(number, 10, "3", sequence=4))
    process_all()

    assert (
        str(WorkOrderOperation.objects.get(work_order__number=number, sequence=10).good_quantity) == "8.000"
    )
    assert InboundMessage.objects.filter(result__ignored="stale").count() == 1


def test_a_b2mml_performance_report_is_applied_per_operation(client, released):
    acknowledge(client, released)
    number = work_order(released).number
    document = b2mml.performance_for(
        bod_id="perf-1",
        created="2026-11-26T09:00:00Z",
        work_order=number,
        operation=20,
        good_quantity="10",
        finished=True,
    )

    response = post_hook(client, HOOK, document, content_type="application/xml")
    process_all()

    assert response.status_code == 202
    assert InboundMessage.objects.get(kind="ProcessOperationsPerformance").state == "processed"
    assert WorkOrderOperation.objects.get(work_order__number=number, sequence=20).status == "completed"


def test_our_performance_document_validates_against_the_v0701_schema(released):
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema")
    document = b2mml.performance_for(
        bod_id="p",
        created="2026-11-26T09:00:00Z",
        work_order="SO-1-01",
        operation=10,
        good_quantity="1",
        finished=False,
    )

    assert b2mml.performance_validation_errors(document, schema_dir=folder) == []


def test_a_performance_document_with_the_operations_start_validates_against_the_schema(released):
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema")
    document = b2mml.performance_for(
        bod_id="p",
        created="2026-11-26T09:00:00Z",
        work_order="SO-1-01",
        operation=10,
        good_quantity="1",
        finished=True,
        started="2026-11-26T07:30:00Z",
    )

    assert b2mml.performance_validation_errors(document, schema_dir=folder) == []


def test_a_b2mml_report_sets_the_operations_actual_start_from_its_start_time(client, released):
    acknowledge(client, released)
    number = work_order(released).number
    document = b2mml.performance_for(
        bod_id="perf-2",
        created="2026-11-26T09:00:00Z",
        work_order=number,
        operation=10,
        good_quantity="10",
        finished=True,
        started="2026-11-26T07:30:00Z",
    )

    post_hook(client, HOOK, document, content_type="application/xml")
    process_all()

    operation = WorkOrderOperation.objects.get(work_order__number=number, sequence=10)
    assert (operation.actual_start.isoformat(), operation.actual_end.isoformat()) == (
        "2026-11-26T07:30:00+00:00",
        "2026-11-26T09:00:00+00:00",
    )


def test_a_json_report_sets_the_operations_actual_start_from_started_at(client, released):
    acknowledge(client, released)
    number = work_order(released).number
    message = progress(number, 10, "10", finished=True, sequence=1)
    message["data"].update(reported_at="2026-11-26T09:00:00Z", started_at="2026-11-26T08:15:00Z")

    post_hook(client, HOOK, message)
    process_all()

    operation = WorkOrderOperation.objects.get(work_order__number=number, sequence=10)
    assert operation.actual_start.isoformat() == "2026-11-26T08:15:00+00:00"


def test_the_legacy_v0401_performance_file_is_read_with_its_bom_crlf_and_missing_attribute():
    path = EXAMPLES / "PES-20121229115825-53107.xml"
    if not path.exists():
        unavailable(f"needs the B2MML example files in {EXAMPLES}")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # the file is as the MES wrote it

    read = b2mml.performance_read(raw)

    assert (read["root"], read["release"]) == ("SyncProductionPerformance", None)
    [response] = read["responses"]
    assert response["work_order"] == "53107"
    [segment] = response["segments"]
    assert segment["operation"] == "Weighing"
    assert segment["materials"][0] == {
        "material": "CRBN0001",
        "lot": "CRBN0001_LOT01",
        "use": "Consumed",
        "quantity": "0.41",
        "unit": "KG",
    }


def test_the_legacy_v0401_schedule_file_is_read_too():
    path = EXAMPLES / "PRO-20121210181416-27942.xml"
    if not path.exists():
        unavailable(f"needs the B2MML example files in {EXAMPLES}")

    root, _ids = b2mml.acknowledged_bod_ids(path.read_bytes())

    assert root == "SyncProductionSchedule"


def test_a_legacy_file_for_an_unknown_work_order_is_kept_and_names_the_field(client, mes_system):
    path = EXAMPLES / "PES-20121229115825-53107.xml"
    if not path.exists():
        unavailable(f"needs the B2MML example files in {EXAMPLES}")

    response = post_hook(client, HOOK, path.read_bytes(), content_type="application/xml")
    process_all()

    assert response.status_code == 202
    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.DEAD
    assert "OperationsResponse[0].ID" in message.result["fields"]


def test_an_exception_from_the_mes_is_raised_on_the_work_order(client, released):
    number = work_order(released).number
    message = {
        "type": "operations.exception",
        "data": {
            "work_order": number,
            "kind": "material_shortage",
            "severity": "high",
            "expected_delay_minutes": 90,
        },
    }

    post_hook(client, HOOK, message)
    process_all()

    raised = ProductionException.objects.get()
    assert (raised.work_order.number, raised.kind, raised.expected_delay_minutes) == (
        number,
        "material_shortage",
        90,
    )


def test_a_bad_exception_kind_is_refused_naming_the_field(client, released):
    message = {
        "type": "operations.exception",
        "data": {"work_order": work_order(released).number, "kind": "x"},
    }

    post_hook(client, HOOK, message)
    process_all()

    assert "data.kind" in InboundMessage.objects.get().result["fields"]


def test_completion_finishes_the_work_order_and_the_order(client, released):
    acknowledge(client, released)

    post_hook(
        client, HOOK, {"type": "operations.completed", "data": {"work_order": work_order(released).number}}
    )
    process_all()

    assert work_order(released).status == "completed"
    assert SalesOrder.objects.get(pk=released.pk).status == OrderStatus.COMPLETED


def test_progress_from_the_mes_is_not_echoed_back_to_the_mes(client, released, mes_system):
    acknowledge(client, released)
    crm = ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM)

    post_hook(client, HOOK, progress(work_order(released).number, 10, "1", sequence=1))
    process_all()

    started = OutboxEvent.objects.get(order=released, type="order.production_started")
    assert started.origin == "mes:mes"
    assert list(Delivery.objects.filter(event=started).values_list("system_id", flat=True)) == [crm.pk]


def test_the_acknowledgement_of_an_applied_change_is_passed_to_the_change_request_service(
    client, released, mes_system
):
    event = outbox_record_order_event(
        OrderChangeApplied(
            order=released,
            change_request_id=7,
            change_request_number="CR-000007",
            revision=released.revision,
            changes=[],
            diff=[],
            disposition="",
        )
    )
    document = b2mml.acknowledgement_for(bod_ids=[str(event.id)], created="2026-11-26T08:00:00Z", bod_id="a")
    post_hook(client, HOOK, document, content_type="application/xml")
    process_all()

    message = InboundMessage.objects.get()
    assert message.state == InboundMessage.State.PROCESSED
    assert message.result["change_requests_acknowledged"] == [7]


def test_progress_arriving_before_the_acknowledgement_is_applied_all_the_same(client, released):
    number = work_order(released).number  # not acknowledged yet: still planned

    post_hook(client, HOOK, progress(number, 10, "2", sequence=1))
    process_all()

    assert InboundMessage.objects.get().state == InboundMessage.State.PROCESSED
    assert work_order(released).status == "in_progress"
