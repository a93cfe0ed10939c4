"""In a real browser: a production manager completes an order with work unfinished. The order page offers
"Complete…" (not a one-click button), the confirmation page lists what is unfinished and asks for a reason
and a confirmation; only then is the order completed and Ship offered. No script runs on the way."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import OrderStatus, SalesOrder
from tests.browser.test_sales_journey import log_in
from tests.factories import UserFactory
from tests.orders.change_requests.cr_helpers import finish, make_line, released_order

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)


def test_a_manager_completes_an_unfinished_order_only_after_confirming_what_is_unfinished(page, screenshot):
    sally = UserFactory(username="sally", role="sales")
    pat = UserFactory(username="pat", role="planner")
    UserFactory(username="morgan", role="production_manager")
    order = released_order(sally, pat, make_line(pat), lines=2)
    done, unfinished = order.work_orders.order_by("number")
    finish(pat, done)

    page.goto("/accounts/login/")
    log_in(page, "morgan")
    page.goto(f"/orders/{order.number}/")
    actions = page.get_by_test_id("order-actions")
    expect(actions.get_by_role("button", name="Ship")).to_have_count(0)
    actions.get_by_test_id("override-complete").click()

    expect(page.get_by_test_id("override-unfinished")).to_contain_text(unfinished.number)
    expect(page.get_by_test_id("override-unfinished")).not_to_contain_text(done.number)
    screenshot(page, "override")
    page.get_by_test_id("override-submit").click()  # nothing filled in: refused, nothing changed
    expect(page.locator("#id_reason_error")).to_be_visible()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.IN_PRODUCTION

    page.locator("#id_reason").fill("Customer collects the finished half now")
    page.locator("#id_confirm").check()
    page.get_by_test_id("override-submit").click()

    expect(page.get_by_test_id("order-status")).to_have_text("Completed")
    expect(page.get_by_test_id("order-actions").get_by_role("button", name="Ship")).to_be_visible()
    assert SalesOrder.objects.get(pk=order.pk).history.first().history_user.username == "morgan"
