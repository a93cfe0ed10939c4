"""The planner's page and its actions."""

import pytest

from orders.sales import transitions
from production.scheduling import Schedule, schedule_run
from production.work_orders import WorkOrderStatus
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    schedule_run(actor=planner, trigger="test")
    return order


def test_the_planner_sees_the_gantt_chart_with_each_work_order(client, planner, planned):
    client.force_login(planner)
    response = client.get("/production/?zoom=week")
    assert response.status_code == 200
    assert b'id="gantt-data"' in response.content and f"{planned.number}-01".encode() in response.content


def test_reschedule_now_makes_a_new_current_plan(client, planner, planned):
    client.force_login(planner)
    response = client.post("/production/reschedule/")
    assert response.status_code == 302
    assert Schedule.objects.get(is_current=True).version == 2


def test_the_planner_holds_a_work_order_with_a_reason(client, planner, planned):
    client.force_login(planner)
    number = f"{planned.number}-01"
    client.post(
        "/production/work-orders/action/", {"number": number, "action": "hold", "reason": "Die change"}
    )
    assert planned.work_orders.get().status == WorkOrderStatus.ON_HOLD


def test_an_outsider_cannot_see_the_plan(client, outsider, planned):
    client.force_login(outsider)
    assert client.get("/production/").status_code == 403


def test_sales_cannot_reschedule(client, sales, planned):
    client.force_login(sales)
    assert client.post("/production/reschedule/").status_code == 403
