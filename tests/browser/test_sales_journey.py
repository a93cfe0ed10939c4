"""A sales person's first day, in a real browser: log in, enter an order with its spec, confirm it, find it
again, read its history, and switch the interface to Chinese."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import SalesOrder
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, make_order

pytestmark = [
    pytest.mark.browser,
    # Transactional: the live server's thread must see the test's data. serialized_rollback restores the
    # role groups the migrations made, which the flush at the end of a transactional test removes.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pass-w0rd!"  # the factories' password


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("main form button[type=submit]").click()


def test_a_sales_person_enters_confirms_finds_and_reads_an_order(page, screenshot):
    sally = UserFactory(username="sally", first_name="Sally", last_name="Chen", role="sales")
    customer = CustomerFactory(name="Harbour Cranes Ltd", tier="key")
    product = ProductFactory(sku="PNL-100", name="Wall panel")
    make_order(owner=sally, customer_po="PO-OLD")
    make_order(owner=UserFactory(username="sam", role="sales"), customer=customer, customer_po="PO-SAMS")

    # Every page asks for a login first.
    page.goto("/orders/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orders/"))
    log_in(page, "sally")
    expect(page.get_by_role("heading", name="Sales orders")).to_be_visible()

    # A new order with spec values: choosing the product brings its family's spec inputs (htmx).
    page.locator("nav.navbar").get_by_role("link", name="New order").click()
    page.locator("#id_customer").select_option(str(customer.pk))
    page.locator("#id_customer_po").fill("PO-JOURNEY-7")
    page.locator("#id_requested_date").fill(in_days(30).isoformat())
    page.locator("#id_lines-0-product").select_option(str(product.pk))
    expect(page.locator("#id_lines-0-spec__material")).to_be_visible()
    page.locator("#id_lines-0-quantity").fill("12")
    page.locator("#id_lines-0-spec__material").select_option("aluminium")
    page.locator("#id_lines-0-spec__thickness_mm").fill("3")
    page.locator("#id_lines-0-spec__finish").select_option("powder")
    page.locator("#id_lines-0-spec__colour").fill("RAL 7035")
    # "Add line" adds a row (htmx); left empty, it is ignored on save.
    page.get_by_role("button", name="Add line").click()
    expect(page.locator("#id_lines-1-product")).to_be_visible()
    page.get_by_role("button", name="Save draft").click()

    order = SalesOrder.objects.get(customer_po="PO-JOURNEY-7")
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(page.get_by_text(f"Order {order.number} created.")).to_be_visible()
    lines = page.get_by_test_id("order-lines")
    expect(lines).to_contain_text("Material")
    expect(lines).to_contain_text("aluminium")
    expect(lines).to_contain_text("3 mm")

    # Confirm it from the order page.
    page.get_by_test_id("order-actions").get_by_role("button", name="Confirm").click()
    expect(page.get_by_test_id("order-status")).to_have_text("Confirmed")
    screenshot(page, "detail")

    # Find it in the list through the search box: the table updates in place and the URL follows.
    page.locator("nav.navbar").get_by_role("link", name="Orders", exact=True).click()
    # The live search listens once htmx has set the page up (deferred script): a script types faster than
    # a person, so it waits for the page's load event before typing.
    page.wait_for_load_state()
    table = page.get_by_test_id("order-table")
    expect(table).to_contain_text("PO-OLD")
    expect(table).not_to_contain_text("PO-SAMS")  # another sales person's order
    page.locator("#id_q").fill("JOURNEY")
    expect(table).not_to_contain_text("PO-OLD")
    expect(table).to_contain_text(order.number)
    expect(page).to_have_url(re.compile(r"[?&]q=JOURNEY"))
    screenshot(page, "list")

    # Its history says who confirmed it and what changed. A search request still in flight would swap the
    # table under the click (the link clicked is then gone): wait until htmx has none running.
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    table.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/"))
    history = page.get_by_test_id("order-history")
    expect(history).to_contain_text("sally")
    expect(history).to_contain_text("Draft → Confirmed")
    expect(history).to_contain_text("Order entered")

    # Switch to Chinese: the page comes back in zh-hans, spec labels in the family's Chinese words.
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("order-lines")).to_contain_text("材质")

    # Django's own catalogue speaks Chinese on the login page too.
    page.get_by_test_id("user-menu").click()
    page.locator("form[action='/accounts/logout/'] button").click()
    page.goto("/accounts/login/")
    log_in(page, "sally", "wrong-password")
    expect(page.locator("main")).to_contain_text("请输入一个正确的")
