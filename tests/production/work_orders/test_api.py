"""The production API: what the MES and the sales side call, in the API's one error format."""

import pytest
from rest_framework.test import APIClient

from orders.sales import transitions
from production.work_orders import ProductionException, WorkOrderStatus
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def released_order(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60"), (center, 15, "1")])
    order = make_order(owner=sales, product=product, confirmed=True)
    return transitions.order_release(actor=planner, order=order), product


def test_work_orders_list_their_operations(planner, released_order):
    order, _ = released_order
    response = client_for(planner).get("/api/v1/work-orders/", {"order__number": order.number})
    assert response.status_code == 200
    (work_order,) = response.json()["results"]
    assert work_order["number"] == f"{order.number}-01"
    assert [op["work_center"] for op in work_order["operations"]] == ["PRESS", "PRESS"]


def test_the_mes_reports_progress_and_a_resent_message_changes_nothing(planner, released_order):
    order, _ = released_order
    client = client_for(planner)
    number = f"{order.number}-01"
    assert client.post(f"/api/v1/work-orders/{number}/release/", {}).status_code == 200
    report = {"message_id": "mes-1", "work_order": number, "sequence": 10, "good_quantity": "4"}
    assert client.post("/api/v1/progress-reports/", report).status_code == 201
    assert client.post("/api/v1/progress-reports/", report).status_code == 200
    work_order = client.get(f"/api/v1/work-orders/{number}/").json()
    assert work_order["status"] == WorkOrderStatus.IN_PROGRESS
    assert work_order["operations"][0]["good_quantity"] == "4.000"


def test_progress_on_a_planned_work_order_answers_409_in_the_error_format(planner, released_order):
    order, _ = released_order
    report = {"message_id": "mes-1", "work_order": f"{order.number}-01", "sequence": 10, "good_quantity": "1"}
    response = client_for(planner).post("/api/v1/progress-reports/", report)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"


def test_the_mes_raises_a_machine_breakdown(planner, released_order):
    body = {
        "kind": "machine_breakdown",
        "severity": "high",
        "work_center": "PRESS",
        "expected_delay_minutes": 90,
    }
    response = client_for(planner).post("/api/v1/exceptions/", body)
    assert response.status_code == 201
    assert ProductionException.objects.get().expected_delay_minutes == 90


def test_reschedule_now_answers_with_the_new_plan_and_current_lists_its_figures(planner, released_order):
    client = client_for(planner)
    created = client.post("/api/v1/schedule/run/", {"method": "fast"})
    assert created.status_code == 201
    current = client.get("/api/v1/schedule/current/").json()
    assert current["schedule"]["version"] == created.json()["version"]
    assert current["schedule"]["work_orders"] == 1


def test_sales_get_a_delivery_date_quote(sales, planner, released_order):
    _, product = released_order
    client_for(planner).post("/api/v1/schedule/run/", {"method": "fast"})
    customer = CustomerFactory(tier="vip")
    body = {"customer": customer.code, "lines": [{"product": product.sku, "quantity": "3"}]}
    response = client_for(sales).post("/api/v1/promise/", body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["promise_date"] and answer["plan_version"] == 1
    assert answer["overtakes"] is True and len(answer["delays"]) == 1


def test_a_quote_of_zero_pieces_is_refused_naming_the_field(sales, released_order):
    _, product = released_order
    body = {"customer": CustomerFactory().code, "lines": [{"product": product.sku, "quantity": "0"}]}
    response = client_for(sales).post("/api/v1/promise/", body)
    assert response.status_code == 400
    assert "lines[0].quantity" in response.json()["error"]["fields"]


def test_an_outsider_can_neither_read_work_orders_nor_ask_for_a_quote(outsider, released_order):
    _, product = released_order
    client = client_for(outsider)
    assert client.get("/api/v1/work-orders/").status_code == 403
    body = {"customer": CustomerFactory().code, "lines": [{"product": product.sku, "quantity": "1"}]}
    assert client.post("/api/v1/promise/", body).status_code == 403


def test_sales_cannot_report_progress_through_the_api(sales, released_order):
    order, _ = released_order
    report = {"message_id": "mes-1", "work_order": f"{order.number}-01", "sequence": 10, "good_quantity": "1"}
    assert client_for(sales).post("/api/v1/progress-reports/", report).status_code == 403
