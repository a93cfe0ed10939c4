"""In a real browser: sales ask for a delivery-date quote on the order form, take its date with one click,
and the order's history says where the promise came from."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from orders.models import SalesOrder
from production import master_data
from tests.browser.test_sales_journey import log_in
from tests.factories import CustomerFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_sales_take_the_quoted_date_as_the_promise(page):
    planner = UserFactory(username="pat", role="planner")
    UserFactory(username="sally", role="sales")
    customer = CustomerFactory(name="Harbour Cranes Ltd", tier="key")
    product = ProductFactory(sku="PNL-200", name="Wall panel")
    press = master_data.work_center_create(
        actor=planner, code="PRESS", name="Press", shifts=[(d, dt.time(0), dt.time(0)) for d in range(7)]
    )
    master_data.routing_create(
        actor=planner,
        product=product,
        operations=[{"sequence": 10, "name": "Press", "work_center": press, "run_minutes_per_unit": 60}],
    )

    page.goto("/orders/new/")
    log_in(page, "sally")
    page.locator("#id_customer").select_option(str(customer.pk))
    page.locator("#id_lines-0-product").select_option(str(product.pk))
    expect(page.locator("#id_lines-0-spec__material")).to_be_visible()
    page.locator("#id_lines-0-quantity").fill("12")
    page.locator("#id_lines-0-spec__material").select_option("aluminium")
    page.locator("#id_lines-0-spec__thickness_mm").fill("3")
    page.locator("#id_lines-0-spec__finish").select_option("powder")
    page.locator("#id_lines-0-spec__colour").fill("RAL 7035")

    page.get_by_test_id("ask-quote").click()
    expect(page.get_by_test_id("quote-result")).to_contain_text("Earliest feasible completion")
    page.get_by_test_id("use-quote").click()
    promised = page.locator("#id_promised_date").input_value()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", promised)
    page.get_by_role("button", name="Save draft").click()

    order = SalesOrder.objects.get(customer=customer)
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    assert order.promised_date.isoformat() == promised
    assert "delivery-date quote" in order.history.earliest("history_date").history_change_reason
