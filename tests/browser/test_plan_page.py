"""In a real browser: a planner reads the plan page (legend, time axis, heat map), clicks a Gantt bar, holds
its work order from the panel and resumes it; the same in Chinese."""

from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect

from orders.sales import transitions
from production.scheduling import schedule_run
from production.work_orders import WorkOrderStatus
from tests.browser.test_sales_journey import log_in
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(tasks.plan_fast, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture
def planned():
    sally = UserFactory(username="sally", role="sales")
    pat = UserFactory(username="pat", role="planner")
    product = ProductFactory()
    make_routing(pat, product, [(make_work_center(pat, "PRESS", units=2), 0, "60")])
    order = transitions.order_release(
        actor=pat, order=make_order(owner=sally, product=product, confirmed=True)
    )
    schedule_run(actor=pat, trigger="test")
    return order.work_orders.get()


def _labels_do_not_overlap(page) -> None:
    boxes = page.locator("#gantt text.ob-gantt-tick").evaluate_all(
        "nodes => nodes.map(n => { const b = n.getBBox(); return [b.y, b.x, b.x + b.width]; })"
    )
    assert boxes, "the time axis has labels"
    for row in {y for y, _, _ in boxes}:
        spans = sorted((left, right) for y, left, right in boxes if y == row)
        assert all(right <= next_left for (_, right), (next_left, _) in itertools.pairwise(spans)), spans


@pytest.mark.parametrize(
    ("language", "hold", "resume", "held_label"),
    [("English", "Hold", "Resume", "On hold"), ("简体中文", "暂停", "恢复", "已暂停")],
)
def test_a_planner_clicks_a_bar_and_holds_its_work_order(
    page, screenshot, planned, language, hold, resume, held_label
):
    page.goto("/production/")
    log_in(page, "pat")
    if language != "English":
        page.get_by_role("button", name=language).click()
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("gantt-legend")).to_be_visible()
    expect(page.get_by_test_id("load-heatmap")).to_contain_text("%")
    for zoom in ("?zoom=week", "?zoom=day"):
        page.goto(f"/production/{zoom}")
        expect(page.locator("#gantt rect.ob-bar").first).to_be_visible()
        _labels_do_not_overlap(page)
    screenshot(page, f"plan-page-{language}")

    page.locator(f"#gantt rect[data-number='{planned.number}']").click()
    panel = page.get_by_test_id("work-order-panel")
    expect(panel).to_contain_text(planned.number)
    panel.locator("input[name=reason]").first.fill("Die change")
    panel.get_by_role("button", name=hold, exact=True).click()
    expect(panel.get_by_test_id("wo-status")).to_have_text(held_label)
    assert type(planned).objects.get(pk=planned.pk).status == WorkOrderStatus.ON_HOLD
    screenshot(page, f"plan-panel-{language}")

    panel.get_by_role("button", name=resume, exact=True).click()
    expect(panel.get_by_test_id("wo-status")).not_to_have_text(held_label)
    assert type(planned).objects.get(pk=planned.pk).status != WorkOrderStatus.ON_HOLD
