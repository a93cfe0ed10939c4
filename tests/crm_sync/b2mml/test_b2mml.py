"""B2MML for the MES: what we write validates against MESA's V0701 XSDs and carries every attribute."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from crm_sync import b2mml
from crm_sync.models import Delivery, ExternalSystem, OutboxEvent
from crm_sync.outbox import deliveries_drain
from orders.sales import transitions
from tests.crm_sync.conftest import start_simulator
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import make_order
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
    order = make_order(owner=sales, lines=2, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def released_event(order) -> dict:
    return OutboxEvent.objects.get(order=order, type="order.released").as_cloudevent()


def test_a_released_order_validates_as_a_process_operations_schedule(released, schema_dir):
    document = b2mml.schedule_for_event(released_event(released), receiver="mes")

    assert document.startswith(b"<?xml")
    assert b"<ProcessOperationsSchedule" in document
    assert b2mml.validation_errors(document, schema_dir=schema_dir) == []


def test_the_validator_rejects_a_document_missing_a_required_element(released, schema_dir):
    document = b2mml.schedule_for_event(released_event(released))
    broken = re.sub(rb"<ProcessSegmentID>[^<]*</ProcessSegmentID>", b"", document, count=1)

    assert b2mml.validation_errors(broken, schema_dir=schema_dir) != []


@pytest.mark.parametrize(("event_type", "root"), [("order.cancelled", "Cancel"), ("order.held", "Change")])
def test_other_changes_validate_with_their_own_verb(released, schema_dir, event_type, root):
    event = {**released_event(released), "type": f"com.orderbridge.{event_type}"}

    document = b2mml.schedule_for_event(event)

    assert f"<{root}OperationsSchedule".encode() in document
    assert b2mml.validation_errors(document, schema_dir=schema_dir) == []


def test_every_attribute_of_the_order_survives_the_round_trip(released):
    event = released_event(released)

    schedule = b2mml.schedule_read(b2mml.schedule_for_event(event))

    assert (schedule["verb"], schedule["bod_id"]) == ("Process", event["id"])
    assert schedule["order_number"] == released.number
    # One OperationsRequest per work order (here one per line: no lot size).
    assert [r["id"] for r in schedule["requests"]] == [f"{released.number}-01", f"{released.number}-02"]
    for line, request in zip(event["data"]["lines"], schedule["requests"], strict=True):
        parameters = request["segments"][0]["parameters"]
        assert parameters["quantity"] == line["quantity"]
        assert parameters["sku"] == line["sku"]
        assert parameters["promised_date"] == event["data"]["promised_date"]
        assert {k.removeprefix("spec."): v for k, v in parameters.items() if k.startswith("spec.")} == line[
            "spec"
        ]


def test_the_mes_simulator_receives_a_released_order_as_valid_b2mml(sales, planner, schema_dir):
    mes = start_simulator("crm_sync.simulators.mes", "--secret", TEST_SECRET, "--schema-dir", str(schema_dir))
    try:
        system = ExternalSystemFactory(
            kind=ExternalSystem.Kind.MES,
            format=ExternalSystem.Format.B2MML,
            base_url=mes.url,
            event_types=["order.released"],
        )
        order = make_order(owner=sales, confirmed=True)
        order = transitions.order_release(actor=planner, order=order)

        deliveries_drain(system_id=system.pk, order_id=order.pk)

        [received] = mes.received()
        assert received["type"] == "ProcessOperationsSchedule"
        assert (received["subject"], received["sequence"]) == (order.number, 3)
        assert received["body"]["requests"][0]["segments"][0]["parameters"]["spec.material"] == "steel"
        assert Delivery.objects.get(system=system).state == Delivery.State.DELIVERED
    finally:
        mes.stop()


def test_a_document_is_written_byte_for_byte_as_elementtree_writes_it_with_its_declaration():
    from xml.etree import ElementTree as ET

    root = ET.Element(f"{{{b2mml.NS}}}ProcessOperationsSchedule", {"releaseID": b2mml.RELEASE_ID})
    ET.SubElement(root, f"{{{b2mml.NS}}}Description").text = "Kunde Müller & Söhne <Ø 2 mm>"

    assert b2mml.serialize(root) == ET.tostring(root, encoding="utf-8", xml_declaration=True)


def test_a_document_written_in_order_is_byte_for_byte_the_tree_elementtree_would_write():
    from xml.etree import ElementTree as ET

    from crm_sync.b2mml.elements import Writer, sub

    root = ET.Element(f"{{{b2mml.NS}}}ChangeOperationsSchedule", {"releaseID": b2mml.RELEASE_ID})
    out = Writer("ChangeOperationsSchedule", releaseID=b2mml.RELEASE_ID)
    area = sub(root, "DataArea")
    out.open("DataArea")
    sub(area, "Change", responseCode='Al"ways\n\t&<>\r')
    out.leaf("Change", responseCode='Al"ways\n\t&<>\r')
    schedule = sub(area, "OperationsSchedule")
    out.open("OperationsSchedule")
    texts = (("ID", "SO-1 > SO-0 & Müller <Ø>"), ("Version", 3), ("Description", ""), ("Empty", None))
    for tag, text in texts:
        sub(schedule, tag, text)
        out.leaf(tag, text)
    sub(schedule, "DataType", "Other", OtherValue="json")
    out.leaf("DataType", "Other", OtherValue="json")

    assert out.document() == b2mml.serialize(root)
