"""Shop-floor boards: per work center, for a TV on the floor — what runs, what waits next, what is late, the
last reports — refreshing itself, in a fixed number of queries."""

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from orders.sales import transitions
from production.work_orders import (
    ExceptionKind,
    WorkOrder,
    WorkOrderOperation,
    exception_raise,
    progress_report_create,
    work_order_transition,
)
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def press(planner):
    return make_work_center(planner, "PRESS")


def release(sales, planner, press) -> WorkOrder:
    product = ProductFactory()
    make_routing(planner, product, [(press, 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = WorkOrder.objects.get(order=order)
    return work_order_transition(actor=planner, work_order=work_order, name="release")


def plan(work_order: WorkOrder, start: dt.datetime, hours: int = 1) -> WorkOrderOperation:
    operation = work_order.operations.get()
    WorkOrderOperation.objects.filter(pk=operation.pk).update(
        scheduled_start=start, scheduled_end=start + dt.timedelta(hours=hours)
    )
    return operation


def test_the_board_shows_what_runs_what_waits_next_and_what_is_late(sales, planner, press):
    now = timezone.now()
    running, waiting, late = (release(sales, planner, press) for _ in range(3))
    plan(running, now - dt.timedelta(minutes=30))
    plan(waiting, now + dt.timedelta(hours=2))
    plan(late, now - dt.timedelta(hours=5))
    progress_report_create(
        actor=planner, operation=running.operations.get(), message_id="r-1", good_quantity=3
    )
    page = client_for(planner).get("/boards/PRESS/")
    assert page.status_code == 200
    content = page.content.decode()
    running_part = content.split('id="board-running"')[1].split('id="board-late"')[0]
    late_part = content.split('id="board-late"')[1].split('id="board-next"')[0]
    next_part = content.split('id="board-next"')[1].split('id="board-reports"')[0]
    assert running.number in running_part and waiting.number not in running_part
    assert late.number in late_part and waiting.number not in late_part
    assert waiting.number in next_part and late.number not in next_part


def test_the_last_reports_and_exceptions_show_newest_first(sales, planner, press):
    work_order = release(sales, planner, press)
    operation = plan(work_order, timezone.now())
    progress_report_create(
        actor=planner,
        operation=operation,
        message_id="r-1",
        good_quantity=2,
        scrap_quantity=1,
        reported_at=timezone.now() - dt.timedelta(minutes=10),
    )
    exception_raise(actor=planner, kind=ExceptionKind.MACHINE_BREAKDOWN, work_center=press)
    content = client_for(planner).get("/boards/PRESS/").content.decode()
    reports = content.split('id="board-reports"')[1]
    assert "Machine breakdown" in reports
    assert work_order.number in reports
    assert "Scrap 1" in reports


def test_the_board_refreshes_itself_by_polling_its_live_part(planner, press, settings):
    settings.BOARD_REFRESH_SECONDS = 20
    content = client_for(planner).get("/boards/PRESS/").content.decode()
    assert 'hx-get="/boards/PRESS/live/"' in content
    assert 'hx-trigger="every 20s"' in content
    live = client_for(planner).get("/boards/PRESS/live/", headers={"HX-Request": "true"})
    assert live.status_code == 200
    assert live.content.decode().lstrip().startswith('<div id="board-live"')
    assert "<html" not in live.content.decode()


def test_the_board_speaks_chinese(planner, press):
    client = client_for(planner)
    content = client.get("/boards/PRESS/", headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "正在生产" in content and "已延误" in content and "最近报工" in content


def test_the_chinese_board_names_the_operations_in_chinese(sales, planner, press):
    operation = plan(release(sales, planner, press), timezone.now() + dt.timedelta(hours=1))
    WorkOrderOperation.objects.filter(pk=operation.pk).update(name="Stamping", name_zh="冲压")

    content = (
        client_for(planner).get("/boards/PRESS/", headers={"Accept-Language": "zh-hans"}).content.decode()
    )

    assert "冲压" in content and "Stamping" not in content


def test_the_board_index_lists_the_work_centers(planner, press):
    content = client_for(planner).get("/boards/").content.decode()
    assert 'href="/boards/PRESS/"' in content


def test_the_board_reads_in_a_few_queries_whatever_the_work(
    sales, planner, press, django_assert_max_num_queries
):
    now = timezone.now()
    for index in range(12):
        work_order = release(sales, planner, press)
        operation = plan(work_order, now + dt.timedelta(hours=index - 6))
        if index % 3 == 0:
            progress_report_create(
                actor=planner, operation=operation, message_id=f"m-{index}", good_quantity=1
            )
    client = client_for(planner)
    client.get("/boards/PRESS/live/")  # warm the session and permission caches
    with django_assert_max_num_queries(10):
        response = client.get("/boards/PRESS/live/")
    assert response.content.decode().count('data-testid="board-next-row"') >= 1


def test_sales_and_outsiders_may_not_see_the_boards(sales, outsider, press):
    for user in (sales, outsider):
        client = client_for(user)
        assert client.get("/boards/").status_code == 403
        assert client.get("/boards/PRESS/").status_code == 403
        assert client.get("/boards/PRESS/live/").status_code == 403


def test_production_managers_see_the_boards(manager, press):
    assert client_for(manager).get("/boards/PRESS/").status_code == 200


def test_an_unknown_work_center_is_a_404(planner):
    assert client_for(planner).get("/boards/NOPE/").status_code == 404
