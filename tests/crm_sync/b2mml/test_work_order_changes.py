"""Changes to work under way reach the MES as messages of their own, in B2MML V0701 (valid against MESA's
schemas) and in JSON, and the MES simulator applies each to the work order it holds."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from crm_sync import b2mml, outbox
from crm_sync.management.commands.crm_sync_setup_demo import MES_EVENTS
from crm_sync.models import ExternalSystem, OutboxEvent
from orders import change_requests as crs
from production import work_orders
from tests.crm_sync.factories import ExternalSystemFactory
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, report
from tests.services import unavailable

pytestmark = pytest.mark.django_db

CHANGE_TYPES = (
    "work_order.quantity_changed",
    "work_order.held",
    "work_order.resumed",
    "work_order.cancelled",
    "work_order.disposition_decided",
    "work_order.rework_requested",
)


@pytest.fixture
def schema_dir() -> Path:
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema (ORDERBRIDGE_B2MML_SCHEMA_DIR)")
    return folder


@pytest.fixture
def changed(sales, planner, manager):
    """Two lots of 5 under way: the first made 4 of, held and resumed by the planner, its 4 reworked to a
    new spec; then the line cut to 3 with scrap (the second lot cancelled, the first cut, 1 made scrapped)."""
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    first, second = fresh(order).work_orders.order_by("number")
    report(planner, first, good=4)
    work_orders.work_order_transition(actor=planner, work_order=first, name="hold", reason="Tooling")
    work_orders.work_order_transition(actor=planner, work_order=first, name="resume")
    spec = [{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "raw"}}]
    crs.change_request_apply(
        actor=manager,
        change_request=approved(sales, planner, order, spec, manager=manager, disposition="rework"),
    )
    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    crs.change_request_apply(
        actor=manager,
        change_request=approved(sales, planner, order, cut, manager=manager, disposition="scrap"),
    )
    return fresh(order), fresh(first), fresh(second)


def events(order) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(order_id=order.pk).order_by("sequence"))


def test_the_scenario_makes_every_kind_of_work_order_message(changed):
    order, _first, _second = changed
    assert {e.type for e in events(order) if e.type.startswith("work_order.")} == set(CHANGE_TYPES)


@pytest.mark.parametrize("event_type", CHANGE_TYPES)
def test_each_work_order_message_validates_as_b2mml_v0701(changed, schema_dir, event_type):
    order, _first, _second = changed
    for event in OutboxEvent.objects.filter(order_id=order.pk, type=event_type):
        document = b2mml.schedule_for_event(event.as_cloudevent())
        assert b2mml.validation_errors(document, schema_dir=schema_dir) == []


def test_a_cancel_is_a_cancel_schedule_and_a_rework_a_process_schedule_naming_the_original(changed):
    order, first, second = changed
    cancelled = OutboxEvent.objects.get(order_id=order.pk, type="work_order.cancelled")
    read = b2mml.schedule_read(b2mml.schedule_for_event(cancelled.as_cloudevent()))
    assert (read["verb"], [r["id"] for r in read["requests"]], read["requests"][0]["state"]) == (
        "Cancel",
        [second.number],
        "Cancelled",
    )
    rework = OutboxEvent.objects.get(order_id=order.pk, type="work_order.rework_requested")
    read = b2mml.schedule_read(b2mml.schedule_for_event(rework.as_cloudevent()))
    (request,) = read["requests"]
    parameters = request["segments"][0]["parameters"]
    assert (read["verb"], request["id"]) == ("Process", f"{first.number}-RW1")
    assert (parameters["change.rework_of"], parameters["change.max_rework_rounds"]) == (first.number, 2)
    assert parameters["change.reentry_operation"] == 10


def test_a_quantity_cut_carries_the_new_quantity_and_where_it_came_from(changed):
    order, first, _second = changed
    event = OutboxEvent.objects.get(order_id=order.pk, type="work_order.quantity_changed")
    read = b2mml.schedule_read(b2mml.schedule_for_event(event.as_cloudevent()))
    parameters = read["requests"][0]["segments"][0]["parameters"]
    assert (read["verb"], read["requests"][0]["id"]) == ("Change", first.number)
    assert (parameters["quantity"], parameters["change.quantity_from"], parameters["change.kind"]) == (
        "4.000",
        "5",
        "quantity_changed",
    )


def test_the_json_form_carries_the_same_change(changed):
    order, first, _second = changed
    system = ExternalSystemFactory(kind=ExternalSystem.Kind.MES, format=ExternalSystem.Format.JSON)
    event = OutboxEvent.objects.get(order_id=order.pk, type="work_order.disposition_decided")
    body, content_type = outbox.render_payload(system=system, event=event)
    assert content_type == "application/cloudevents+json"
    document = httpx.Response(200, content=body).json()
    assert document["type"] == "com.orderbridge.work_order.disposition_decided"
    (sent,) = document["data"]["work_orders"]
    assert (sent["number"], sent["change"]["disposition"], sent["change"]["disposition_quantity"]) == (
        first.number,
        "scrap",
        "1",
    )


def test_work_order_messages_go_to_the_mes_only(sales, planner):
    crm = ExternalSystemFactory(kind=ExternalSystem.Kind.CRM)
    mes = ExternalSystemFactory(kind=ExternalSystem.Kind.MES)
    order = released_order(sales, planner, make_line(planner))
    (work_order,) = fresh(order).work_orders.all()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="hold", reason="Tooling")
    held = OutboxEvent.objects.get(order_id=order.pk, type="work_order.held")
    assert list(held.deliveries.values_list("system_id", flat=True)) == [mes.pk]
    released = OutboxEvent.objects.get(order_id=order.pk, type="order.released")
    assert sorted(released.deliveries.values_list("system_id", flat=True)) == sorted([crm.pk, mes.pk])


@pytest.mark.parametrize("format_", [ExternalSystem.Format.B2MML, ExternalSystem.Format.JSON])
def test_the_mes_simulator_holds_each_work_order_as_the_messages_leave_it(
    mes, sales, planner, manager, format_
):
    system = ExternalSystemFactory(
        kind=ExternalSystem.Kind.MES, format=format_, base_url=mes.url, event_types=MES_EVENTS
    )
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    first, second = fresh(order).work_orders.order_by("number")
    report(planner, first, good=4)
    work_orders.work_order_transition(actor=planner, work_order=first, name="hold", reason="Tooling")
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    held = httpx.get(f"{mes.url}/orders", timeout=5).json()["orders"][order.number]["work_orders"]
    assert held[first.number]["status"] == "Held"

    work_orders.work_order_transition(actor=planner, work_order=first, name="resume")
    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    crs.change_request_apply(
        actor=manager,
        change_request=approved(sales, planner, order, cut, manager=manager, disposition="scrap"),
    )
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)

    view = httpx.get(f"{mes.url}/orders/{order.number}", timeout=5).json()
    assert view["revision"] == fresh(order).revision
    kept, cancelled = view["work_orders"][first.number], view["work_orders"][second.number]
    assert (Decimal(kept["quantity"]), kept["status"]) == (Decimal(4), "Released")
    assert kept["dispositions"] == [{"decision": "scrap", "quantity": "1"}]
    assert cancelled["status"] == "Cancelled"
    assert kept["mes_id"].startswith("MES-WO-") and kept["operations"]["10"]["mes_id"].startswith("MES-OP-")
    assert set(kept) >= {"mes_id", "quantity", "status", "operations", "rework_of"}
