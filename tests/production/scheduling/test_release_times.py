"""A release time the user gives (material ready, the customer's drawing approved), to the minute: entered on
the order form or through the API, respected by both engines and by the delivery-date quote."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import SalesOrder
from production.scheduling import build_problem, promise_quote, schedule_run, solve
from production.scheduling.models import ScheduleEntry
from tests.factories import CustomerFactory, ProductFactory, in_days
from tests.orders.sales.test_api import order_payload
from tests.orders.sales.test_views import NEW_URL, order_post, spec_form_values
from tests.production.conftest import ALL_WEEK, make_routing, make_work_center
from tests.production.scheduling.test_schedule import release

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS", shifts=ALL_WEEK)
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "6")])  # 10 pieces: 1 hour
    return product


def plant_time(days, hour, minute):
    return dt.datetime.combine(in_days(days), dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def test_a_sales_rep_enters_when_production_may_start_on_the_order_form(client, sales, press):
    client.force_login(sales)
    data = order_post(
        customer=CustomerFactory(),
        lines=[{"product": press.pk, "quantity": 10, "spec": spec_form_values()}],
        start_not_before=f"{in_days(2).isoformat()}T10:35",
    )

    response = client.post(NEW_URL, data)

    assert response.status_code == 302
    assert SalesOrder.objects.get().start_not_before == plant_time(2, 10, 35)


def test_an_api_client_sends_the_release_time_and_reads_it_back(sales):
    api = APIClient()
    api.force_authenticate(sales)
    moment = plant_time(3, 7, 45)

    response = api.post(
        "/api/v1/orders/",
        order_payload(CustomerFactory(), ProductFactory(), start_not_before=moment.isoformat()),
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert dt.datetime.fromisoformat(response.json()["start_not_before"]) == moment
    assert SalesOrder.objects.get(number=response.json()["number"]).start_not_before == moment


def test_an_unreadable_release_time_is_refused_with_the_field_named(sales):
    api = APIClient()
    api.force_authenticate(sales)

    response = api.post(
        "/api/v1/orders/",
        order_payload(CustomerFactory(), ProductFactory(), start_not_before="next tuesday"),
        format="json",
    )

    assert response.status_code == 400
    assert "start_not_before" in response.json()["error"]["fields"]
    assert not SalesOrder.objects.exists()


def test_the_release_time_reaches_the_engines_to_the_minute(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(10), start_not_before=plant_time(2, 10, 35))
    now = timezone.now().replace(second=0, microsecond=0)

    built = build_problem(now=now)

    (job,) = [job for job in built.problem.jobs if job.group == order.pk]
    assert job.release == int((plant_time(2, 10, 35) - now).total_seconds() // 60)


@pytest.mark.parametrize("method", ["fast", "optimised"])
def test_no_operation_starts_before_the_release_time(sales, planner, press, method):
    release(sales, planner, press, promised_date=in_days(1), start_not_before=plant_time(2, 10, 35))
    built = build_problem()

    plan = solve(built.problem, method=method, time_limit=2, workers=1)

    (job,) = built.problem.jobs
    assert min(plan.placements[op.key].start for op in job.ops) == job.release


def test_the_stored_plan_starts_the_order_at_its_release_time(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(10), start_not_before=plant_time(2, 10, 35))

    schedule_run(actor=planner, trigger="test")

    entry = ScheduleEntry.objects.get(schedule__is_current=True, operation__work_order__order=order)
    assert entry.start == plant_time(2, 10, 35)


def test_a_quote_starts_no_earlier_than_the_release_time_and_blames_no_material(sales, press):
    answer = promise_quote(
        actor=sales,
        customer=CustomerFactory(),
        lines=[{"product": press.pk, "quantity": "10"}],
        start_not_before=plant_time(4, 13, 20),
    )

    assert answer["completion"] == plant_time(4, 14, 20)
    assert answer["binding"]["kind"] == "capacity"


def test_the_order_page_shows_the_promised_time_and_the_release_time(client, sales, planner, press):
    order = release(
        sales,
        planner,
        press,
        promised_date=in_days(10),
        promised_time=dt.time(16, 5),
        start_not_before=plant_time(2, 10, 35),
    )
    client.force_login(sales)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert f"{in_days(10).isoformat()} 16:05" in page
    assert f"{in_days(2).isoformat()} 10:35" in page
