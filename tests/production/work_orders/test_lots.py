"""Lots and quality inspections: the services' rules, the API (`lots/`, `inspections/`) and the admin,
which writes master data through the services too."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel.errors import Conflict, ValidationFailed
from orders.sales import transitions
from production import work_orders
from production.master_data import WorkCenter
from production.work_orders import Lot, QualityInspection, WorkOrderOperation
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def work_order(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    op = WorkOrderOperation.objects.get(work_order=work_order)
    work_orders.progress_report_create(actor=planner, operation=op, message_id="m-1", good_quantity=5)
    return work_order


# --- services ------------------------------------------------------------------------------------------
def test_a_lot_needs_a_work_order_that_has_produced(sales, planner):
    center = make_work_center(planner, "CUT")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    with pytest.raises(Conflict) as error:
        work_orders.lot_create(actor=planner, work_order=order.work_orders.get(), number="L-1", quantity=1)
    assert "produced nothing" in error.value.message


def test_a_lot_of_zero_names_the_quantity(planner, work_order):
    with pytest.raises(ValidationFailed) as error:
        work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=0)
    assert "quantity" in error.value.fields


def test_lot_numbers_are_unique(planner, work_order):
    work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=1)
    with pytest.raises(ValidationFailed) as error:
        work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=1)
    assert "number" in error.value.fields


def test_a_rework_inspection_needs_a_defect_code(planner, work_order):
    lot = work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=5)
    with pytest.raises(ValidationFailed) as error:
        work_orders.inspection_record(actor=planner, lot=lot, result="rework")
    assert "defect_code" in error.value.fields
    assert not QualityInspection.objects.exists()


# --- API -----------------------------------------------------------------------------------------------
def test_the_mes_records_a_lot_and_finds_it_by_work_order(planner, work_order):
    client = client_for(planner)
    response = client.post(
        "/api/v1/lots/", {"number": "L-7", "work_order": work_order.number, "quantity": "5"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["order"] == work_order.order.number
    listed = client.get("/api/v1/lots/", {"work_order": work_order.number}).json()["results"]
    assert [lot["number"] for lot in listed] == ["L-7"]
    assert client.get("/api/v1/lots/", {"number": "nope"}).json()["results"] == []


def test_a_lot_for_an_unknown_work_order_is_a_404(planner, work_order):
    response = client_for(planner).post(
        "/api/v1/lots/", {"number": "L-7", "work_order": "WO-NOPE", "quantity": "5"}, format="json"
    )
    assert response.status_code == 404


def test_a_lot_with_a_bad_quantity_names_the_field(planner, work_order):
    response = client_for(planner).post(
        "/api/v1/lots/", {"number": "L-7", "work_order": work_order.number, "quantity": "-1"}, format="json"
    )
    assert response.status_code == 400
    assert "quantity" in str(response.json())
    assert not Lot.objects.exists()


def test_inspections_record_fail_with_a_defect_code_and_filter_by_lot(planner, work_order):
    work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=5)
    work_orders.lot_create(actor=planner, work_order=work_order, number="L-2", quantity=5)
    client = client_for(planner)
    response = client.post(
        "/api/v1/inspections/", {"lot": "L-1", "result": "fail", "defect_code": "DIM-3"}, format="json"
    )
    assert response.status_code == 201
    assert (response.json()["work_order"], response.json()["inspector"]) == (work_order.number, "pat")
    client.post("/api/v1/inspections/", {"lot": "L-2", "result": "pass"}, format="json")
    found = client.get("/api/v1/inspections/", {"lot": "L-1"}).json()["results"]
    assert [(row["result"], row["defect_code"]) for row in found] == [("fail", "DIM-3")]
    by_work_order = client.get("/api/v1/inspections/", {"work_order": work_order.number}).json()["results"]
    assert len(by_work_order) == 2


def test_a_fail_without_defect_code_is_refused_through_the_api(planner, work_order):
    work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=5)
    response = client_for(planner).post(
        "/api/v1/inspections/", {"lot": "L-1", "result": "fail"}, format="json"
    )
    assert response.status_code == 400
    assert "defect_code" in str(response.json())


def test_sales_read_lots_but_cannot_record_them(sales, work_order):
    client = client_for(sales)
    assert client.get("/api/v1/lots/").status_code == 200
    response = client.post(
        "/api/v1/lots/", {"number": "L-9", "work_order": work_order.number, "quantity": "1"}, format="json"
    )
    assert response.status_code == 403


def test_an_outsider_cannot_read_inspections(outsider):
    assert client_for(outsider).get("/api/v1/inspections/").status_code == 403


# --- admin ---------------------------------------------------------------------------------------------
def test_the_admin_changes_a_work_center_through_the_service_with_history(client, admin_user, planner):
    center = make_work_center(planner, "PRESS")
    client.force_login(admin_user)
    url = reverse("admin:production_workcenter_change", args=[center.pk])
    response = client.post(
        url,
        {
            "name": "Press line",
            "units": "2",
            "efficiency": "0.90",
            "is_active": "on",
            "shifts-TOTAL_FORMS": "0",
            "shifts-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    center = WorkCenter.objects.get(pk=center.pk)
    assert (center.units, center.efficiency) == (2, Decimal("0.90"))
    record = center.history.first()
    assert (record.history_user, record.history_change_reason) == (admin_user, "Changed in the admin")


def test_the_admin_cannot_deactivate_a_work_center_still_in_use(client, admin_user, planner, work_order):
    center = WorkCenter.objects.get(code="PRESS")
    client.force_login(admin_user)
    url = reverse("admin:production_workcenter_change", args=[center.pk])
    response = client.post(
        url,
        {
            "name": "Press",
            "units": "1",
            "efficiency": "1.00",
            "shifts-TOTAL_FORMS": "0",
            "shifts-INITIAL_FORMS": "0",
        },
        follow=True,
    )
    assert "reroute them first" in response.content.decode()
    assert WorkCenter.objects.get(pk=center.pk).is_active


def test_work_centers_are_not_added_in_the_admin(client, admin_user):
    client.force_login(admin_user)
    assert client.get(reverse("admin:production_workcenter_add")).status_code == 403


def test_the_work_order_api_shows_its_lots_with_their_inspections(planner, work_order):
    lot = work_orders.lot_create(actor=planner, work_order=work_order, number="L-1", quantity=5)
    work_orders.inspection_record(actor=planner, lot=lot, result="rework", defect_code="SCR-2")
    body = client_for(planner).get(f"/api/v1/work-orders/{work_order.number}/").json()
    assert [(lot["number"], lot["inspections"][0]["defect_code"]) for lot in body["lots"]] == [
        ("L-1", "SCR-2")
    ]
