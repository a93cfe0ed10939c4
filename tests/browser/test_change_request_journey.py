"""A change in a real browser: sales requests it from a locked order (htmx rows), the planner decides it
from the inbox with the impact in view, applies it, and the order shows the new revision."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from orders.models import ChangeRequest
from orders.sales import transitions
from tests.browser.test_sales_journey import log_in
from tests.factories import UserFactory, make_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)


def test_sales_requests_a_change_and_the_planner_approves_and_applies_it(page, screenshot):
    sally = UserFactory(username="sally", role="sales")
    pat = UserFactory(username="pat", role="planner")
    order = transitions.order_release(actor=pat, order=make_order(owner=sally, confirmed=True))

    page.goto("/accounts/login/")
    log_in(page, "sally")
    page.goto(f"/orders/{order.number}/")
    page.get_by_test_id("lock-request-change").click()
    page.locator("#id_reason").fill("Customer needs two more")
    # Choosing the op brings its inputs (htmx): a line and a new quantity.
    page.locator("#id_changes-0-op").select_option("set_quantity")
    expect(page.locator("#id_changes-0-line_no")).to_be_visible()
    page.locator("#id_changes-0-line_no").select_option("1")
    page.locator("#id_changes-0-quantity").fill("12")
    screenshot(page, "cr-form")
    page.get_by_role("button", name="Submit for approval").click()
    expect(page).to_have_url(re.compile(r"/change-requests/CR-\d+/$"))
    cr = ChangeRequest.objects.get()
    expect(page.get_by_test_id("cr-status")).to_have_text("Submitted")
    expect(page.get_by_test_id("cr-diff")).to_contain_text("12")

    page.get_by_test_id("user-menu").click()
    page.locator("form[action='/accounts/logout/'] button").click()
    page.goto("/accounts/login/")
    log_in(page, "pat")
    page.get_by_test_id("nav-change-requests").click()
    inbox = page.get_by_test_id("change-request-inbox")
    expect(inbox).to_contain_text(order.number)
    inbox.get_by_role("link", name=cr.number).click()
    expect(page.get_by_test_id("cr-impact")).to_contain_text(f"{order.number}-01")
    screenshot(page, "cr-page")
    page.locator("#id_comment").fill("Capacity is there")
    page.get_by_test_id("cr-action-approve").click()
    expect(page.get_by_test_id("cr-status")).to_have_text("Approved")
    page.get_by_test_id("cr-action-apply").click()
    expect(page.get_by_test_id("cr-status")).to_have_text("Applied")

    page.goto(f"/orders/{order.number}/")
    expect(page.get_by_test_id("order-lines")).to_contain_text("12")
    expect(page.get_by_test_id("panel-change-requests")).to_contain_text("Applied")
    expect(page.get_by_test_id("order-history")).to_contain_text(cr.number)
