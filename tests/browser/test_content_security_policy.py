"""Every main page of a sales person and a planner runs under the Content-Security-Policy with no
violation: no inline script or style, no resource from elsewhere (htmx swaps and Bootstrap included)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from orders.models import OrderStatus, SalesOrder
from tests.browser.test_sales_journey import log_in
from tests.factories import UserFactory, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# Runs before any page script (Playwright's init scripts are not subject to the page's CSP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.warn(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}`);
});
"""


def watch(page) -> list[str]:
    violations: list[str] = []
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "CSP violation" in message.text or "Content Security Policy" in message.text
            else None
        ),
    )
    return violations


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")


def test_a_sales_persons_pages_cause_no_csp_violation(page):
    sally = UserFactory(username="sally", role="sales")
    order = make_order(owner=sally)
    violations = watch(page)

    visit(page, "/orders/")
    log_in(page, "sally")
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    page.get_by_test_id("user-menu").click()  # Bootstrap's dropdown
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("CRM")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_test_id("new-token")).to_be_visible()
    for path in (
        "/orders/new/",
        f"/orders/{order.number}/",
        "/service/",
        "/notifications/",
        "/orders/import/",
    ):
        visit(page, path)
    page.goto("/orders/new/")
    page.get_by_role("button", name="Add line").click()  # an htmx swap
    page.wait_for_load_state("networkidle")

    assert violations == []


def test_a_planners_pages_cause_no_csp_violation(page):
    UserFactory(username="pat", role="planner")
    sally = UserFactory(username="sally", role="sales")
    order = make_order(owner=sally)
    SalesOrder.objects.filter(pk=order.pk).update(status=OrderStatus.CONFIRMED)
    violations = watch(page)

    visit(page, "/production/")
    log_in(page, "pat")
    page.wait_for_load_state("networkidle")
    for path in (
        "/production/kpis/",
        "/change-requests/",
        f"/orders/{order.number}/",
        "/account/api-tokens/",
    ):
        visit(page, path)

    assert violations == []
