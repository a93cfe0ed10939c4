"""Promises with a time of day: they reach the engines to the minute; a date alone still means its end."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import SalesOrder
from production.scheduling import build_problem, promise_quote, schedule_run
from tests.factories import CustomerFactory, ProductFactory, in_days
from tests.orders.sales.test_api import order_payload
from tests.production.scheduling.test_schedule import release

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    from tests.production.conftest import make_routing, make_work_center

    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    return product


def _due_minutes(built, order):
    (job,) = [job for job in built.problem.jobs if job.group == order.pk]
    return job.due


def test_a_promised_time_reaches_the_engines_to_the_minute(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(3), promised_time=dt.time(10, 30))
    now = timezone.now().replace(second=0, microsecond=0)

    built = build_problem(now=now)

    due = dt.datetime.combine(in_days(3), dt.time(10, 30), tzinfo=timezone.get_default_timezone())
    assert _due_minutes(built, order) == int((due - now).total_seconds() // 60)


def test_a_promised_date_alone_is_due_by_the_end_of_that_day(sales, planner, press):
    order = release(sales, planner, press, promised_date=in_days(3))
    now = timezone.now().replace(second=0, microsecond=0)

    built = build_problem(now=now)

    end = dt.datetime.combine(in_days(4), dt.time(0), tzinfo=timezone.get_default_timezone())
    assert _due_minutes(built, order) == int((end - now).total_seconds() // 60)


def test_an_api_client_may_send_a_promised_time_or_only_the_date(sales):
    api = APIClient()
    api.force_authenticate(sales)
    customer, product = CustomerFactory(), ProductFactory()

    with_time = api.post(
        "/api/v1/orders/",
        order_payload(customer, product, promised_date=in_days(5).isoformat(), promised_time="14:15"),
        format="json",
    )
    date_only = api.post(
        "/api/v1/orders/",
        order_payload(customer, product, promised_date=in_days(5).isoformat()),
        format="json",
    )

    assert with_time.status_code == 201, with_time.json()
    assert with_time.json()["promised_time"] == "14:15"
    assert SalesOrder.objects.get(number=with_time.json()["number"]).promised_time == dt.time(14, 15)
    assert date_only.status_code == 201 and date_only.json()["promised_time"] is None


def test_a_promised_time_without_a_date_is_refused_with_the_field_named(sales):
    api = APIClient()
    api.force_authenticate(sales)

    response = api.post(
        "/api/v1/orders/",
        order_payload(CustomerFactory(), ProductFactory(), promised_time="09:00"),
        format="json",
    )

    assert response.status_code == 400
    assert "promised_time" in str(response.json())


def test_a_quote_keeps_off_the_frozen_window_and_says_what_overtaking_costs(sales, planner, press, settings):
    settings.PRODUCTION_FROZEN_HOURS = 2
    # Two standard orders of 10 h each on the only press, due well after they end: the first starts now
    # (inside the frozen window), the second after it.
    release(sales, planner, press, promised_date=in_days(20))
    second = release(sales, planner, press, promised_date=in_days(21))
    schedule_run(actor=planner, trigger="test")

    answer = promise_quote(
        actor=sales, customer=CustomerFactory(tier="vip"), lines=[{"product": press.pk, "quantity": "2"}]
    )

    assert [delay["order"] for delay in answer["delays"]] == [second.number]
    assert answer["completion"] >= timezone.now() + dt.timedelta(hours=12) - dt.timedelta(minutes=2)
    assert answer["overtaking_cost"] == 0 and answer["pushed_late"] == []


def test_the_plan_page_says_which_objective_the_plan_minimised_and_vip_on_time(
    client, sales, planner, press, settings
):
    settings.PRODUCTION_OBJECTIVE = "on_time"
    release(sales, planner, press, customer=CustomerFactory(tier="vip"))
    schedule_run(actor=planner, trigger="test")
    client.force_login(planner)

    english = client.get("/production/").content.decode()
    chinese = client.get("/production/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "Objective: on-time rate (fewest late work orders)" in english and "VIP on time" in english
    assert "准交率" in chinese and "延误工单最少" in chinese
