"""The operator's phone (390 x 844) in a real browser: open an operation by its QR code's URL, sign in by
badge and PIN, start, report a partial quantity with a scrap reason, finish; then, with the network gone,
report three times, and when it is back exactly three reports land. In English and in Chinese."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.db import connections
from playwright.sync_api import expect

from orders.sales import transitions
from production import floor, master_data, work_orders
from production.master_data import Plant, PlantMode
from production.work_orders import OperationStatus, ProgressReport, WorkOrderOperation
from tests.browser.conftest import CHROMIUM_ARGS
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import require_chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PIN = "2468"


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)
    monkeypatch.setattr(tasks.plan_fast, "apply_async", lambda *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _forget_floor_centers():
    yield
    master_data.floor_centers_forget()


@pytest.fixture
def phone_context(live_server) -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 390, "height": 844}, has_touch=True, locale="en-US"
        )
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()
            browser.close()
            connections.close_all()


def floor_work(language: str):
    admin = UserFactory(username="ada", role="admin")
    master_data.plant_save(
        actor=admin,
        plant=Plant(code="P1", name="Plant 1", mode=PlantMode.FLOOR, floor_language=language),
        reason="test",
    )
    operator = UserFactory(username="olivia", role="operator", first_name="Olivia")
    floor.operator_badge_set(user=operator, badge="1001", pin=PIN)
    floor.ReasonCode.objects.create(
        code="S-DIM",
        kind=floor.ReasonKind.SCRAP,
        name_en="Dimension out of tolerance",
        name_zh_hans="尺寸超差",
    )
    planner, sales = UserFactory(username="pat", role="planner"), UserFactory(username="sally", role="sales")
    product = ProductFactory()
    make_routing(
        planner,
        product,
        [(make_work_center(planner, "CUT"), 0, "1"), (make_work_center(planner, "BEND"), 0, "1")],
    )
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    return list(WorkOrderOperation.objects.filter(work_order=work_order).order_by("sequence"))


@pytest.mark.parametrize(
    ("language", "sign_in", "send", "scrap_reason"),
    [
        ("en", "Sign in", "Send report", "Dimension out of tolerance"),
        ("zh-hans", "登录", "提交报工", "尺寸超差"),
    ],
)
def test_an_operator_reports_by_phone_and_offline_reports_land_once(
    phone_context, screenshot, language, sign_in, send, scrap_reason
):
    cut, bend = floor_work(language)
    page = phone_context.new_page()

    # The QR code's URL: the badge sign-in first, then back to the operation.
    page.goto(f"/floor/operations/{cut.pk}/")
    page.get_by_test_id("badge").fill("1001")
    page.get_by_test_id("pin").fill(PIN)
    expect(page.get_by_test_id("sign-in")).to_have_text(sign_in)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("remaining")).to_have_text("10")
    expect(page.get_by_test_id("send-report")).to_have_text(send)
    screenshot(page, f"floor-operation-{language}")

    page.get_by_test_id("start").click()
    expect(page.get_by_test_id("op-status")).to_have_text(
        str(OperationStatus.STARTED.label) if language == "en" else "已开工"
    )

    page.get_by_test_id("good").fill("3")
    page.get_by_test_id("scrap").fill("1")
    page.get_by_test_id("scrap-reason").select_option(label=scrap_reason)
    page.get_by_test_id("send-report").click()
    expect(page.get_by_test_id("remaining")).to_have_text("6")

    # A full finish: two taps.
    page.get_by_test_id("finish-all").click()
    page.get_by_test_id("confirm-finish").click()
    expect(page.get_by_test_id("remaining")).to_have_text("0")
    cut = WorkOrderOperation.objects.get(pk=cut.pk)
    assert cut.status == OperationStatus.COMPLETED
    assert (cut.good_quantity, cut.scrap_quantity) == (Decimal(9), Decimal(1))

    # The next operation, with the network gone: three reports wait on the phone (two partial ones, then
    # the two-tap finish, whose rest is counted when it lands after the other two).
    page.goto(f"/floor/operations/{bend.pk}/")
    expect(page.get_by_test_id("previous-output")).to_contain_text("9")
    phone_context.set_offline(True)
    for _ in range(2):
        page.get_by_test_id("good").fill("1")
        page.get_by_test_id("send-report").click()
    expect(page.get_by_test_id("remaining")).to_have_text("7")
    page.get_by_test_id("finish-all").click()
    page.get_by_test_id("confirm-finish").click()
    expect(page.get_by_test_id("pending-count")).to_have_text("3")
    assert not ProgressReport.objects.filter(operation=bend).exists()
    screenshot(page, f"floor-offline-{language}")

    phone_context.set_offline(False)
    expect(page.get_by_test_id("pending")).to_be_hidden(timeout=20_000)
    expect(page.get_by_test_id("remaining")).to_have_text("0")
    assert floor.FloorReport.objects.filter(operation=bend).count() == 3
    assert ProgressReport.objects.filter(operation=bend).count() == 3
    bend = WorkOrderOperation.objects.get(pk=bend.pk)
    assert (bend.status, bend.good_quantity) == (OperationStatus.COMPLETED, 9)


def test_a_page_never_opened_on_the_phone_shows_the_offline_page_without_network(phone_context):
    cut, bend = floor_work("zh-hans")
    page = phone_context.new_page()
    page.goto(f"/floor/operations/{cut.pk}/")
    page.get_by_test_id("badge").fill("1001")
    page.get_by_test_id("pin").fill(PIN)
    page.get_by_test_id("sign-in").click()
    expect(page.get_by_test_id("remaining")).to_have_text("10")
    # The service worker runs the floor's pages and has kept the offline page (for this operator).
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.reload()
    page.wait_for_function(
        "() => caches.open('orderbridge-floor-v1').then((c) => c.match('/floor/offline/')).then(Boolean)"
    )

    phone_context.set_offline(True)
    page.goto(f"/floor/operations/{bend.pk}/")

    expect(page.get_by_test_id("floor-offline")).to_contain_text("没有网络")
    expect(page.get_by_test_id("operator-name")).to_have_text("Olivia")

    phone_context.set_offline(False)
    page.get_by_test_id("retry").click()
    expect(page.get_by_test_id("previous-output")).to_be_visible()
