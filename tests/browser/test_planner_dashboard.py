"""A planner reads the KPI dashboard in a real browser: the figures, a chart, a filter, a download."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import CustomerTier, SalesOrder
from tests.browser.test_sales_journey import log_in
from tests.factories import CustomerFactory, UserFactory, make_order

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_planner_reads_the_dashboard_filters_it_and_downloads_a_table(page, screenshot):
    UserFactory(username="pat", role="planner")
    sales = UserFactory(username="sally", role="sales")
    vip = CustomerFactory(name="Harbour Cranes Ltd", tier=CustomerTier.VIP)
    today = timezone.localdate()
    for offset, customer in ((-1, None), (2, vip)):
        order = make_order(owner=sales, customer=customer)
        shipped = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=3), dt.time(12)))
        SalesOrder.objects.filter(pk=order.pk).update(
            status="shipped", shipped_at=shipped, promised_date=today - dt.timedelta(days=3 + offset)
        )

    page.goto("/production/kpis/")
    log_in(page, "pat")
    page.locator("nav.navbar").get_by_role("link", name="KPIs").click()
    expect(page.get_by_role("heading", name="KPI dashboard")).to_be_visible()

    on_time = page.get_by_test_id("kpi-section-on_time")
    expect(on_time.get_by_text("On-time delivery rate", exact=True)).to_be_visible()
    expect(on_time.get_by_test_id("kpi-figure").nth(1)).to_contain_text("50.0")
    expect(on_time.get_by_text("on or before the promised date")).to_be_visible()
    expect(on_time.get_by_test_id("kpi-chart").first).to_be_visible()
    # No change request in the period: the section shows its definition and zero requests, not a guess.
    expect(page.get_by_test_id("kpi-section-change_response")).to_contain_text("Submitted")
    screenshot(page, "kpi-dashboard")

    # Only VIP customers: their one order was late.
    page.locator("#kpi-tier").select_option("vip")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"[?&]tier=vip"))
    expect(page.get_by_test_id("kpi-section-on_time").get_by_test_id("kpi-figure").nth(1)).to_contain_text(
        "0.0"
    )

    on_time = page.get_by_test_id("kpi-section-on_time")
    on_time.get_by_text("On-time delivery per week").click()
    with page.expect_download() as download:
        on_time.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.startswith("kpi-on_time_weekly")
