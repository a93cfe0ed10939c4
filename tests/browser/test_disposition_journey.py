"""In a real browser: a planner logs in, lands on the production plan, and settles work that a cancelled
order left on hold pending its disposition; the work order leaves its hold."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders import change_requests as crs
from production.changes.models import ChangeDisposition
from production.work_orders import WorkOrderStatus
from tests.browser.test_sales_journey import log_in
from tests.factories import UserFactory
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, report

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)


def test_a_planner_scraps_work_a_cancelled_order_left_on_hold(page, screenshot):
    sally = UserFactory(username="sally", role="sales")
    pat = UserFactory(username="pat", role="planner")
    morgan = UserFactory(username="morgan", role="production_manager")
    order = released_order(sally, pat, make_line(pat, lot_size="5"))
    started = order.work_orders.order_by("number").first()
    report(pat, started, good=2)
    cr = approved(sally, pat, order, [{"op": "cancel"}], manager=morgan, disposition="scrap")
    crs.change_request_apply(actor=morgan, change_request=cr)
    row = ChangeDisposition.objects.get()

    page.goto("/accounts/login/")
    log_in(page, "pat")
    expect(page.get_by_role("heading", name="Production plan")).to_be_visible()
    decision = page.get_by_test_id(f"disposition-{row.pk}")
    expect(decision).to_contain_text(started.number)
    screenshot(page, "dispositions")
    decision.locator("select[name=decision]").select_option("scrap")
    decision.locator("input[name=reason]").fill("Customer cancelled: nobody else takes this size")
    decision.get_by_role("button", name="Decide").click()

    expect(page.get_by_test_id("open-dispositions")).to_contain_text("No disposition waiting for a decision.")
    assert fresh(started).status == WorkOrderStatus.CANCELLED
    assert ChangeDisposition.objects.get().decided_by == pat
