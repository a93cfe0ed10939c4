"""Production data follows the one visibility rule of orders: sales see the work done for the orders they
own, on every door (API lists and details, the at-risk list, the planner page, the export, the quote); the
plant sees everything. Sally and Sam are two sales reps, each with an order in production and at risk."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from orders.sales import transitions
from production import work_orders
from production.scheduling import promise_quote, schedule_run
from production.work_orders import WorkOrderOperation
from tests.factories import CustomerFactory, ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def api_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_for(user):
    client = Client()
    client.force_login(user)
    return client


def _order_in_production(owner, planner, product, customer_name, lot_number):
    order = transitions.order_release(
        actor=planner,
        order=make_order(
            owner=owner,
            product=product,
            customer=CustomerFactory(name=customer_name),
            confirmed=True,
            requested_date=in_days(1),
            promised_date=in_days(2),
        ),
    )
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    operation = WorkOrderOperation.objects.get(work_order=work_order)
    work_orders.progress_report_create(
        actor=planner, operation=operation, message_id=f"mes-{lot_number}", good_quantity=5
    )
    lot = work_orders.lot_create(actor=planner, work_order=work_order, number=lot_number, quantity=5)
    work_orders.inspection_record(actor=planner, lot=lot, result="pass")
    work_orders.exception_raise(
        actor=planner, kind="material_shortage", work_order=work_order, description=f"short for {lot_number}"
    )
    return order


@pytest.fixture
def plant(sales, other_sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    # 10 units of 5 days each: far past the promised date (2 days out), so both orders are at risk.
    make_routing(planner, product, [(center, 0, str(5 * 24 * 60))])
    mine = _order_in_production(sales, planner, product, "Sally's Customer", "LOT-MINE")
    theirs = _order_in_production(other_sales, planner, product, "Sam's Customer", "LOT-THEIRS")
    work_orders.exception_raise(
        actor=planner, kind="machine_breakdown", work_center=center, description="press down"
    )
    schedule_run(actor=planner, trigger="test")
    return mine, theirs


def _wo(order):
    return f"{order.number}-01"


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/api/v1/work-orders/", "number"),
        ("/api/v1/lots/", "number"),
        ("/api/v1/inspections/", "work_order"),
        ("/api/v1/progress-reports/", "work_order"),
    ],
)
def test_sales_list_only_the_production_records_of_their_own_orders(sales, plant, url, key):
    mine, _theirs = plant
    results = api_for(sales).get(url).json()["results"]
    assert results
    assert all(row[key].startswith(mine.number) or row[key] == "LOT-MINE" for row in results)


def test_sales_list_the_exceptions_of_their_orders_and_those_of_no_order(sales, plant):
    mine, _theirs = plant
    rows = api_for(sales).get("/api/v1/exceptions/").json()["results"]
    assert sorted(row["work_order"] or "-" for row in rows) == ["-", _wo(mine)]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/work-orders/{wo}/",
        "/api/v1/lots/LOT-THEIRS/",
        "/api/v1/progress-reports/mes-LOT-THEIRS/",
    ],
)
def test_another_reps_production_record_is_404_like_the_order(sales, plant, url):
    _mine, theirs = plant
    client = api_for(sales)
    assert client.get(f"/api/v1/orders/{theirs.number}/").status_code == 404
    assert client.get(url.format(wo=_wo(theirs))).status_code == 404


def test_another_reps_inspection_and_exception_are_404(sales, plant):
    _mine, theirs = plant
    client = api_for(sales)
    inspection = theirs.work_orders.get().lots.get().inspections.get()
    exception = theirs.work_orders.get().exceptions.get()
    assert client.get(f"/api/v1/inspections/{inspection.pk}/").status_code == 404
    assert client.get(f"/api/v1/exceptions/{exception.pk}/").status_code == 404


def test_the_plant_reads_every_work_order(planner, plant):
    mine, theirs = plant
    numbers = {row["number"] for row in api_for(planner).get("/api/v1/work-orders/").json()["results"]}
    assert numbers == {_wo(mine), _wo(theirs)}


def test_the_at_risk_list_of_the_current_plan_shows_sales_their_own_orders(sales, planner, plant):
    mine, theirs = plant
    assert {row["order"] for row in api_for(planner).get("/api/v1/schedule/current/").json()["at_risk"]} == {
        mine.number,
        theirs.number,
    }
    at_risk = api_for(sales).get("/api/v1/schedule/current/").json()["at_risk"]
    assert [row["order"] for row in at_risk] == [mine.number]


def test_the_planner_page_names_no_other_reps_order_or_customer(sales, plant):
    mine, theirs = plant
    page = page_for(sales).get("/production/?zoom=week").content.decode()
    assert mine.number in page and "Sally&#x27;s Customer" in page
    assert theirs.number not in page
    assert "Sam&#x27;s Customer" not in page
    assert "short for LOT-THEIRS" not in page


def test_the_planner_page_shows_the_plant_every_order(planner, plant):
    _mine, theirs = plant
    page = page_for(planner).get("/production/?zoom=week").content.decode()
    assert theirs.number in page and "Sam&#x27;s Customer" in page


def test_the_work_order_export_holds_only_the_reps_own_work_orders(sales, plant):
    mine, theirs = plant
    response = page_for(sales).get("/production/work-orders/export.csv")
    body = b"".join(response.streaming_content).decode()
    assert _wo(mine) in body
    assert theirs.number not in body and "Sam's Customer" not in body


def test_another_reps_work_order_cannot_be_acted_on_from_the_planner_page(sales, plant):
    _mine, theirs = plant
    response = page_for(sales).post(
        "/production/work-orders/action/", {"number": _wo(theirs), "action": "hold", "reason": "x"}
    )
    assert response.status_code == 404


def test_a_quote_names_only_the_delayed_orders_the_rep_may_see(sales, plant, settings):
    settings.PRODUCTION_FROZEN_HOURS = 0  # nothing frozen: every planned order may be overtaken
    mine, theirs = plant
    vip = CustomerFactory(tier="vip")
    product = mine.lines.get().product
    quote = promise_quote(
        actor=sales, customer=vip, lines=[{"product": product.pk, "quantity": 1}], priority=1
    )
    named = {delay["order"] for delay in quote["delays"]}
    assert theirs.number not in named
    assert quote["overtakes"] and quote["delays_not_shown"] == 1


def test_the_plan_details_name_only_the_orders_the_rep_may_see(sales, planner, plant):
    mine, theirs = plant
    for order in (mine, theirs):
        work_orders.work_order_transition(
            actor=planner, work_order=order.work_orders.get(), name="hold", reason="die change"
        )
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(minutes=1))
    assert set(
        api_for(planner).get("/api/v1/schedule/current/").json()["schedule"]["details"]["unplanned"]
    ) == {
        str(mine.pk),
        str(theirs.pk),
    }
    unplanned = api_for(sales).get("/api/v1/schedule/current/").json()["schedule"]["details"]["unplanned"]
    assert set(unplanned) == {str(mine.pk)}
