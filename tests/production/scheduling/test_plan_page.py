"""The planner's plan page: the Gantt as data, the load heat map, percentages, the work order panel (hold,
resume, pin), the waiting-for-release list with bulk release, and a fixed number of queries."""

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from orders.models import OrderStatus, SalesOrder
from orders.sales import transitions
from production.scheduling import schedule_run
from production.scheduling.models import OperationPin
from production.scheduling.plan_page import LoadCell
from production.work_orders import WorkOrderOperation, WorkOrderStatus
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 10 pieces: 10 hours
    return product


@pytest.fixture
def planned(sales, planner, press):
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=press, confirmed=True)
    )
    schedule_run(actor=planner, trigger="test")
    return order


def gantt(response):
    found = re.search(rb'<script id="gantt-data" type="application/json">(.*?)</script>', response.content)
    assert found, "the page carries the Gantt data"
    return json.loads(found.group(1))


def test_the_gantt_data_has_a_bar_per_operation_on_its_line(client, planner, planned):
    client.force_login(planner)
    data = gantt(client.get("/production/?zoom=week"))
    assert data["rows"] == [["PRESS", 1]]
    [bar] = data["bars"]
    assert bar[0] == 0 and bar[3] == f"{planned.number}-01" and bar[2] - bar[1] == 600


def test_another_reps_order_is_a_grey_bar_without_its_number(client, other_sales, planned):
    other_sales.user_permissions.add(*_view_schedule())
    client.force_login(other_sales)
    data = gantt(client.get("/production/?zoom=week"))
    [bar] = data["bars"]
    assert bar[3] == "" and bar[4] == -1 and data["kinds"][bar[5]] == "hidden"


def _view_schedule():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename="view_schedule")


def test_the_load_is_a_heat_map_of_work_center_by_week_in_percent(client, planner, planned):
    client.force_login(planner)
    page = client.get("/production/").content.decode()
    # 600 planned minutes of 7 x 1,440 available in the first week (one unit, around the clock): 6 %.
    cell = re.search(r'data-testid="load-PRESS-0"[^>]*>([^<]*)<', page)
    assert cell and cell.group(1).strip() == "6 %"
    assert 'data-testid="load-PRESS-5"' in page and 'data-testid="load-PRESS-6"' not in page


def test_a_load_cell_is_coloured_by_how_full_it_is():
    week = timezone.now()
    assert LoadCell(week, 30, 100).heat == "ob-heat-0"
    assert LoadCell(week, 97, 100).heat == "ob-heat-3"
    assert LoadCell(week, 120, 100).heat == "ob-heat-4"
    assert LoadCell(week, 0, 0).percent is None


def test_the_on_time_rate_shows_as_a_percentage(client, planner, planned):
    client.force_login(planner)
    page = client.get("/production/").content.decode()
    assert re.search(r'data-testid="on-time-rate">100 %<', page)


