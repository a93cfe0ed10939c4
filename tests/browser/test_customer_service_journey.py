"""Customer service in a real browser: find an order by the customer's PO and by a lot number, share a
tracking link; then the customer opens that link on a phone, in Chinese, and switches to English."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from orders.sales import transitions
from production import master_data, work_orders
from tests.factories import CustomerFactory, UserFactory, complete_by_hand, make_order

pytestmark = [
    pytest.mark.browser,
    # Transactional: the live server's thread must see the test's data (see test_sales_journey.py).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PASSWORD = "pass-w0rd!"  # the factories' password
PHONE = {"width": 390, "height": 844}


def log_in(page, username: str) -> None:
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()


def test_customer_service_finds_an_order_shares_its_link_and_the_customer_opens_it_on_a_phone(
    page, screenshot
):
    UserFactory(username="cass", first_name="Cass", role="customer_service")
    sally = UserFactory(username="sally", first_name="Sally", last_name="Chen", role="sales")
    planner = UserFactory(username="pat", role="planner")
    customer = CustomerFactory(name="Harbour Cranes Ltd", language="zh-hans")
    order = make_order(
        owner=sally, customer=customer, customer_po="PO-HC-4711", confirmed=True, remarks="Thin margin"
    )
    admin = UserFactory(username="ada", role="admin")
    press = master_data.work_center_create(
        actor=admin, code="PRESS", name="Press", shifts=[(day, dt.time(0), dt.time(0)) for day in range(7)]
    )
    master_data.routing_create(
        actor=admin,
        product=order.lines.get().product,
        operations=[{"sequence": 10, "name": "Press", "work_center": press, "run_minutes_per_unit": 2}],
    )
    order = transitions.order_release(actor=planner, order=order)
    # The plant made some parts and recorded a lot of them.
    work_order = order.work_orders.first()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    work_orders.progress_report_create(
        actor=planner,
        operation=work_order.operations.order_by("sequence").first(),
        message_id="made-1",
        good_quantity=5,
    )
    work_orders.lot_create(actor=planner, work_order=work_order, number="L-2026-0815", quantity=5)
    make_order(owner=sally, customer_po="PO-OTHER")

    # The agent searches the customer's PO from the desk in the navbar.
    page.goto("/service/")
    log_in(page, "cass")
    expect(page.get_by_role("heading", name="Service desk")).to_be_visible()
    page.locator("#desk-q").fill("PO-HC")
    results = page.get_by_test_id("desk-results")
    expect(results).to_contain_text(order.number)
    expect(results).not_to_contain_text("PO-OTHER")

    # An after-sales complaint quotes a lot: the same order comes up, saying why.
    page.locator("#desk-q").fill("0815")
    expect(results).to_contain_text("lot: L-2026-0815")
    screenshot(page, "desk")
    results.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.number}/$"))
    expect(page.get_by_test_id("panel-at-a-glance")).to_contain_text("L-2026-0815")

    # The agent shares a tracking link: created in place, ready to copy.
    panel = page.get_by_test_id("panel-tracking-link")
    panel.locator("#tracking-expiry").select_option("7")
    panel.get_by_test_id("tracking-link-create").click()
    url_box = panel.get_by_test_id("tracking-url")
    expect(url_box).to_have_value(re.compile(r"/track/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/$"))
    link = url_box.input_value()
    # The whole link reads in its box: none of it hidden behind the edge.
    assert url_box.evaluate(
        "box => box.scrollWidth <= box.clientWidth && box.scrollHeight <= box.clientHeight"
    ), "the link is cut off in its box"
    screenshot(page, "tracking-panel")

    # The customer, not logged in, opens it on a phone: in the customer's language, Chinese.
    page.get_by_test_id("user-menu").click()
    page.locator("form[action='/accounts/logout/'] button").click()
    page.set_viewport_size(PHONE)
    page.goto(link)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("tracking-status")).to_have_text("生产中")
    expect(page.get_by_test_id("tracking-milestones")).to_contain_text("订单已确认")
    summary = page.get_by_test_id("tracking-summary")
    expect(summary).to_contain_text("PO-HC-4711")
    expect(page.locator("main")).not_to_contain_text("Thin margin")
    expect(page.locator("main")).not_to_contain_text("Sally")
    # Made for the phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "tracking-phone-zh")

    # The customer prefers English.
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("tracking-status")).to_have_text("In production")
    expect(page.get_by_test_id("tracking-milestones")).to_contain_text("Order confirmed")


def test_a_customer_whose_phone_keeps_no_cookies_rates_the_delivered_order(page, screenshot):
    from orders.tracking import services as tracking

    sally = UserFactory(username="sally", role="sales")
    planner = UserFactory(username="pat", role="planner")
    manager = UserFactory(username="morgan", role="production_manager")
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sally, customer=CustomerFactory(language="en"), confirmed=True)
    )
    order = transitions.order_ship(actor=manager, order=complete_by_hand(order))
    link = tracking.tracking_link_create(actor=sally, order=order)

    page.set_viewport_size(PHONE)
    page.goto(tracking.tracking_path(link))
    assert page.context.cookies() == []  # the page sets none...
    # ...and the phone would not keep one anyway (a locked-down phone, a browser inside a mail app).
    page.context.route("**/*", lambda route: route.continue_(headers={**route.request.headers, "cookie": ""}))
    rating = page.get_by_test_id("tracking-rating")
    rating.locator("label[for=score-4]").click()
    rating.locator("#rating-comment").fill("On time, well packed")
    rating.get_by_role("button", name="Send rating").click()
    expect(page.get_by_test_id("tracking-rating")).to_contain_text("Thank you for your rating.")
    expect(page.get_by_test_id("tracking-rating")).to_contain_text("On time, well packed")
    screenshot(page, "tracking-rated-phone")
    assert order.rating.score == 4
