"""Production on the sales side: the delivery-date quote on the order form, the work-orders panel of the
order page, and the planner's actions (priority with a reason, hold/resume a work order)."""

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import Priority, SalesOrder
from orders.sales import transitions
from production import work_orders
from production.scheduling import schedule_run
from production.work_orders import InspectionResult, WorkOrder, WorkOrderOperation, WorkOrderStatus
from tests.factories import CustomerFactory, ProductFactory, in_days, make_order, valid_spec
from tests.orders.sales.test_views import order_post
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db

QUOTE_URL = reverse("production:order_form_quote")


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 60 minutes per piece
    return product


def quote_form(customer, product, quantity="10", **extra):
    return {
        "customer": customer.pk if customer else "",
        "lines-TOTAL_FORMS": "1",
        "lines-0-product": product.pk,
        "lines-0-quantity": quantity,
        **extra,
    }


def released(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


# --- the quote on the order form -----------------------------------------------------------------------
def test_the_order_form_offers_a_delivery_date_quote_to_sales(client, sales):
    client.force_login(sales)
    page = client.get(reverse("orders:order_create")).content.decode()
    assert f'hx-post="{QUOTE_URL}"' in page and 'id="delivery-quote"' in page
    assert 'name="promise_quote"' in page


def test_the_quote_shows_the_earliest_date_and_a_button_that_fills_the_promised_date(
    client, sales, customer, press
):
    client.force_login(sales)
    response = client.post(QUOTE_URL, quote_form(customer, press, quantity="10"))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'data-testid="quote-result"' in page
    expected = timezone.localtime(timezone.now() + dt.timedelta(hours=10)).date()
    fill = json.loads(page.split('data-fill="', 1)[1].split('"', 1)[0].replace("&quot;", '"'))
    assert abs((dt.date.fromisoformat(fill["id_promised_date"]) - expected).days) <= 1
    assert fill["id_promise_quote"].startswith(fill["id_promised_date"] + "@")


def _fill(page: str) -> dict:
    return json.loads(page.split('data-fill="', 1)[1].split('"', 1)[0].replace("&quot;", '"'))


def test_use_this_date_never_promises_earlier_than_the_customer_asked(client, sales, customer, press):
    requested = timezone.localdate() + dt.timedelta(days=40)
    client.force_login(sales)

    page = client.post(
        QUOTE_URL, quote_form(customer, press, requested_date=requested.isoformat())
    ).content.decode()

    assert _fill(page)["id_promised_date"] == requested.isoformat()
    assert 'data-testid="quote-requested-later"' in page


def test_use_this_date_takes_the_quote_when_the_customer_asked_for_sooner(client, sales, customer, press):
    client.force_login(sales)

    # 30 hours of pressing: more than what is left of any day, whatever the time the test runs.
    page = client.post(
        QUOTE_URL,
        quote_form(customer, press, quantity="30", requested_date=timezone.localdate().isoformat()),
    ).content.decode()

    assert _fill(page)["id_promised_date"] > timezone.localdate().isoformat()
    assert "quote-requested-later" not in page


def test_a_vip_quote_names_the_orders_it_would_delay(client, sales, planner, press):
    standard = released(sales, planner, press, lines=2)
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)
    page = client.post(
        QUOTE_URL, quote_form(CustomerFactory(tier="vip"), press, quantity="5")
    ).content.decode()
    assert 'data-testid="quote-delays"' in page and standard.number in page


def test_the_quote_names_the_line_whose_product_has_no_routing(client, sales, customer, press):
    client.force_login(sales)
    data = quote_form(customer, press)
    data.update(
        {
            "lines-TOTAL_FORMS": "2",
            "lines-1-product": ProductFactory(sku="NOROUTE").pk,
            "lines-1-quantity": "1",
        }
    )
    page = client.post(QUOTE_URL, data).content.decode()
    assert 'data-testid="quote-errors"' in page
    assert "Line 2" in page and "NOROUTE" in page