def test_the_page_shows_the_on_time_rate_in_chinese_too(client, planner, planned):
    client.force_login(planner)
    page = client.get("/production/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "甘特图" in page and re.search(r'data-testid="on-time-rate">100%<', page)


def test_the_plan_page_runs_a_fixed_number_of_queries(
    client, planner, sales, press, django_assert_max_num_queries
):
    for _ in range(6):
        transitions.order_release(actor=planner, order=make_order(owner=sales, product=press, confirmed=True))
    make_order(owner=sales, product=press, confirmed=True)
    schedule_run(actor=planner, trigger="test")
    client.force_login(planner)
    with django_assert_max_num_queries(30):
        assert client.get("/production/?zoom=week").status_code == 200


def test_clicking_a_bar_opens_the_work_order_panel(client, planner, planned):
    client.force_login(planner)
    number = f"{planned.number}-01"
    response = client.get(f"/production/work-orders/{number}/panel/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="work-order-panel"' in page and number in page and 'data-testid="wo-hold"' in page


def test_the_planner_holds_and_resumes_a_work_order_from_its_panel(client, planner, planned):
    client.force_login(planner)
    number = f"{planned.number}-01"
    held = client.post(
        "/production/work-orders/action/",
        {"number": number, "action": "hold", "reason": "Die change"},
        HTTP_HX_REQUEST="true",
    )
    assert held.status_code == 200 and 'data-testid="wo-resume"' in held.content.decode()
    assert planned.work_orders.get().status == WorkOrderStatus.ON_HOLD
    client.post(
        "/production/work-orders/action/", {"number": number, "action": "resume"}, HTTP_HX_REQUEST="true"
    )
    assert planned.work_orders.get().status != WorkOrderStatus.ON_HOLD


def test_a_hold_without_a_reason_is_a_400_in_the_panel(client, planner, planned):
    client.force_login(planner)
    response = client.post(
        "/production/work-orders/action/",
        {"number": f"{planned.number}-01", "action": "hold", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400 and 'data-testid="wo-error"' in response.content.decode()


def test_the_planner_pins_an_operation_from_the_panel(client, planner, planned):
    client.force_login(planner)
    op = WorkOrderOperation.objects.get(work_order__order=planned)
    start = timezone.localtime() + dt.timedelta(days=2)
    response = client.post(
        f"/production/operations/{op.pk}/pin/",
        {"line": "1", "start": start.strftime("%Y-%m-%dT%H:%M"), "reason": "Tooling"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and 'data-testid="wo-pinned"' in response.content.decode()
    assert OperationPin.objects.get(operation=op).pinned_by == planner


def test_a_pin_with_bad_input_is_a_400_with_messages_and_saves_nothing(client, planner, planned):
    client.force_login(planner)
    op = WorkOrderOperation.objects.get(work_order__order=planned)
    response = client.post(
        f"/production/operations/{op.pk}/pin/",
        {"line": "9", "start": "soon", "reason": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 400
    assert "Enter a start date and time." in response.content.decode()
    assert not OperationPin.objects.exists()


def test_sales_cannot_pin(client, sales, planned):
    client.force_login(sales)
    op = WorkOrderOperation.objects.get(work_order__order=planned)
    response = client.post(f"/production/operations/{op.pk}/pin/", {"line": "1", "start": "", "reason": "x"})
    assert response.status_code == 403


def test_waiting_orders_are_listed_and_released_together_with_a_result_per_row(client, planner, sales, press):
    ready = make_order(owner=sales, product=press, confirmed=True)
    unpromised = make_order(owner=sales, product=press, confirmed=True, promised=False)
    client.force_login(planner)
    page = client.get("/production/").content.decode()
    assert f"order:{ready.number}" in page and f"order:{unpromised.number}" in page
    response = client.post(
        "/production/release/",
        {"item": [f"order:{ready.number}", f"order:{unpromised.number}"]},
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert re.search(rf'release-result-{ready.number}" class="table-success"', page)
    assert re.search(rf'release-result-{unpromised.number}" class="table-danger"', page)
    statuses = dict(
        SalesOrder.objects.filter(pk__in=[ready.pk, unpromised.pk]).values_list("number", "status")
    )
    assert statuses == {ready.number: OrderStatus.RELEASED, unpromised.number: OrderStatus.CONFIRMED}


def test_planned_work_orders_are_released_to_the_mes_from_the_list(client, planner, planned):
    client.force_login(planner)
    number = f"{planned.number}-01"
    assert f"work_order:{number}" in client.get("/production/").content.decode()
    client.post("/production/release/", {"item": [f"work_order:{number}"]}, HTTP_HX_REQUEST="true")
    assert planned.work_orders.get().status == WorkOrderStatus.RELEASED


def test_releasing_nothing_is_a_400(client, planner):
    client.force_login(planner)
    assert client.post("/production/release/", {}).status_code == 400
