"""The MES gets one OperationsRequest per work order, one SegmentRequirement per routing operation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from crm_sync import b2mml, outbox
from crm_sync.models import OutboxEvent
from orders.sales import transitions
from production.work_orders import WorkOrder
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import unavailable

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_dir() -> Path:
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema (ORDERBRIDGE_B2MML_SCHEMA_DIR)")
    return folder


@pytest.fixture
def released(sales, planner):
    product = ProductFactory()
    cut, weld, paint = (make_work_center(planner, code) for code in ("CUT", "WELD", "PAINT"))
    # Lots of 10: the order's 10 + 20 pieces make three work orders.
    make_routing(planner, product, [(cut, 10, 1), (weld, 5, 2), (paint, 0, 1)], lot_size=Decimal(10))
    order = make_order(owner=sales, product=product, lines=2, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def released_event(order) -> dict:
    return OutboxEvent.objects.get(order=order, type="order.released").as_cloudevent()


def test_each_work_order_is_one_request_with_a_segment_per_operation(released):
    schedule = b2mml.schedule_read(b2mml.schedule_for_event(released_event(released)))

    numbers = list(
        WorkOrder.objects.filter(order=released).order_by("number").values_list("number", flat=True)
    )
    assert [request["id"] for request in schedule["requests"]] == numbers
    for request in schedule["requests"]:
        assert [segment["id"] for segment in request["segments"]] == [
            f"{request['id']}/10",
            f"{request['id']}/20",
            f"{request['id']}/30",
        ]


def test_every_spec_attribute_and_quantity_reaches_every_operation(released):
    event = released_event(released)

    schedule = b2mml.schedule_read(b2mml.schedule_for_event(event))

    spec = event["data"]["lines"][0]["spec"]
    for request, work_order in zip(schedule["requests"], event["data"]["work_orders"], strict=True):
        for segment in request["segments"]:
            parameters = segment["parameters"]
            assert parameters["work_order"] == work_order["number"]
            assert parameters["quantity"] == work_order["quantity"]
            assert {
                k.removeprefix("spec."): v for k, v in parameters.items() if k.startswith("spec.")
            } == spec


def test_the_work_order_schedule_validates_against_the_v0701_schema(released, schema_dir):
    document = b2mml.schedule_for_event(released_event(released), receiver="mes")

    assert b2mml.validation_errors(document, schema_dir=schema_dir) == []


def test_a_resync_snapshot_validates_as_a_sync_verb(released, schema_dir, admin_user):
    event = outbox.outbox_record_resync(
        order=released, system=ExternalSystemFactory(), actor=admin_user, reason="test"
    )

    document = b2mml.schedule_for_event(event.as_cloudevent())
    assert b"<SyncOperationsSchedule" in document
    assert b2mml.validation_errors(document, schema_dir=schema_dir) == []


def test_the_released_event_carries_the_work_orders_as_stored(released, planner):
    # The release hands its new work orders to the outbox; a resync reads them back from the database.
    system = ExternalSystemFactory(kind="mes", format="b2mml")
    outbox.outbox_record_resync(order=released, system=system, actor=planner, reason="compare")

    stored = OutboxEvent.objects.get(order=released, type="order.resync").data["work_orders"]
    assert released_event(released)["data"]["work_orders"] == stored
    assert len(stored) == 3