def test_the_quote_asks_for_a_customer_first(client, sales, press):
    client.force_login(sales)
    page = client.post(QUOTE_URL, quote_form(None, press)).content.decode()
    assert "Choose the customer first." in page


def test_a_quantity_of_zero_gets_a_clear_message_not_an_error_page(client, sales, customer, press):
    client.force_login(sales)
    response = client.post(QUOTE_URL, quote_form(customer, press, quantity="0"))
    assert response.status_code == 200
    assert "The quantity must be greater than zero." in response.content.decode()


def test_an_outsider_cannot_ask_for_a_quote(client, outsider, customer, press):
    client.force_login(outsider)
    assert client.post(QUOTE_URL, quote_form(customer, press)).status_code == 403


def test_saving_the_quoted_date_says_so_in_the_order_history(client, sales, customer, press):
    client.force_login(sales)
    promised = in_days(10)
    data = order_post(
        customer=customer,
        lines=[{"product": press.pk, "quantity": "10", "spec": valid_spec()}],
        promised_date=promised.isoformat(),
        promise_quote=f"{promised.isoformat()}@7",
    )
    assert client.post(reverse("orders:order_create"), data).status_code == 302
    order = SalesOrder.objects.get(customer=customer)
    reason = order.history.earliest("history_date").history_change_reason
    assert "delivery-date quote" in reason and "7" in reason


def test_a_promised_date_typed_over_the_quote_is_not_credited_to_it(client, sales, customer, press):
    client.force_login(sales)
    data = order_post(
        customer=customer,
        lines=[{"product": press.pk, "quantity": "10", "spec": valid_spec()}],
        promised_date=in_days(12).isoformat(),
        promise_quote=f"{in_days(10).isoformat()}@7",
    )
    client.post(reverse("orders:order_create"), data)
    order = SalesOrder.objects.get(customer=customer)
    assert "quote" not in order.history.earliest("history_date").history_change_reason


