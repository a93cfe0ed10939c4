"""A work center's board on the floor's TV: it refreshes itself (htmx polling its live part) under the
Content-Security-Policy, in English and Chinese."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from production import master_data
from tests.browser.test_content_security_policy import visit, watch
from tests.browser.test_sales_journey import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_board_refreshes_itself_with_no_csp_violation(page, settings, screenshot):
    settings.BOARD_REFRESH_SECONDS = 5
    pat = UserFactory(username="pat", role="planner")
    master_data.work_center_create(
        actor=pat, code="PRESS", name="Press line", units=1, efficiency="1.00", shifts=[]
    )
    violations = watch(page)

    visit(page, "/boards/")
    log_in(page, "pat")
    page.get_by_test_id("board-link-PRESS").click()
    expect(page.get_by_role("heading", name="Running now")).to_be_visible()
    first = page.get_by_test_id("board-updated").inner_text()
    with page.expect_response(lambda response: "/boards/PRESS/live/" in response.url, timeout=12_000):
        pass
    expect(page.get_by_test_id("board-updated")).not_to_have_text(first, timeout=5_000)
    screenshot(page, "board-en")

    page.get_by_role("button", name="简体中文").click()
    expect(page.get_by_role("heading", name="正在生产")).to_be_visible()
    with page.expect_response(lambda response: "/boards/PRESS/live/" in response.url, timeout=12_000):
        pass
    expect(page.get_by_role("heading", name="最近报工")).to_be_visible()
    screenshot(page, "board-zh-hans")
    assert violations == []