# --- the work-orders panel -----------------------------------------------------------------------------
@pytest.fixture
def in_production(sales, planner, press):
    order = released(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test")
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    op = WorkOrderOperation.objects.get(work_order=work_order)
    work_orders.progress_report_create(
        actor=planner, operation=op, message_id="m-1", good_quantity=3, scrap_quantity=1, rework_quantity=2
    )
    lot = work_orders.lot_create(actor=planner, work_order=work_order, number="LOT-42", quantity=3)
    work_orders.inspection_record(actor=planner, lot=lot, result=InspectionResult.REWORK, defect_code="SCR-7")
    work_orders.exception_raise(
        actor=planner,
        kind="machine_breakdown",
        work_order=work_order,
        expected_delay_minutes=90,
        description="Hydraulic leak",
    )
    return order


def order_page(client, user, order) -> str:
    client.force_login(user)
    response = client.get(reverse("orders:order_detail", args=[order.number]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_order_page_shows_its_work_orders_with_operations_lots_and_exceptions(
    client, planner, in_production
):
    page = order_page(client, planner, in_production)
    assert 'data-testid="panel-work-orders"' in page
    assert f"{in_production.number}-01" in page
    assert "LOT-42" in page and "SCR-7" in page
    assert "Hydraulic leak" in page
    assert "In progress" in page


def test_the_panel_shows_projected_against_promised_and_the_risk(client, sales, planner, press):
    released(sales, planner, press, lines=3, promised_date=in_days(40))
    late = released(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    page = order_page(client, planner, late)
    assert 'data-testid="projection-at-risk"' in page and "days late" in page


def test_sales_see_the_panel_but_no_plant_actions(client, sales, in_production):
    page = order_page(client, sales, in_production)
    assert 'data-testid="panel-work-orders"' in page
    assert 'data-testid="priority-form"' not in page
    assert reverse("production:work_order_action") not in page


def test_a_draft_order_has_no_work_orders_panel(client, sales):
    page = order_page(client, sales, make_order(owner=sales))
    assert 'data-testid="panel-work-orders"' not in page


def test_the_panel_reads_a_fixed_number_of_queries(
    client, planner, sales, press, in_production, django_assert_max_num_queries
):
    client.force_login(planner)
    url = reverse("orders:order_detail", args=[in_production.number])
    with django_assert_max_num_queries(40):
        client.get(url)


def test_the_page_reads_the_projection_once_for_all_its_panels(
    client, planner, press, in_production, django_assert_max_num_queries
):
    client.force_login(planner)
    url = reverse("orders:order_detail", args=[in_production.number])
    client.get(url)  # warm-up: permission cache, templates

    with django_assert_max_num_queries(30) as queries:
        response = client.get(url)

    sqls = [query["sql"] for query in queries.captured_queries]
    assert response.status_code == 200
    assert 'data-testid="panel-work-orders"' in response.content.decode()
    assert sum('FROM "production_orderprojection"' in sql for sql in sqls) == 1


# --- planner actions -----------------------------------------------------------------------------------
def test_the_planner_raises_an_orders_priority_from_the_order_page(client, planner, in_production):
    client.force_login(planner)
    url = reverse("production:order_priority", args=[in_production.number])
    next_url = reverse("orders:order_detail", args=[in_production.number])
    response = client.post(
        url,
        {
            "priority": Priority.URGENT,
            "reason": "Customer line stop",
            "next": next_url,
            "version": SalesOrder.objects.get(pk=in_production.pk).version,
        },
    )
    assert response.status_code == 302 and response.url == next_url
    order = SalesOrder.objects.get(pk=in_production.pk)
    assert order.priority == Priority.URGENT and order.priority_reason == "Customer line stop"


def test_the_at_risk_list_offers_raising_the_priority(client, sales, planner, press):
    released(sales, planner, press, lines=3, promised_date=in_days(40))
    late = released(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    client.force_login(planner)
    page = client.get(reverse("production:planner")).content.decode()
    assert reverse("production:order_priority", args=[late.number]) in page


def test_a_priority_without_reason_is_refused_with_a_message(client, planner, in_production):
    client.force_login(planner)
    url = reverse("production:order_priority", args=[in_production.number])
    response = client.post(url, {"priority": Priority.URGENT, "reason": ""}, follow=True)
    assert "Say why the priority changes." in response.content.decode()
    assert SalesOrder.objects.get(pk=in_production.pk).priority == Priority.NORMAL


def test_sales_cannot_raise_the_priority_of_a_released_order(client, sales, in_production):
    client.force_login(sales)
    url = reverse("production:order_priority", args=[in_production.number])
    assert client.post(url, {"priority": Priority.URGENT, "reason": "Please"}).status_code == 403


def test_an_off_site_next_is_ignored(client, planner, in_production):
    client.force_login(planner)
    url = reverse("production:order_priority", args=[in_production.number])
    response = client.post(url, {"priority": Priority.HIGH, "reason": "x", "next": "https://evil.example/"})
    assert response.url == reverse("production:planner")


def test_the_planner_holds_and_resumes_a_work_order_from_the_order_page(client, planner, in_production):
    client.force_login(planner)
    work_order = in_production.work_orders.get()
    action = reverse("production:work_order_action")
    next_url = reverse("orders:order_detail", args=[in_production.number])
    client.post(
        action, {"number": work_order.number, "action": "hold", "reason": "Tooling", "next": next_url}
    )
    assert WorkOrder.objects.get(pk=work_order.pk).status == WorkOrderStatus.ON_HOLD
    response = client.post(action, {"number": work_order.number, "action": "resume", "next": next_url})
    assert response.url == next_url
    assert WorkOrder.objects.get(pk=work_order.pk).status == WorkOrderStatus.IN_PROGRESS
